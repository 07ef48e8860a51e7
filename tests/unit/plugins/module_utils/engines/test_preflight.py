# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime, timezone
from types import SimpleNamespace as NS

from ansible_collections.backupops.azure.plugins.module_utils.core.transform import iso_utc
from ansible_collections.backupops.azure.plugins.module_utils.engines import preflight
from ansible_collections.backupops.azure.plugins.module_utils.resources import protection, schedule

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=timezone.utc)   # a Thursday
VM_ID = "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/web-01"


def daily(time, tz="UTC"):
    return {"timeZone": tz, "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                               "scheduleRunFrequency": "Daily",
                                               "scheduleRunTimes": ["2024-01-01T%s:00Z" % time]}}


def test_next_run_daily_weekly_hourly_and_time_zones():
    assert iso_utc(schedule.next_run(daily("23:00"), NOW)) == "2026-11-26T23:00:00Z"
    assert iso_utc(schedule.next_run(daily("02:00"), NOW)) == "2026-11-27T02:00:00Z"
    weekly = {"timeZone": "UTC", "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                                    "scheduleRunFrequency": "Weekly", "scheduleRunDays": ["Monday"],
                                                    "scheduleRunTimes": ["2024-01-01T01:00:00Z"]}}
    assert iso_utc(schedule.next_run(weekly, NOW)) == "2026-11-30T01:00:00Z"
    hourly = {"timeZone": "UTC", "schedulePolicy": {
        "schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
        "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2024-01-01T08:00:00Z",
                           "scheduleWindowDuration": 12}}}
    assert iso_utc(schedule.next_run(hourly, NOW)) == "2026-11-26T12:00:00Z"
    late = NOW.replace(hour=17)
    assert iso_utc(schedule.next_run(hourly, late)) == "2026-11-27T08:00:00Z"
    # 22:00 in Pacific Standard Time is 06:00 UTC the next day (PST, UTC-8)
    assert iso_utc(schedule.next_run(daily("22:00", "Pacific Standard Time"), NOW)) == "2026-11-27T06:00:00Z"
    assert schedule.next_run(daily("22:00", "Mars Standard Time"), NOW) is None


def item(**props):
    base = {"sourceResourceId": VM_ID, "protectionState": "IRPending", "policyName": "DefaultPolicy",
            "lastBackupTime": "2001-01-01T00:00:00Z", "softDeleteRetentionPeriod": 14}
    base.update(props)
    return {"id": "x", "name": "VM;iaasvmcontainerv2;rg-a;web-01", "properties": base}


def test_item_facts_in_plain_words():
    facts = protection.item_facts(item())
    assert facts["vm"] == "rg-a/web-01" and facts["state"] == "present"
    assert facts["protection_status"] == "initial backup pending" and facts["last_backup_time"] is None
    stopped = item(protectionState="ProtectionStopped")
    assert protection.state_of(stopped) == "stopped"
    gone = item(protectionState="ProtectionStopped", isScheduledForDeferredDelete=True,
                deferredDeleteTimeInUTC="2026-11-26T10:00:00Z")
    assert protection.state_of(gone) == "soft_deleted"
    assert protection.soft_delete_until(gone) == "2026-12-10T10:00:00Z"
    assert "2026-12-10T10:00:00Z" in protection.plain_status(gone)
    assert protection.estimated_purge(item(softDeleteRetentionPeriod=0), NOW) is None
    assert protection.state_of(None) == "absent" and protection.plain_status(None) == "not protected"


def test_disk_selection():
    assert protection.disk_exclusion_body(include_luns=[1, 0, 1]) == {"diskLunList": [0, 1], "isInclusionList": True}
    assert protection.disk_exclusion_body() is None
    everything = {"diskLunList": [], "isInclusionList": False}
    assert protection.same_disks(None, everything)
    assert not protection.same_disks(None, {"diskLunList": [], "isInclusionList": True})
    assert protection.disks_fact({"diskLunList": [], "isInclusionList": True})["selection"] == "OS disk only"
    with_excl = item(extendedProperties={"diskExclusionProperties": {"diskLunList": [2], "isInclusionList": False}})
    assert protection.disks_fact(protection.disk_exclusion_of(with_excl))["exclude_disk_luns"] == [2]


def vm(power="running", agent="Ready", version="2.7.41491.1102", os_type="Linux", encrypted=False, profile=True):
    statuses = [NS(code="ProvisioningState/succeeded"), NS(code="PowerState/%s" % power)]
    vm_agent = NS(vm_agent_version=version, statuses=[NS(display_status=agent)]) if agent else None
    encryption = NS(enabled=True, disk_encryption_key=NS(source_vault=NS(
        id="/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.KeyVault/vaults/kv-1"))) if encrypted else None
    return NS(id=VM_ID, name="web-01", location="westeurope",
              instance_view=NS(statuses=statuses, vm_agent=vm_agent, disks=[]),
              os_profile=NS() if profile else None,
              storage_profile=NS(os_disk=NS(os_type=os_type, encryption_settings=encryption),
                                 data_disks=[NS(lun=0), NS(lun=1)]))


def verdicts(model, **kw):
    return {v["code"]: v["level"] for v in preflight.vm_verdicts(preflight.vm_facts(model), **kw)}


def test_verdicts():
    assert verdicts(vm()) == {}
    assert verdicts(vm(agent=None, profile=False)) == {"AgentNotInstalled": "warning"}
    assert verdicts(vm(agent="Not Ready"), require_agent_ready=True) == {"AgentNotReady": "error"}
    assert verdicts(vm(power="deallocated", agent=None)) == {"VmNotRunning": "info"}
    assert verdicts(vm(os_type="Windows", version="2.6.1198.700")) == {"AgentOutdated": "warning"}
    found = preflight.vm_verdicts(preflight.vm_facts(vm(encrypted=True)), wanted_luns=[0, 5])
    assert [v["code"] for v in found] == ["EncryptedVm", "DiskLunNotAttached"] and "kv-1" in found[0]["message"]


def test_backup_resource_group_locks():
    locks = [{"id": "/subscriptions/s/resourceGroups/AzureBackupRG_westeurope_1/providers/Microsoft.Authorization/"
                    "locks/keep", "name": "keep", "properties": {"level": "CanNotDelete"}},
             {"id": "/subscriptions/s/resourceGroups/AzureBackupRG_eastus_1/providers/Microsoft.Authorization/"
                    "locks/other", "name": "other", "properties": {"level": "ReadOnly"}},
             {"id": "/subscriptions/s/resourceGroups/rg-app/providers/Microsoft.Authorization/locks/app",
              "name": "app", "properties": {"level": "ReadOnly"}}]
    found = preflight.backup_rg_locks(locks, "westeurope")
    assert [lock["name"] for lock in found] == ["keep"]
    assert "AzureBackupRG_westeurope_1" in preflight.lock_verdict(found)["message"]
