# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/protection.py: a protected item's facts in plain words, and the disk selection."""

from datetime import datetime, timezone

from ansible_collections.backupops.azure.plugins.module_utils.resources import protection

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=timezone.utc)   # a Thursday
VM_ID = "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/web-01"


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
