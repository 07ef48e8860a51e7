# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from types import SimpleNamespace as NS

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.resources import locks, policies, protection, vaults, vms
from ansible_collections.backupops.azure.plugins.module_utils.resources import resource_guards
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
    # no Resource Guard on the vault (tests/integration/test_resource_guard.py has one)
    monkeypatch.setattr(resource_guards, "operation_requests", lambda module, rg, vault, operation: [])
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: {
        "id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv",
        "name": "rsv", "location": "westeurope"})
    monkeypatch.setattr(policies, "require_vm_policy", lambda module, rg, vault, name: {
        "name": name, "properties": {"backupManagementType": "AzureIaasVM", "protectedItemsCount": 0}})
    monkeypatch.setattr(protection, "protected_items", lambda module, rg, name: dict(state["items"]))
    monkeypatch.setattr(protection, "protectable_vms", lambda module, rg, name: {
        vms.vm_key(v.id): {} for v in state["vms"] if vms.vm_key(v.id) not in state["items"]})
    state["reads"] = []

    def list_vms(module, resource_group=None, status=False):
        state["reads"].append("list")
        return state["vms"]

    def get_vm(module, ref, instance_view=False):
        state["reads"].append((ref.label, instance_view))
        return next((v for v in state["vms"] if vms.ref_of(v) == ref), None)

    def first_page(module, status=False):
        # the first page of the subscription's list: page_size VMs (all of them by default)
        state["reads"].append(("page", status))
        size = state.get("page_size") or len(state["vms"])
        return state["vms"][:size], size < len(state["vms"])
    monkeypatch.setattr(vms, "list_vms", list_vms)
    monkeypatch.setattr(vms, "get_vm", get_vm)
    monkeypatch.setattr(vms, "first_page", first_page)
    monkeypatch.setattr(AzureBackupModule, "client", lambda self, kind: None)
    monkeypatch.setattr(locks, "subscription_locks", lambda module: [])

    def begin_put(module, rg, vault, ref, props, action, wait=True):
        state["puts"].append((ref.label, props))
        item = {"id": "i", "properties": {"sourceResourceId": ref.id, "protectionState": "IRPending",
                                          "policyName": props["policyId"].rsplit("/", 1)[-1]}}
        state["items"][vms.vm_key(ref.id)] = item
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


# -- several policies (Azure's limit of 100 VMs per policy) ------------------------------------

def vm_policy(name, count):
    return {"name": name, "properties": {"backupManagementType": "AzureIaasVM", "protectedItemsCount": count}}


def item(rg, name, policy, state="Protected"):
    return {"id": "i", "properties": {"sourceResourceId": vm_id(rg, name), "protectionState": state,
                                      "policyName": policy}}


@pytest.fixture
def spread(monkeypatch, azure):
    """The azure fixture with 8 VMs and the policies P1, P2, P3 (their counts in azure["counts"])."""
    azure["vms"] = [vm_model("rg-a", "vm-%d" % i) for i in range(8)]
    azure["counts"] = {"P1": 0, "P2": 0, "P3": 0, "Other": 0}
    azure["policy_reads"] = []

    def require_vm_policies(module, rg, vault, names):
        azure["policy_reads"].append(list(names))
        return [vm_policy({n.lower(): n for n in azure["counts"]}[n.lower()], azure["counts"][n]) for n in names]
    monkeypatch.setattr(policies, "require_vm_policies", require_vm_policies)
    return azure


def chosen(result):
    return [r["policy"] for r in result["vms"]]


def names(count):
    return ["rg-a/vm-%d" % i for i in range(count)]


def test_new_vms_join_the_policy_with_most_room_ties_to_the_first_listed(run_module, spread):
    spread["counts"].update({"P1": 97, "P2": 98, "P3": 98})
    outcome, result = run_module(vm_protection.main, args(vms=names(6), policies=["P1", "P2", "P3"]))
    assert outcome == "exit", result
    # room 3/2/2 -> P1 (2/2/2, a tie: the first listed) -> P1 (1/2/2) -> P2 -> P3 -> P1 (0/1/1) -> P2
    assert chosen(result) == ["P1", "P1", "P2", "P3", "P1", "P2"]
    # the writes run concurrently: their order is the threads', so each VM's write is matched by name
    written = {label: put["policyId"].rsplit("/", 1)[-1] for label, put in spread["puts"]}
    assert [written[r["vm"]] for r in result["vms"]] == chosen(result)
    assert spread["policy_reads"] == [["P1", "P2", "P3"]]


def test_vms_on_a_listed_policy_keep_it_and_others_move(run_module, spread):
    spread["counts"].update({"P1": 0, "P2": 50})
    spread["items"] = {vms.vm_key(vm_id("rg-a", "vm-0")): item("rg-a", "vm-0", "p2"),
                       vms.vm_key(vm_id("rg-a", "vm-1")): item("rg-a", "vm-1", "Other"),
                       vms.vm_key(vm_id("rg-a", "vm-2")): item("rg-a", "vm-2", "", "ProtectionStopped")}
    outcome, result = run_module(vm_protection.main, args(vms=names(4), policies=["P2", "P1"]))
    assert outcome == "exit", result
    rows = {r["vm"]: r for r in result["vms"]}
    assert not rows["rg-a/vm-0"]["changed"] and rows["rg-a/vm-0"]["policy"] == "p2"
    assert rows["rg-a/vm-1"]["actions"] == ["update"] and rows["rg-a/vm-1"]["policy"] == "P1"
    assert rows["rg-a/vm-2"]["actions"] == ["resume"] and rows["rg-a/vm-2"]["policy"] == "P1"
    assert rows["rg-a/vm-3"]["actions"] == ["enable"] and rows["rg-a/vm-3"]["policy"] == "P1"
    assert [p[0] for p in spread["puts"]] == ["rg-a/vm-1", "rg-a/vm-2", "rg-a/vm-3"]


def test_converged_run_writes_nothing_and_reads_no_vm(run_module, spread, monkeypatch):
    outcome, first = run_module(vm_protection.main, args(vms=names(4), policies=["P1", "P2"]))
    assert outcome == "exit" and chosen(first) == ["P1", "P2", "P1", "P2"]
    monkeypatch.setattr(vms, "list_vms", lambda *a, **kw: pytest.fail("a converged run reads no VM"))
    monkeypatch.setattr(vms, "get_vm", lambda *a, **kw: pytest.fail("a converged run reads no VM"))
    outcome, again = run_module(vm_protection.main, args(vms=names(4), policies=["P1", "P2"]))
    assert outcome == "exit" and not again["changed"] and len(spread["puts"]) == 4
    assert chosen(again) == ["P1", "P2", "P1", "P2"]


def test_check_mode_and_diff_show_the_choice_of_the_real_run(run_module, spread):
    spread["counts"].update({"P1": 99, "P2": 40, "P3": 40})
    task = args(vms=names(5), policies=["P1", "P2", "P3"], _ansible_check_mode=True, _ansible_diff=True)
    outcome, predicted = run_module(vm_protection.main, task)
    assert outcome == "exit" and spread["puts"] == []
    assert predicted["diff"]["after"]["rg-a/vm-0"]["policy"] == "P2"
    task.update(_ansible_check_mode=False)
    outcome, done = run_module(vm_protection.main, task)
    assert outcome == "exit" and chosen(done) == chosen(predicted) == ["P2", "P3", "P2", "P3", "P2"]


def test_not_room_enough_fails_before_any_write_naming_the_counts(run_module, spread):
    spread["counts"].update({"P1": 99, "P2": 100})
    spread["items"] = {vms.vm_key(vm_id("rg-a", "vm-0")): item("rg-a", "vm-0", "P2")}
    outcome, result = run_module(vm_protection.main, args(vms=names(3), policies=["P1", "P2"]))
    assert outcome == "fail" and result["error"]["code"] == "PolicyVmLimitExceeded"
    assert "2 VM(s) would join P1 (99 of 100), P2 (100 of 100) of vault rsv, which have room for 1 more" in result["msg"]
    assert "Add a policy with the same schedule to the list in policies" in result["msg"]
    assert spread["puts"] == []
    # one VM fewer fits: vm-0 keeps P2 (full, but it holds its place), vm-1 takes P1's last place
    outcome, result = run_module(vm_protection.main, args(vms=names(2), policies=["P1", "P2"]))
    assert outcome == "exit" and chosen(result) == ["P2", "P1"]


def test_upfront_refusal_counts_every_policy(run_module, spread):
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/vm-%d" % i for i in range(201)],
                                                          policies=["P1", "P2"]))
    assert outcome == "fail" and result["error"]["code"] == "PolicyVmLimitExceeded"
    assert "201 VMs for 2 policies (P1, P2)" in result["msg"] and "at most 200 fit" in result["msg"]
    assert spread["policy_reads"] == [] and spread["puts"] == []


def test_policies_options(run_module, spread):
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/vm-0", policy="P1", policies=["P2"]))
    assert outcome == "fail" and "mutually exclusive: policy|policies" in result["msg"]
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/vm-0", policies=[]))
    assert outcome == "fail" and "at least one" in result["msg"]
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/vm-0", policies=["P3", "p3", "P1"]))
    assert outcome == "exit" and spread["policy_reads"] == [["P3", "P1"]] and chosen(result) == ["P3"]
    assert len(spread["puts"]) == 1


def test_single_policy_keeps_its_one_read_and_its_limit(run_module, azure, monkeypatch):
    reads = []
    monkeypatch.setattr(policies, "require_vm_policy", lambda module, rg, vault, name: reads.append(name) or vm_policy(
        name, 99))
    monkeypatch.setattr(policies, "require_vm_policies", lambda *a: pytest.fail("policy reads one policy"))
    outcome, result = run_module(vm_protection.main, args(vms=["rg-a/web-01", "rg-a/web-02"]))
    assert outcome == "fail" and result["error"]["code"] == "PolicyVmLimitExceeded"
    assert "2 VM(s) would join DefaultPolicy (99 of 100)" in result["msg"] and reads == ["DefaultPolicy"]
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/web-01"))
    assert outcome == "exit" and chosen(result) == ["DefaultPolicy"]


# -- how the VMs to write are read ---------------------------------------------------------------

def test_one_vm_is_one_get_with_the_instance_view(run_module, azure):
    outcome, result = run_module(vm_protection.main, args(vm="rg-a/web-01"))
    assert outcome == "exit" and result["changed"] and azure["reads"] == [("rg-a/web-01", True)]


def test_only_the_vms_to_write_are_read(run_module, azure):
    azure["vms"] = [vm_model("rg-a", "vm-%d" % i) for i in range(8)]
    azure["items"] = {vms.vm_key(vm_id("rg-a", "vm-%d" % i)): item("rg-a", "vm-%d" % i, "DefaultPolicy")
                      for i in range(3)}
    outcome, result = run_module(vm_protection.main, args(vms=names(3 + vms.READ_EACH_UP_TO)))
    assert outcome == "exit" and result["changed_count"] == vms.READ_EACH_UP_TO
    # the 5 VMs to write are on the first (here the only) page of the subscription's status list
    assert azure["reads"] == [("page", True)]


def test_a_few_vms_not_on_the_first_page_are_each_one_get(run_module, azure):
    azure["vms"] = [vm_model("rg-a", "vm-%d" % i) for i in range(8)]
    azure["page_size"] = 2      # vm-0 and vm-1 on the first page, more pages follow
    outcome, result = run_module(vm_protection.main, args(vms=names(vms.READ_EACH_UP_TO)))
    assert outcome == "exit" and result["changed_count"] == vms.READ_EACH_UP_TO
    assert azure["reads"][0] == ("page", True)
    assert sorted(azure["reads"][1:]) == [(vm, True) for vm in names(vms.READ_EACH_UP_TO)[2:]]


def test_more_vms_than_the_threshold_take_the_status_list(run_module, azure):
    azure["vms"] = [vm_model("rg-a", "vm-%d" % i) for i in range(8)]
    outcome, result = run_module(vm_protection.main, args(vms=names(vms.READ_EACH_UP_TO + 1)))
    assert outcome == "exit" and result["changed_count"] == vms.READ_EACH_UP_TO + 1
    assert azure["reads"] == ["list"]


@pytest.mark.parametrize("batch, read", [(["rg-a/ghost"], [("rg-a/ghost", True)]),
                                         (names(2) + ["rg-a/ghost"], [("page", True)]),
                                         (names(vms.READ_EACH_UP_TO) + ["rg-a/ghost"], ["list"])])
def test_a_missing_vm_is_vm_not_found_either_way(run_module, azure, batch, read):
    azure["vms"] = [vm_model("rg-a", "vm-%d" % i) for i in range(8)]
    outcome, result = run_module(vm_protection.main, args(vms=batch, _ansible_check_mode=True))
    row = {r["vm"]: r for r in result["vms"]}["rg-a/ghost"]
    assert outcome == "fail" and row["error"]["code"] == "VmNotFound" and row["state"] == "absent"
    assert row["error"]["message"] == "The VM rg-a/ghost does not exist (or this principal cannot read it)."
    assert result["failed_count"] == 1 and azure["reads"][-len(read):] == read
