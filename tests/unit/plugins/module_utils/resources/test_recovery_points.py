# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/recovery_points.py: Azure's time filter, the points' facts (test_backup_rp.yaml's point), and
resources/restores.py's target references."""

from datetime import datetime, timezone

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import recovery_points, restores

# the recovery point of test_backup_rp.yaml (api-version 2024-04-01), its keys as Azure sends them
RECORDED = {
    "id": "/subscriptions/0/resourceGroups/clitest.rg000001/providers/Microsoft.RecoveryServices/vaults/v/"
          "backupFabrics/Azure/protectionContainers/c/protectedItems/i/recoveryPoints/783751228447024",
    "name": "783751228447024",
    "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointType": "AppConsistent",
                   "recoveryPointTime": "2024-04-28T06:50:59.6593666Z", "isSourceVMEncrypted": False,
                   "recoveryPointTierDetails": [{"type": "InstantRP", "status": "Valid"},
                                                {"type": "HardenedRP", "status": "Valid"}],
                   "virtualMachineSize": "Standard_DS1_v2", "osType": "Windows"}}


def test_time_filter_is_the_az_cli_format():
    after = datetime(2026, 5, 1, 13, 5, 9, tzinfo=timezone.utc)
    before = datetime(2026, 5, 2, 0, 0, 0, tzinfo=timezone.utc)
    assert recovery_points.time_filter(after, before) == (
        "startDate eq '2026-05-01 01:05:09 PM' and endDate eq '2026-05-02 12:00:00 AM'")
    assert recovery_points.time_filter() is None
    assert "startDate eq '1927" in recovery_points.time_filter(before=before)


def test_facts_of_the_recorded_point():
    now = datetime(2024, 4, 28, 7, 50, 59, tzinfo=timezone.utc)
    assert recovery_points.point_facts(RECORDED, now) == {
        "id": RECORDED["id"], "name": "783751228447024", "time": "2024-04-28T06:50:59Z",
        "consistency": "application", "tiers": ["snapshot", "vault_standard"], "instant_restore": True,
        "zones": [], "vm_size": "Standard_DS1_v2", "os_type": "Windows", "age_seconds": 3599}


def test_tiers_ignore_copies_that_are_not_valid_and_select_filters():
    archived = {"name": "a", "properties": {"recoveryPointType": "CrashConsistent", "recoveryPointTierDetails": [
        {"type": "InstantRP", "status": "Deleted"}, {"type": "ArchivedRP", "status": "Valid"}]}}
    assert recovery_points.tiers(archived) == ["archive"] and recovery_points.archive_only(archived)
    points = [RECORDED, archived]
    assert recovery_points.select(points, consistency="crash") == [archived]
    assert recovery_points.select(points, tier="snapshot") == [RECORDED]


@pytest.mark.parametrize("value, expected", [
    ("rg-net/vnet-weu", ("sub", "rg-net", "vnet-weu")),
    ("/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v", ("s2", "rg", "v")),
])
def test_target_references(value, expected):
    assert restores.parse_target(value, "sub", "Microsoft.Network/virtualNetworks", "target_virtual_network") \
        == expected


@pytest.mark.parametrize("value", ["vnet-weu", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/"
                                               "storageAccounts/st", "a/b/c"])
def test_bad_target_references(value):
    with pytest.raises(AzureBackupError) as info:
        restores.parse_target(value, "sub", "Microsoft.Network/virtualNetworks", "target_virtual_network")
    assert info.value.code == "InvalidParameters" and "target_virtual_network" in info.value.message


def test_replace_disks_body_has_no_target_group():
    body = restores.restore_body("replace_disks", "1", "/vm", "westeurope", "/st", "/rg")
    assert body["recoveryType"] == "OriginalLocation" and "targetResourceGroupId" not in body
