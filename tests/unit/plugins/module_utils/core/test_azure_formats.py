# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure's real formats read by the maintained libraries that replaced hand-written parsers (issue 18):
isodate (times with seven fractional digits, durations such as PT41M16.2S), azure-mgmt-core's
parse_resource_id (ARM ids, Backup's protected-item ids), tzlocal's CLDR table (every Windows time zone
Azure Backup accepts) and the SDKs' cloud settings."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import cloud, transform
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs, restores, schedule, vms
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import backup

# Every Windows time zone id Azure Backup accepts as a policy's timeZone: Windows' list (tzutil /l, which
# the portal offers), as emulator/handlers/policies.py TIME_ZONES has it, and the display name of UTC.
AZURE_TIME_ZONES = """AUS Central Standard Time|AUS Eastern Standard Time|Afghanistan Standard Time|Alaskan Standard Time
Aleutian Standard Time|Altai Standard Time|Arab Standard Time|Arabian Standard Time|Arabic Standard Time
Argentina Standard Time|Astrakhan Standard Time|Atlantic Standard Time|Aus Central W. Standard Time
Azerbaijan Standard Time|Azores Standard Time|Bahia Standard Time|Bangladesh Standard Time
Belarus Standard Time|Bougainville Standard Time|Canada Central Standard Time|Cape Verde Standard Time
Caucasus Standard Time|Cen. Australia Standard Time|Central America Standard Time|Central Asia Standard Time
Central Brazilian Standard Time|Central Europe Standard Time|Central European Standard Time
Central Pacific Standard Time|Central Standard Time|Central Standard Time (Mexico)
Chatham Islands Standard Time|China Standard Time|Coordinated Universal Time|Cuba Standard Time
Dateline Standard Time|E. Africa Standard Time|E. Australia Standard Time|E. Europe Standard Time
E. South America Standard Time|Easter Island Standard Time|Eastern Standard Time
Eastern Standard Time (Mexico)|Egypt Standard Time|Ekaterinburg Standard Time|FLE Standard Time
Fiji Standard Time|GMT Standard Time|GTB Standard Time|Georgian Standard Time|Greenland Standard Time
Greenwich Standard Time|Haiti Standard Time|Hawaiian Standard Time|India Standard Time|Iran Standard Time
Israel Standard Time|Jordan Standard Time|Kaliningrad Standard Time|Kamchatka Standard Time
Korea Standard Time|Libya Standard Time|Line Islands Standard Time|Lord Howe Standard Time
Magadan Standard Time|Magallanes Standard Time|Marquesas Standard Time|Mauritius Standard Time
Mid-Atlantic Standard Time|Middle East Standard Time|Montevideo Standard Time|Morocco Standard Time
Mountain Standard Time|Mountain Standard Time (Mexico)|Myanmar Standard Time|N. Central Asia Standard Time
Namibia Standard Time|Nepal Standard Time|New Zealand Standard Time|Newfoundland Standard Time
Norfolk Standard Time|North Asia East Standard Time|North Asia Standard Time|North Korea Standard Time
Omsk Standard Time|Pacific SA Standard Time|Pacific Standard Time|Pacific Standard Time (Mexico)
Pakistan Standard Time|Paraguay Standard Time|Qyzylorda Standard Time|Romance Standard Time
Russia Time Zone 10|Russia Time Zone 11|Russia Time Zone 3|Russian Standard Time|SA Eastern Standard Time
SA Pacific Standard Time|SA Western Standard Time|SE Asia Standard Time|Saint Pierre Standard Time
Sakhalin Standard Time|Samoa Standard Time|Sao Tome Standard Time|Saratov Standard Time
Singapore Standard Time|South Africa Standard Time|South Sudan Standard Time|Sri Lanka Standard Time
Sudan Standard Time|Syria Standard Time|Taipei Standard Time|Tasmania Standard Time|Tocantins Standard Time
Tokyo Standard Time|Tomsk Standard Time|Tonga Standard Time|Transbaikal Standard Time|Turkey Standard Time
US Eastern Standard Time|US Mountain Standard Time|UTC|UTC+12|UTC+13|UTC-02|UTC-08|UTC-09|UTC-11
Ulaanbaatar Standard Time|Venezuela Standard Time|Vladivostok Standard Time|Volgograd Standard Time
W. Australia Standard Time|W. Central Africa Standard Time|W. Europe Standard Time|W. Mongolia Standard Time
West Asia Standard Time|West Bank Standard Time|West Pacific Standard Time|Yakutsk Standard Time""".replace("\n", "|").split("|")

UTC = timezone.utc


@pytest.mark.parametrize("text, expected", [
    # Azure Backup job times: seven fractional digits (az CLI recordings), truncated to microseconds
    ("2024-05-13T10:18:05.7330616Z", datetime(2024, 5, 13, 10, 18, 5, 733061, tzinfo=UTC)),
    ("2024-05-13T10:18:05.0000001Z", datetime(2024, 5, 13, 10, 18, 5, 0, tzinfo=UTC)),
    # truncated, never rounded into the next second (isodate 0.6.1, the requirements' floor, rounds)
    ("2024-05-13T10:18:59.9999996Z", datetime(2024, 5, 13, 10, 18, 59, 999999, tzinfo=UTC)),
    ("2024-05-13T10:18:05.7330616+00:00", datetime(2024, 5, 13, 10, 18, 5, 733061, tzinfo=UTC)),
    ("2024-05-13T12:18:05.5+02:00", datetime(2024, 5, 13, 10, 18, 5, 500000, tzinfo=UTC)),
    ("2024-05-13T05:48:05-04:30", datetime(2024, 5, 13, 10, 18, 5, tzinfo=UTC)),
    ("2024-05-13T10:18:05", datetime(2024, 5, 13, 10, 18, 5, tzinfo=UTC)),          # no zone: UTC
    ("2024-05-13 10:18:05", datetime(2024, 5, 13, 10, 18, 5, tzinfo=UTC)),          # space for the T
    ("0001-01-01T00:00:00Z", None), ("0001-01-01T00:00:00", None),                  # Azure's "never"
    ("2030-02-30T00:00:00Z", None), ("2024-05-13T25:00:00Z", None), ("2024-05-13", None),
    ("2024-05-13T10:18", None), ("yesterday", None), ("", None), (None, None), (42, None),
])
def test_parse_time_reads_azure_timestamps(text, expected):
    assert transform.parse_time(text) == expected


@pytest.mark.parametrize("text, seconds", [
    ("PT41M16.2S", 2476.2), ("PT41M16.2122671S", 2476.212), ("PT1H2M3S", 3723), ("PT0S", 0), ("P1DT1S", 86401),
    ("PT1.5H", 5400), ("PT30.0000001S", 30.0),
    ("00:20:23.0896697", 1223.09), ("1.00:00:01", 86401),                       # .NET TimeSpan text
    ("P1Y", None), ("P1M", None), ("-PT1S", None), ("soon", None), ("", None), (None, None),
])
def test_durations(text, seconds):
    assert jobs.duration_seconds(text) == seconds


def test_parse_duration_is_a_timedelta():
    assert transform.parse_duration("PT41M16.2S") == timedelta(minutes=41, seconds=16.2)
    assert transform.parse_duration("P2W") == timedelta(days=14)


@pytest.mark.parametrize("name", AZURE_TIME_ZONES)
def test_every_windows_zone_azure_accepts_has_a_tzinfo(name):
    tz = schedule.zone(name)
    assert tz is not None, name
    assert datetime(2026, 1, 15, 12, 0, tzinfo=tz).utcoffset() is not None


def test_every_zone_of_the_cldr_table_has_a_tzinfo():
    from tzlocal.windows_tz import win_tz
    assert len(win_tz) >= 130
    assert [name for name in win_tz if schedule.zone(name) is None] == []


@pytest.mark.parametrize("name, january, july", [
    ("UTC", 0, 0), ("Coordinated Universal Time", 0, 0), ("UTC-11", -11, -11), ("UTC+12", 12, 12),
    ("W. Europe Standard Time", 1, 2), ("GMT Standard Time", 0, 1), ("Pacific Standard Time", -8, -7),
    ("India Standard Time", 5.5, 5.5), ("AUS Eastern Standard Time", 11, 10), ("Nepal Standard Time", 5.75, 5.75),
    ("Kamchatka Standard Time", 12, 12), ("Mid-Atlantic Standard Time", -2, -2),
    ("Europe/Berlin", 1, 2),                                           # an IANA name passes through
])
def test_zone_offsets(name, january, july):
    tz = schedule.zone(name)
    for month, hours in ((1, january), (7, july)):
        assert datetime(2026, month, 15, 12, 0, tzinfo=tz).utcoffset() == timedelta(hours=hours)


def test_an_unknown_zone_is_none():
    assert schedule.zone("Moon Standard Time") is None
    assert schedule.zone(None) is UTC


ITEM = ("/subscriptions/s1/resourceGroups/rg-vault/providers/Microsoft.RecoveryServices/vaults/vault-eus/"
        "backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;vm-1/"
        "protectedItems/VM;iaasvmcontainerv2;rg-app;vm-1")


def test_ids_parsed_by_azure_mgmt_core():
    assert transform.resource_group_of(ITEM) == "rg-vault"
    assert transform.resource_group_of("/subscriptions/s/resourcegroups/RG/providers/x/y/z") == "RG"
    assert transform.resource_group_of("rg/vm") is None and transform.resource_group_of(None) is None
    assert backup.item_path({"id": ITEM}) == ("IaasVMContainer;iaasvmcontainerv2;rg-app;vm-1",
                                              "VM;iaasvmcontainerv2;rg-app;vm-1")
    assert transform.resource_type_of(transform.parse_id(ITEM)) == (
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems")


@pytest.mark.parametrize("text, expected", [
    ("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1", ("s1", "rg", "vm-1")),
    ("/SUBSCRIPTIONS/s1/RESOURCEGROUPS/rg/PROVIDERS/microsoft.compute/VIRTUALMACHINES/vm-1/", ("s1", "rg", "vm-1")),
])
def test_vm_ids(text, expected):
    ref = vms.ref_from_id(text)
    assert (ref.subscription, ref.resource_group, ref.name) == expected


@pytest.mark.parametrize("text, words", [
    ("/subscriptions/s1/resourceGroups/rg", "not an ARM resource id"),
    ("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vn/subnets/sn",
     "names a Microsoft.Network/virtualNetworks/subnets resource"),
    ("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vn/subnets",
     "names a different kind of resource"),
    ("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/disks/d1", "names a Microsoft.Compute/disks"),
])
def test_other_ids_are_refused(text, words):
    with pytest.raises(AzureBackupError) as err:
        vms.ref_from_id(text)
    assert words in str(err.value)


def test_restore_targets():
    vnet = "/subscriptions/s2/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vn-1"
    assert restores.parse_target(vnet, "s1", "Microsoft.Network/virtualNetworks", "virtual_network") == (
        "s2", "rg-net", "vn-1")
    assert restores.parse_target("rg-net/vn-1", "s1", "Microsoft.Network/virtualNetworks", "o") == (
        "s1", "rg-net", "vn-1")
    with pytest.raises(AzureBackupError):
        restores.parse_target(vnet + "/subnets/default", "s1", "Microsoft.Network/virtualNetworks", "o")


@pytest.mark.parametrize("name, resource_manager, login, scope", [
    ("AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com",
     "https://management.azure.com/.default"),
    ("azurechinacloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/.default"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us",
     "https://management.core.usgovcloudapi.net/.default"),
])
def test_public_clouds_come_from_the_sdks(name, resource_manager, login, scope):
    resolved = cloud.resolve_cloud(name)
    assert (resolved.resource_manager, resolved.login, resolved.scope) == (resource_manager, login, scope)
    assert resolved.known_login_host
