# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/protection_info.py: which vault protects which VM (the cheaper of the vaults' item lists and the
per-VM backupStatus), the protectable report of a vault, and the next scheduled backup; mocked at the
resources boundary (vaults, protection, vms), every request counted."""

from datetime import datetime, timezone
from types import SimpleNamespace as NS

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import protection_info
from ansible_collections.backupops.azure.plugins.module_utils.resources import protection, vaults, vms

from ..fakes import SUB, Module

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=timezone.utc)   # a Thursday


def vm_id(name, rg="rg-a"):
    return vms.VmRef(SUB, rg, name).id


def vault(name, location="westeurope", rg="rg-v"):
    return {"id": protection.vault_id(SUB, rg, name), "name": name, "location": location}


def item(name, state="Protected", **props):
    body = {"sourceResourceId": vm_id(name), "protectionState": state, "policyName": "DefaultPolicy"}
    body.update(props)
    return {"id": "item-" + name, "properties": body}


class Azure:
    """Vaults of the subscription with their items, the VMs, and the location-level backup status
    (which follows the items); ``requests`` lists every call."""

    def __init__(self, monkeypatch):
        self.vaults = []
        self.items = {}             # vault name -> [item]
        self.vms = []
        self.protectable = {}       # vault name -> VM names it lists as protectable
        self.after_discovery = {}   # vault name -> VM names it lists once the discovery ran
        self.requests = []
        monkeypatch.setattr(vaults, "list_vaults", self.list_vaults)
        monkeypatch.setattr(protection, "protected_items", self.protected_items)
        monkeypatch.setattr(protection, "backup_status", self.backup_status)
        monkeypatch.setattr(protection, "protectable_vms", self.protectable_vms)
        monkeypatch.setattr(protection, "refresh_discovery", self.refresh_discovery)
        monkeypatch.setattr(vms, "list_vms", self.list_vms)

    def list_vaults(self, module, resource_group=None):
        self.requests.append("LIST vaults")
        return list(self.vaults)

    def protected_items(self, module, rg, name):
        self.requests.append("LIST items " + name)
        return {vms.vm_key(i["properties"]["sourceResourceId"]): i for i in self.items.get(name, [])}

    def backup_status(self, module, location, vm):
        self.requests.append("BACKUPSTATUS " + vm.rsplit("/", 1)[-1])
        for found in self.vaults:
            for one in self.items.get(found["name"], []):
                if vms.vm_key(one["properties"]["sourceResourceId"]) == vms.vm_key(vm):
                    return {"vaultId": found["id"], "protectionStatus": "Protected"}
        return {"protectionStatus": "NotProtected"}

    def protectable_vms(self, module, rg, name):
        self.requests.append("LIST protectable " + name)
        return {vms.vm_key(vm_id(n)): {} for n in self.protectable.get(name, [])}

    def refresh_discovery(self, module, rg, name, timeout=600):
        self.requests.append("REFRESH " + name)
        self.protectable[name] = self.protectable.get(name, []) + self.after_discovery.pop(name, [])

    def list_vms(self, module, resource_group=None, location=None, status=False):
        self.requests.append("LIST vms")
        return list(self.vms)


@pytest.fixture
def azure(monkeypatch):
    return Azure(monkeypatch)


def counted(requests, prefix):
    return len([r for r in requests if r.startswith(prefix)])


# -- protecting_vaults: the cheaper read -----------------------------------------------------------

def test_no_vm_no_read(azure):
    assert protection_info.protecting_vaults(Module(), "westeurope", []) == ({}, None)
    assert azure.requests == []


def test_up_to_two_vms_read_their_backup_status_and_no_vault_list(azure):
    azure.vaults = [vault("rsv-1"), vault("rsv-2")]
    azure.items = {"rsv-2": [item("a")]}
    found, method = protection_info.protecting_vaults(Module(), "West Europe", [vm_id("a"), vm_id("b")])
    assert method == "backupStatus" and found == {vms.vm_key(vm_id("a")): vault("rsv-2")["id"]}
    assert sorted(azure.requests) == ["BACKUPSTATUS a", "BACKUPSTATUS b"]


def test_many_vms_and_few_vaults_read_the_vaults_items(azure):
    azure.vaults = [vault("rsv-1"), vault("rsv-2"), vault("rsv-far", "eastus")]
    azure.items = {"rsv-1": [item("vm-0")], "rsv-2": [item("vm-3"), item("gone", isScheduledForDeferredDelete=True)],
                   "rsv-far": [item("vm-4")]}
    ids = [vm_id("vm-%d" % i) for i in range(5)] + [vm_id("gone")]
    found, method = protection_info.protecting_vaults(Module(), "westeurope", ids)
    assert method == "vault items"
    # the region's vaults only; a soft-deleted item protects nothing
    assert found == {vms.vm_key(ids[0]): vault("rsv-1")["id"], vms.vm_key(ids[3]): vault("rsv-2")["id"]}
    assert azure.requests[0] == "LIST vaults"
    assert sorted(azure.requests[1:]) == ["LIST items rsv-1", "LIST items rsv-2"]
    assert counted(azure.requests, "BACKUPSTATUS") == 0


def test_more_vaults_than_vms_read_the_backup_status_of_each_vm(azure):
    azure.vaults = [vault("rsv-%d" % i) for i in range(4)]
    azure.items = {"rsv-2": [item("b")]}
    found, method = protection_info.protecting_vaults(Module(), "westeurope", [vm_id(n) for n in "abc"])
    assert method == "backupStatus" and found == {vms.vm_key(vm_id("b")): vault("rsv-2")["id"]}
    assert azure.requests[0] == "LIST vaults" and counted(azure.requests, "BACKUPSTATUS") == 3
    assert counted(azure.requests, "LIST items") == 0


def test_the_skipped_vault_is_not_read(azure):
    azure.vaults = [vault("rsv-1"), vault("rsv-2")]
    azure.items = {"rsv-1": [item("a")], "rsv-2": [item("b")]}
    found, method = protection_info.protecting_vaults(Module(), "westeurope", [vm_id(n) for n in "abcde"],
                                                      skip_vault_id=vault("rsv-1")["id"].upper())
    assert method == "vault items" and found == {vms.vm_key(vm_id("b")): vault("rsv-2")["id"]}
    assert "LIST items rsv-1" not in azure.requests and "LIST items rsv-2" in azure.requests


def test_the_skipped_vault_is_not_named_by_the_backup_status_either(azure):
    # up to 2 VMs take the backupStatus route: the vault to skip (the caller's own) is not
    # "another vault" there either
    azure.vaults = [vault("rsv-1"), vault("rsv-2")]
    azure.items = {"rsv-1": [item("a")], "rsv-2": [item("b")]}
    found, method = protection_info.protecting_vaults(Module(), "westeurope", [vm_id("a"), vm_id("b")],
                                                      skip_vault_id=vault("rsv-1")["id"].upper())
    assert method == "backupStatus" and found == {vms.vm_key(vm_id("b")): vault("rsv-2")["id"]}


def test_an_unreadable_status_is_raised(azure, monkeypatch):
    def refused(module, location, vm):
        raise AzureBackupError("Failed to read the backup status: AuthorizationFailed", code="AuthorizationFailed")
    monkeypatch.setattr(protection, "backup_status", refused)
    with pytest.raises(AzureBackupError, match="AuthorizationFailed"):
        protection_info.protecting_vaults(Module(), "westeurope", [vm_id("a")])


# -- protectable_report ------------------------------------------------------------------------------

def estate(azure):
    """rsv (westeurope) protects 'ours', can protect 'free', 'taken' is in rsv-other, 'new' is not
    discovered yet, 'far' is in eastus."""
    azure.vaults = [vault("rsv"), vault("rsv-other")]
    azure.items = {"rsv": [item("ours")], "rsv-other": [item("taken")]}
    azure.protectable = {"rsv": ["free"]}
    azure.after_discovery = {"rsv": ["new"]}
    azure.vms = [NS(id=vm_id(n), name=n, location=loc) for n, loc in (
        ("free", "westeurope"), ("ours", "westeurope"), ("taken", "westeurope"), ("new", "westeurope"),
        ("far", "eastus"))]
    return vault("rsv")


def reasons(report):
    return {row["name"]: row["reason_code"] for row in report["not_eligible"]}


def test_the_report_gives_every_vm_with_its_reason(azure):
    report = protection_info.protectable_report(Module(), estate(azure), "never")
    assert [row["vm"] for row in report["protectable"]] == ["rg-a/free"]
    assert reasons(report) == {"far": "VmInAnotherRegion", "ours": "ProtectedByThisVault",
                               "taken": "ProtectedByAnotherVault", "new": "NotDiscovered"}
    rows = {row["name"]: row for row in report["not_eligible"]}
    assert rows["taken"]["vault"] == "rsv-other" and rows["ours"]["vault"] == "rsv"
    assert "run with refresh: auto" in rows["new"]["reason"] and not report["discovery_ran"]
    # two VMs to look up (taken, new): their backup status, no vault list
    assert report["ownership_lookup"] == "backupStatus" and counted(azure.requests, "BACKUPSTATUS") == 2
    assert "LIST vaults" not in azure.requests and azure.requests.count("LIST items rsv") == 1
    assert counted(azure.requests, "REFRESH") == 0


def test_refresh_auto_discovers_only_when_a_vm_is_not_discovered(azure):
    report = protection_info.protectable_report(Module(), estate(azure), "auto")
    assert azure.requests.count("REFRESH rsv") == 1 and report["discovery_ran"]
    assert sorted(row["name"] for row in report["protectable"]) == ["free", "new"]
    assert azure.requests.count("LIST protectable rsv") == 2
    # nothing undiscovered: no discovery
    azure.requests.clear()
    report = protection_info.protectable_report(Module(), vault("rsv"), "auto")
    assert counted(azure.requests, "REFRESH") == 0 and not report["discovery_ran"]


def test_refresh_always_discovers_first_and_check_mode_never(azure):
    report = protection_info.protectable_report(Module(), estate(azure), "always")
    assert azure.requests[0] == "REFRESH rsv" and azure.requests.count("LIST protectable rsv") == 1
    assert report["discovery_ran"] and "new" not in reasons(report)
    azure.requests.clear()
    azure.after_discovery = {"rsv": ["late"]}
    azure.vms.append(NS(id=vm_id("late"), name="late", location="westeurope"))
    for refresh in ("always", "auto"):
        report = protection_info.protectable_report(Module(check_mode=True), vault("rsv"), refresh)
        assert reasons(report)["late"] == "NotDiscovered" and not report["discovery_ran"]
    assert counted(azure.requests, "REFRESH") == 0


def test_after_a_discovery_an_undiscovered_vm_is_not_discoverable(azure):
    estate(azure)
    azure.after_discovery = {}
    report = protection_info.protectable_report(Module(), vault("rsv"), "auto")
    rows = {row["name"]: row for row in report["not_eligible"]}
    assert rows["new"]["reason_code"] == "NotDiscovered" and rows["new"]["reason"] == "not discoverable by the vault"
    assert azure.requests.count("REFRESH rsv") == 1


# -- with_schedule ------------------------------------------------------------------------------------

DAILY = {"name": "DefaultPolicy", "properties": {
    "timeZone": "UTC", "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                          "scheduleRunFrequency": "Daily",
                                          "scheduleRunTimes": ["2024-01-01T22:00:00Z"]}}}


def test_with_schedule_adds_the_next_backup_of_a_present_item():
    facts = protection_info.with_schedule({"policy": "defaultpolicy", "state": "present"},
                                          {"defaultpolicy": DAILY}, NOW)
    assert facts["next_scheduled_backup"] == "2026-11-26T22:00:00Z" and facts["time_zone"] == "UTC"
    stopped = protection_info.with_schedule({"policy": "DefaultPolicy", "state": "stopped"},
                                            {"defaultpolicy": DAILY}, NOW)
    assert stopped["next_scheduled_backup"] is None and stopped["time_zone"] == "UTC"
    unknown = protection_info.with_schedule({"policy": None, "state": "present"}, {"defaultpolicy": DAILY}, NOW)
    assert unknown["next_scheduled_backup"] is None and unknown["time_zone"] is None
