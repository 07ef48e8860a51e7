# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from types import SimpleNamespace as NS

import pytest

from ansible_collections.backupops.azure.plugins.module_utils import policies, preflight, protection, vaults, vms
from ansible_collections.backupops.azure.plugins.modules import vm_protection

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}


def vm_id(rg, name):
    return "/subscriptions/sub/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (rg, name)


def vm_model(rg, name, location="westeurope"):
    return NS(id=vm_id(rg, name), name=name, location=location, os_profile=NS(),
              instance_view=NS(statuses=[NS(code="PowerState/running")], disks=[],
                               vm_agent=NS(vm_agent_version="2.7", statuses=[NS(display_status="Ready")])),
              storage_profile=NS(os_disk=NS(os_type="Linux", encryption_settings=None), data_disks=[]))


class Poller:
    def __init__(self, result):
        self._result = result

    def wait(self, timeout=None):
        return None

    def done(self):
        return True

    def result(self):
        return self._result


@pytest.fixture
def azure(monkeypatch):
    state = {"items": {}, "puts": [], "vms": [vm_model("rg-a", "web-01"), vm_model("rg-a", "web-02"),
                                              vm_model("rg-a", "far-01", "eastus")]}
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: {
        "id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv",
        "name": "rsv", "location": "westeurope"})
    monkeypatch.setattr(policies, "require_vm_policy", lambda module, rg, vault, name: {
        "name": name, "properties": {"backupManagementType": "AzureIaasVM", "protectedItemsCount": 0}})
    monkeypatch.setattr(protection, "protected_items", lambda module, rg, name: dict(state["items"]))
    monkeypatch.setattr(protection, "protectable_vms", lambda module, rg, name: {
        protection.vm_key(v.id): {} for v in state["vms"] if protection.vm_key(v.id) not in state["items"]})
    monkeypatch.setattr(vms, "list_vms", lambda module, resource_group=None, status=False: state["vms"])
    monkeypatch.setattr(preflight, "subscription_locks", lambda module: [])

    def begin_put(module, rg, vault, ref, props, action, wait=True):
        state["puts"].append((ref.label, props))
        item = {"id": "i", "properties": {"sourceResourceId": ref.id, "protectionState": "IRPending",
                                          "policyName": props["policyId"].rsplit("/", 1)[-1]}}
        state["items"][protection.vm_key(ref.id)] = item
        return Poller(item)
    monkeypatch.setattr(protection, "begin_put", begin_put)
    return state


def args(**kw):
    return dict(AUTH, vault_name="rsv", resource_group="rg", **kw)


def test_protect_then_converged(run_module, azure):
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/web-01", "rg-a/web-02"]))
    assert outcome == "exit" and result["changed"] and result["changed_count"] == 2
    assert [r["protection_status"] for r in result["vms"]] == ["initial backup pending"] * 2
    assert len(azure["puts"]) == 2
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/web-01", "rg-a/web-02"]))
    assert outcome == "exit" and not result["changed"] and len(azure["puts"]) == 2


def test_check_mode_writes_nothing(run_module, azure):
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/web-01", _ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and azure["puts"] == []
    assert result["vms"][0]["state"] == "present"


def test_failures_are_summarised_after_the_others_ran(run_module, azure):
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/far-01", "rg-a/web-01", "rg-a/nope"]))
    assert outcome == "fail" and result["failed_count"] == 2 and result["changed_count"] == 1
    assert "rg-a/far-01: VmInAnotherRegion" in result["msg"] and "rg-a/nope: VmNotFound" in result["msg"]
    assert [p[0] for p in azure["puts"]] == ["rg-a/web-01"]


def test_bad_inputs(run_module, azure):
    outcome, result = run_module(vm_protection.main, args(vms=[]))
    assert outcome == "fail" and "empty" in result["msg"]
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/vm-%d" % i for i in range(101)]))
    assert outcome == "fail" and result["error"]["code"] == "PolicyVmLimitExceeded"
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/web-01", include_disk_luns=[64]))
    assert outcome == "fail" and "between 0 and 63" in result["msg"]
    assert azure["puts"] == []
