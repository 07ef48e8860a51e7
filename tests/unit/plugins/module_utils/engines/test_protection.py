# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/protection.py: vm_protection's engine (FleetRun) and its helpers, mocked at the resources
boundary (vaults, policies, protection, vms, locks), every request counted."""

from types import SimpleNamespace as NS

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import protection as engine
from ansible_collections.backupops.azure.plugins.module_utils.resources import locks, policies, protection, vaults, vms
from ansible_collections.backupops.azure.plugins.module_utils.resources import resource_guards

from ..fakes import SUB, Module

VAULT_ID = protection.vault_id(SUB, "rg-v", "rsv")
OTHER_VAULT_ID = protection.vault_id(SUB, "rg-x", "rsv-other")


def ref(name, rg="rg-a"):
    return vms.VmRef(SUB, rg, name)


def vm_model(name, location="westeurope"):
    return NS(id=ref(name).id, name=name, location=location, os_profile=NS(),
              instance_view=NS(statuses=[NS(code="PowerState/running")], disks=[],
                               vm_agent=NS(vm_agent_version="2.7", statuses=[NS(display_status="Ready")])),
              storage_profile=NS(os_disk=NS(os_type="Linux", encryption_settings=None),
                                 data_disks=[NS(lun=0), NS(lun=1)]))


def item(name, policy="DefaultPolicy", state="Protected", **props):
    body = {"sourceResourceId": ref(name).id, "protectionState": state, "policyName": policy}
    body.update(props)
    return {"id": "item-" + name, "properties": body}


class Poller:
    def __init__(self, result):
        self._result = result

    def wait(self, timeout=None):
        return None

    def done(self):
        return True

    def result(self):
        return self._result


class Azure:
    """The resources boundary of one subscription: a vault rsv in westeurope, its policies, items and
    protectable VMs, the VMs, the locks.  ``requests`` lists every call in order."""

    def __init__(self, monkeypatch):
        self.vault = {"id": VAULT_ID, "name": "rsv", "location": "westeurope"}
        self.policies = {"DefaultPolicy": 0}
        self.items = {}
        self.vms = {}
        self.undiscovered = set()       # VM names the vault lists as protectable only after a discovery
        self.owners = {}                # VM name -> vault id, as the location-level backup status says
        self.locks = []
        self.refuse = {}                # VM name -> AzureBackupError raised by its PUT
        self.requests = []
        monkeypatch.setattr(vaults, "get_vault", self.get_vault)
        # no Resource Guard on the vault (tests/integration/test_resource_guard.py has one)
        monkeypatch.setattr(resource_guards, "operation_requests", lambda module, rg, vault, operation: [])
        monkeypatch.setattr(vaults, "list_vaults", lambda module, resource_group=None: self.log("LIST vaults") or [
            self.vault, {"id": OTHER_VAULT_ID, "name": "rsv-other", "location": "westeurope"}])
        monkeypatch.setattr(policies, "require_vm_policy", lambda module, rg, vault, name: self.log(
            "GET policy " + name) or self.policy(name))
        monkeypatch.setattr(policies, "require_vm_policies", lambda module, rg, vault, names, pending=(): self.log(
            "LIST policies") or [self.policy(n) for n in names])
        monkeypatch.setattr(protection, "protected_items", self.protected_items)
        monkeypatch.setattr(protection, "protectable_vms", self.protectable_vms)
        monkeypatch.setattr(protection, "refresh_discovery", self.refresh_discovery)
        monkeypatch.setattr(protection, "backup_status", self.backup_status)
        monkeypatch.setattr(protection, "begin_put", self.begin_put)
        monkeypatch.setattr(protection, "start_delete", self.start_delete)
        monkeypatch.setattr(protection, "operation_status", lambda module, rg, vault, op: self.log(
            "STATUS " + op) or {"status": "Succeeded"})
        monkeypatch.setattr(vms, "read_with_status", self.read_with_status)
        monkeypatch.setattr(vms, "existing", self.existing)
        monkeypatch.setattr(locks, "subscription_locks", lambda module: self.log("LIST locks") or list(self.locks))

    def log(self, what):
        self.requests.append(what)

    def writes(self):
        return [r for r in self.requests if r.split()[0] in ("PUT", "DELETE", "REFRESH")]

    def policy(self, name):
        return {"name": name, "properties": {"backupManagementType": "AzureIaasVM",
                                             "protectedItemsCount": self.policies[name]}}

    def get_vault(self, module, rg, name):
        self.log("GET vault")
        return self.vault

    def protected_items(self, module, rg, name):
        self.log("LIST items")
        return {vms.vm_key(i["properties"]["sourceResourceId"]): i for i in self.items.values()}

    def protectable_vms(self, module, rg, name):
        self.log("LIST protectable")
        return {ref(n).key: {} for n, vm in self.vms.items()
                if n not in self.items and n not in self.undiscovered and n not in self.owners
                and vm.location == "westeurope"}

    def refresh_discovery(self, module, rg, name, timeout=600):
        self.log("REFRESH")
        self.undiscovered.clear()

    def backup_status(self, module, location, vm_id):
        name = vm_id.rsplit("/", 1)[-1]
        self.log("BACKUPSTATUS " + name)
        owner = self.owners.get(name)
        return {"vaultId": owner, "protectionStatus": "Protected"} if owner else {"protectionStatus": "NotProtected"}

    def read_with_status(self, module, refs, concurrency=8):
        refs = list(refs)
        self.log("READ vms %s" % ",".join(r.name for r in refs))
        return {r: self.vms.get(r.name) for r in refs}

    def existing(self, module, refs, concurrency=8):
        refs = list(refs)
        self.log("EXISTING %s" % ",".join(r.name for r in refs))
        return {r for r in refs if r.name in self.vms}

    def begin_put(self, module, rg, vault, vm, props, action, wait=True):
        self.log("PUT %s %s" % (vm.name, sorted(props)))
        if vm.name in self.refuse:
            raise self.refuse[vm.name]
        if props.get("isRehydrate"):
            new = item(vm.name, self.items[vm.name]["properties"]["policyName"], "ProtectionStopped")
        elif props.get("protectionState") == "ProtectionStopped":
            new = item(vm.name, self.items[vm.name]["properties"]["policyName"], "ProtectionStopped")
        else:
            extra = {"extendedProperties": props["extendedProperties"]} if "extendedProperties" in props else {}
            new = item(vm.name, props["policyId"].rsplit("/", 1)[-1], "IRPending", **extra)
        self.items[vm.name] = new
        self.last_props = props
        return Poller(new)

    def start_delete(self, module, rg, vault, vm):
        self.log("DELETE " + vm.name)
        self.items[vm.name] = item(vm.name, state="ProtectionStopped", isScheduledForDeferredDelete=True,
                                   deferredDeleteTimeInUTC="2026-11-26T10:00:00Z", softDeleteRetentionPeriod=14)
        return "op-" + vm.name


@pytest.fixture
def azure(monkeypatch):
    return Azure(monkeypatch)


def params(**kw):
    found = {"resource_group": "rg-v", "vault_name": "rsv", "vm": None, "vms": None, "state": "present",
             "policy": "DefaultPolicy", "policies": None, "include_disk_luns": None, "exclude_disk_luns": None,
             "require_agent_ready": True, "location": None, "pending_policies": [], "concurrency": 4,
             "wait": True, "wait_timeout": 60}
    found.update(kw)
    return found


def run(azure, check_mode=False, **kw):
    """plan and apply, as vm_protection does: the run and its results by VM name."""
    fleet = engine.FleetRun(Module(check_mode), params(**kw))
    fleet.plan()
    fleet.apply()
    return fleet, {e.ref.name: fleet.result(e) for e in fleet.entries}


# -- the helpers ---------------------------------------------------------------------------------

def test_wanted_policies_default_one_or_a_list_without_repeats():
    assert engine.wanted_policies({"policy": None, "policies": None}) == ["DefaultPolicy"]
    assert engine.wanted_policies({"policy": "Daily", "policies": None}) == ["Daily"]
    assert engine.wanted_policies({"policies": ["P2", "p2", "P1", "P2"]}) == ["P2", "P1"]
    for bad, words in (([], "at least one"), (["P1", " "], "every entry must be a policy name"),
                       ([None], "every entry must be a policy name")):
        with pytest.raises(AzureBackupError) as err:
            engine.wanted_policies({"policies": bad})
        assert err.value.code == "InvalidParameters" and words in err.value.message


def test_most_room_ties_go_to_the_first_listed():
    assert engine.most_room({"P1": 2, "P2": 3, "P3": 3}) == "P2"
    assert engine.most_room({"P1": 0, "P2": 0}) == "P1"
    assert engine.most_room({"P1": -1, "P2": 0}) == "P2"


def test_policy_count_and_policy_name_of():
    assert engine.policy_count({"properties": {"protectedItemsCount": 42}}) == 42
    assert engine.policy_count({"properties": {}}) == 0 and engine.policy_count({}) == 0
    assert engine.policy_name_of(item("a", "Daily")) == "Daily"
    assert engine.policy_name_of(None) == "" and engine.policy_name_of({"properties": {}}) == ""


def test_joins_only_error_free_vms_put_on_a_policy():
    def entry(actions, error=False):
        found = engine.Entry(ref("a"))
        found.actions = actions
        if error:
            found.fail("X", "boom")
        return found
    assert [engine.joins(entry(a)) for a in (["enable"], ["update"], ["undelete", "resume"])] == [True] * 3
    assert [engine.joins(entry(a)) for a in ([], ["stop"], ["delete"])] == [False] * 3
    assert engine.joins(entry(["enable"], error=True)) is False


@pytest.mark.parametrize("option", ["include_disk_luns", "exclude_disk_luns"])
def test_validate_luns(option):
    engine.validate_luns({option: [0, 63]})
    engine.validate_luns({option: None})
    with pytest.raises(AzureBackupError) as err:
        engine.validate_luns({option: [0, 64, -1]})
    assert err.value.code == "InvalidParameters"
    assert err.value.message == "%s: LUNs must be between 0 and 63, got [64, -1]." % option


def test_capacity_and_upfront_errors_name_the_counts():
    listed = [{"name": "P1", "properties": {"protectedItemsCount": 99}}, {"name": "P2", "properties": {}}]
    error = engine.capacity_error("rsv", listed, {"P1": 1, "P2": -3}, 5)
    assert error.code == "PolicyVmLimitExceeded" and error.remediation == engine.MORE_POLICIES
    assert error.message.startswith("5 VM(s) would join P1 (99 of 100), P2 (0 of 100) of vault rsv, which have "
                                    "room for 1 more")
    one = engine.too_many_vms_error(["Daily"], 101)
    assert "101 VMs for policy Daily" in one.message and "at most 100 fit" in one.message
    two = engine.too_many_vms_error(["P1", "P2"], 201)
    assert "201 VMs for 2 policies (P1, P2)" in two.message and "at most 200 fit" in two.message


def test_entry_keeps_its_first_error_and_says_whether_it_is_a_preflight_verdict():
    entry = engine.Entry(ref("a"))
    assert entry.error_dict() is None
    entry.judge({"code": "AgentNotReady", "level": "warning", "message": "w"})
    assert entry.error is None and len(entry.verdicts) == 1
    entry.judge({"code": "VmInAnotherRegion", "level": "error", "message": "elsewhere"})
    entry.fail("AzureError", "later")
    assert entry.error_dict() == {"code": "VmInAnotherRegion", "message": "elsewhere", "preflight": True}
    failed = engine.Entry(ref("b"))
    failed.fail("Timeout", "too slow")
    failed.fail("Other", "ignored")
    assert failed.error_dict() == {"code": "Timeout", "message": "too slow", "preflight": False}


# -- FleetRun: reads once, judges, writes what differs -------------------------------------------

def test_a_converged_run_reads_three_things_and_writes_nothing(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b", "c")}
    azure.items = {n: item(n) for n in ("a", "b", "c")}
    fleet, rows = run(azure, vms=["rg-a/a", "rg-a/b", "rg-a/c"])
    assert azure.requests == ["GET vault", "GET policy DefaultPolicy", "LIST items"]
    assert [e.changed for e in fleet.entries] == [False] * 3
    assert {r["state"] for r in rows.values()} == {"present"} and rows["a"]["policy"] == "DefaultPolicy"


def test_new_vms_cost_one_read_of_each_kind_and_a_put_each(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b", "c")}
    azure.items = {"c": item("c")}
    fleet, rows = run(azure, vms=["rg-a/a", "rg-a/b", "rg-a/c"])
    assert azure.requests[:6] == ["GET vault", "GET policy DefaultPolicy", "LIST items", "READ vms a,b",
                                  "LIST locks", "LIST protectable"]
    assert sorted(azure.requests[6:]) == ["PUT a ['policyId']", "PUT b ['policyId']"]
    assert [rows[n]["actions"] for n in "abc"] == [["enable"], ["enable"], []]
    assert rows["a"]["protection_status"] == "initial backup pending" and rows["a"]["policy"] == "DefaultPolicy"
    assert azure.last_props["policyId"] == protection.policy_id(SUB, "rg-v", "rsv", "DefaultPolicy")
    assert [e.changed for e in fleet.entries] == [True, True, False]


def test_check_mode_predicts_the_writes_and_sends_none(azure):
    azure.vms = {"a": vm_model("a")}
    fleet, rows = run(azure, check_mode=True, vm="rg-a/a")
    assert azure.writes() == [] and fleet.entries[0].changed
    assert rows["a"]["state"] == "present" and rows["a"]["protection_status"] == engine.PENDING["enable"]
    assert rows["a"]["protection_state"] is None


def test_preflight_verdicts_stop_their_vm_only(azure):
    azure.vms = {"ok": vm_model("ok"), "far": vm_model("far", "eastus")}
    azure.locks = [{"id": "/subscriptions/%s/resourceGroups/AzureBackupRG_westeurope_1/providers/Microsoft."
                          "Authorization/locks/keep" % SUB, "name": "keep", "properties": {"level": "CanNotDelete"}}]
    _fleet, rows = run(azure, vms=["rg-a/ok", "rg-a/far", "rg-a/ghost"])
    assert rows["far"]["error"]["code"] == "VmInAnotherRegion" and rows["far"]["error"]["preflight"] is True
    assert rows["ghost"]["error"]["code"] == "VmNotFound" and rows["ghost"]["state"] == "absent"
    assert rows["ok"]["error"] is None and rows["ok"]["changed"]
    assert [v["code"] for v in rows["ok"]["verdicts"]] == ["BackupResourceGroupLocked"]
    assert "AzureBackupRG_westeurope_1" in rows["ok"]["warnings"][0]
    assert azure.writes() == ["PUT ok ['policyId']"]


def test_a_vm_protected_by_another_vault_is_a_verdict_from_its_backup_status(azure):
    azure.vms = {"a": vm_model("a")}
    azure.owners = {"a": OTHER_VAULT_ID}
    _fleet, rows = run(azure, vm="rg-a/a")
    # one VM: its backup status costs less than the vault list and every vault's items
    assert "BACKUPSTATUS a" in azure.requests and "LIST vaults" not in azure.requests
    assert rows["a"]["error"]["code"] == "ProtectedByAnotherVault" and "rsv-other" in rows["a"]["error"]["message"]
    assert azure.writes() == []


def test_undiscovered_vms_run_the_discovery_once_for_all(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b")}
    azure.undiscovered = {"a", "b"}
    fleet, rows = run(azure, vms=["rg-a/a", "rg-a/b"])
    assert azure.requests.count("REFRESH") == 1 and azure.requests.count("LIST protectable") == 2
    assert fleet.refreshed and [rows[n]["actions"] for n in "ab"] == [["enable"], ["enable"]]
    assert all("Discovered" in [v["code"] for v in rows[n]["verdicts"]] for n in "ab")
    assert sorted(w.split()[1] for w in azure.writes() if w.startswith("PUT")) == ["a", "b"]


def test_check_mode_says_the_discovery_would_run_and_runs_none(azure):
    azure.vms = {"a": vm_model("a")}
    azure.undiscovered = {"a"}
    _fleet, rows = run(azure, check_mode=True, vm="rg-a/a")
    assert azure.writes() == [] and rows["a"]["actions"] == ["enable"]
    assert [v["code"] for v in rows["a"]["verdicts"]] == ["DiscoveryNeeded"]


def test_a_vm_this_vault_protected_meanwhile_is_read_again_not_written(azure, monkeypatch):
    azure.vms = {"a": vm_model("a")}
    azure.owners = {"a": VAULT_ID}
    reads = []

    def protected_items(module, rg, name):
        reads.append(1)     # the second read finds what another run did meanwhile
        return {} if len(reads) == 1 else {ref("a").key: item("a")}
    monkeypatch.setattr(protection, "protected_items", protected_items)
    _fleet, rows = run(azure, vm="rg-a/a")
    assert len(reads) == 2 and azure.writes() == [] and not rows["a"]["changed"]
    assert "ProtectedMeanwhile" in [v["code"] for v in rows["a"]["verdicts"]]


def test_one_refused_put_fails_its_vm_and_not_the_others(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b")}
    azure.refuse = {"a": AzureBackupError("Failed to configure: UserErrorX", code="UserErrorX", status=400)}
    fleet, rows = run(azure, vms=["rg-a/a", "rg-a/b"])
    assert rows["a"]["error"] == {"code": "UserErrorX", "message": "Failed to configure: UserErrorX",
                                  "preflight": False}
    assert not rows["a"]["changed"] and rows["b"]["changed"] and rows["b"]["error"] is None
    assert [e.writes for e in fleet.entries] == [0, 1]


def test_disk_selection_is_written_and_compared(azure):
    azure.vms = {n: vm_model(n) for n in ("same", "other")}
    same = {"diskExclusionProperties": {"diskLunList": [0], "isInclusionList": True}}
    azure.items = {"same": item("same", extendedProperties=same), "other": item("other")}
    _fleet, rows = run(azure, vms=["rg-a/same", "rg-a/other"], include_disk_luns=[0])
    assert azure.writes() == ["PUT other ['extendedProperties', 'policyId']"]
    assert azure.last_props["extendedProperties"] == same
    assert rows["other"]["actions"] == ["update"] and rows["other"]["disks"]["include_disk_luns"] == [0]
    assert not rows["same"]["changed"]


def test_policies_without_room_fail_before_any_write(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b", "c")}
    azure.policies = {"P1": 99, "P2": 100}
    with pytest.raises(AzureBackupError) as err:
        run(azure, vms=["rg-a/a", "rg-a/b"], policies=["P1", "P2"])
    assert err.value.code == "PolicyVmLimitExceeded" and "room for 1 more" in err.value.message
    assert azure.writes() == [] and azure.requests.count("LIST policies") == 1


def test_too_many_vms_are_refused_before_any_read(azure):
    with pytest.raises(AzureBackupError) as err:
        run(azure, vms=["rg-a/vm-%d" % i for i in range(101)])
    assert err.value.code == "PolicyVmLimitExceeded" and azure.requests == []


def test_stop_and_delete(azure):
    azure.vms = {n: vm_model(n) for n in ("a", "b")}
    azure.items = {"a": item("a"), "b": item("b")}
    _fleet, rows = run(azure, vms=["rg-a/a"], state="stopped")
    assert azure.writes() == ["PUT a ['protectionState']"] and rows["a"]["state"] == "stopped"
    azure.requests.clear()
    _fleet, rows = run(azure, vms=["rg-a/a", "rg-a/b"], state="absent")
    assert sorted(azure.writes()) == ["DELETE a", "DELETE b"]
    assert sorted(r for r in azure.requests if r.startswith("STATUS")) == ["STATUS op-a", "STATUS op-b"]
    assert azure.requests[-1] == "LIST items"          # read once more after the deletions ended
    assert rows["a"]["state"] == "soft_deleted" and rows["a"]["soft_delete_until"] == "2026-12-10T10:00:00Z"


def test_removing_a_vm_the_vault_does_not_hold_changes_nothing(azure):
    azure.vms = {"real": vm_model("real")}
    _fleet, rows = run(azure, vms=["rg-a/real", "rg-a/typo"], state="absent")
    assert azure.requests == ["GET vault", "LIST items", "EXISTING real,typo"]
    assert rows["real"]["verdicts"] == [] and rows["real"]["error"] is None and not rows["real"]["changed"]
    assert [v["code"] for v in rows["typo"]["verdicts"]] == ["VmNotFound"] and rows["typo"]["error"] is None


def test_a_soft_deleted_vm_is_undeleted_then_resumed(azure):
    azure.vms = {"a": vm_model("a")}
    azure.items = {"a": item("a", state="ProtectionStopped", isScheduledForDeferredDelete=True)}
    _fleet, rows = run(azure, vm="rg-a/a")
    assert azure.writes() == ["PUT a ['isRehydrate', 'protectionState']", "PUT a ['policyId']"]
    assert rows["a"]["actions"] == ["undelete", "resume"] and rows["a"]["state"] == "present"


def test_the_vault_must_exist_and_be_in_the_vms_region(azure, monkeypatch):
    azure.vault = None
    with pytest.raises(AzureBackupError) as err:
        run(azure, vm="rg-a/a")
    assert err.value.code == "ResourceNotFound" and azure.requests == ["GET vault"]
    # check mode with a location: the vault an earlier task would create, nothing of it read
    monkeypatch.setattr(engine.locations, "require", lambda module, location: location)
    azure.requests.clear()
    azure.vms = {"a": vm_model("a")}
    fleet, rows = run(azure, check_mode=True, vm="rg-a/a", location="West Europe")
    assert fleet.pending and "LIST items" not in azure.requests and "GET policy DefaultPolicy" not in azure.requests
    assert rows["a"]["actions"] == ["enable"] and azure.writes() == []
    azure.vault = {"id": VAULT_ID, "name": "rsv", "location": "eastus"}
    with pytest.raises(AzureBackupError) as err:
        run(azure, vm="rg-a/a", location="westeurope")
    assert err.value.code == "VaultLocationMismatch"


# -- EnhancedPolicyRequired ---------------------------------------------------------------------------

def secured_vm(name, security="TrustedLaunch", data_sku=None):
    model = vm_model(name)
    model.security_profile = NS(security_type=security)
    if data_sku:
        model.storage_profile.data_disks = [NS(lun=0, managed_disk=NS(storage_account_type=data_sku))]
    return model


@pytest.fixture
def typed(azure, monkeypatch):
    """Policies with their type: DefaultPolicy V1, EnhancedPolicy V2 (the vault also lists Other, V1)."""
    types = {"DefaultPolicy": "V1", "EnhancedPolicy": "V2", "Other": "V1"}
    azure.policies.update({"EnhancedPolicy": 0, "Other": 0})

    def policy(name):
        return {"name": name, "properties": {"backupManagementType": "AzureIaasVM", "policyType": types[name],
                                             "protectedItemsCount": azure.policies[name]}}
    azure.policy = policy
    monkeypatch.setattr(policies, "vm_policies", lambda module, rg, vault: azure.log("LIST policies") or {
        n.lower(): policy(n) for n in ("DefaultPolicy", "Other", "EnhancedPolicy")})
    return azure


def test_a_vm_needing_an_enhanced_policy_is_refused_before_any_write(typed):
    typed.vms = {"tl": secured_vm("tl"), "ultra": secured_vm("ultra", None, "UltraSSD_LRS"), "plain": vm_model("plain")}
    _fleet, rows = run(typed, vms=["rg-a/tl", "rg-a/ultra", "rg-a/plain"])
    for name in ("tl", "ultra"):
        assert rows[name]["error"]["code"] == "EnhancedPolicyRequired" and rows[name]["error"]["preflight"] is True
        assert not rows[name]["changed"] and rows[name]["state"] == "absent"
    assert "Trusted Launch" in rows["tl"]["error"]["message"]
    assert "LUN 0 is Ultra Disk (UltraSSD_LRS)" in rows["ultra"]["error"]["message"]
    assert typed.writes() == ["PUT plain ['policyId']"]
    assert "LIST policies" not in typed.requests     # no enhanced_policy: nothing more is read


def test_check_mode_predicts_the_refusal(typed):
    typed.vms = {"tl": secured_vm("tl", "ConfidentialVM")}
    _fleet, rows = run(typed, check_mode=True, vm="rg-a/tl")
    assert rows["tl"]["error"]["code"] == "EnhancedPolicyRequired" and typed.writes() == []


def test_an_enhanced_policy_of_the_task_takes_such_vms(typed):
    typed.vms = {"tl": secured_vm("tl"), "a": vm_model("a"), "b": vm_model("b")}
    typed.policies["EnhancedPolicy"] = 50      # less room than DefaultPolicy: the plain VMs go there
    _fleet, rows = run(typed, vms=["rg-a/tl", "rg-a/a", "rg-a/b"], policy=None,
                       policies=["DefaultPolicy", "EnhancedPolicy"])
    assert rows["tl"]["policy"] == "EnhancedPolicy" and rows["tl"]["error"] is None
    assert rows["a"]["policy"] == rows["b"]["policy"] == "DefaultPolicy"
    assert not [v for v in rows["tl"]["verdicts"] if v["code"] == "EnhancedPolicyChosen"]


def test_enhanced_policy_auto_picks_one_the_vault_lists_and_a_rerun_changes_nothing(typed):
    typed.vms = {"tl": secured_vm("tl"), "plain": vm_model("plain")}
    _fleet, rows = run(typed, vms=["rg-a/tl", "rg-a/plain"], enhanced_policy="auto")
    assert rows["tl"]["policy"] == "EnhancedPolicy" and rows["plain"]["policy"] == "DefaultPolicy"
    assert [v["code"] for v in rows["tl"]["verdicts"]] == ["EnhancedPolicyChosen"]
    assert typed.requests.count("LIST policies") == 1
    assert sorted(typed.writes()) == ["PUT plain ['policyId']", "PUT tl ['policyId']"]
    typed.items["tl"]["properties"]["policyType"] = "V2"     # as Azure lists an item of an enhanced policy
    typed.requests.clear()
    fleet, rows = run(typed, vms=["rg-a/tl", "rg-a/plain"], enhanced_policy="auto")
    assert typed.requests == ["GET vault", "GET policy DefaultPolicy", "LIST items"]
    assert not any(e.changed for e in fleet.entries) and rows["tl"]["policy"] == "EnhancedPolicy"


def test_enhanced_policy_auto_without_one_in_the_vault_is_the_verdict(typed, monkeypatch):
    monkeypatch.setattr(policies, "vm_policies", lambda module, rg, vault: {"defaultpolicy": typed.policy("DefaultPolicy")})
    typed.vms = {"tl": secured_vm("tl")}
    _fleet, rows = run(typed, vm="rg-a/tl", enhanced_policy="auto")
    assert rows["tl"]["error"]["code"] == "EnhancedPolicyRequired"
    assert "lists no enhanced (V2) policy" in rows["tl"]["error"]["message"] and typed.writes() == []


def test_a_named_enhanced_policy_must_be_one(typed):
    typed.vms = {"tl": secured_vm("tl")}
    _fleet, rows = run(typed, vm="rg-a/tl", enhanced_policy="EnhancedPolicy")
    assert rows["tl"]["policy"] == "EnhancedPolicy" and "GET policy EnhancedPolicy" in typed.requests
    typed.items.clear()
    with pytest.raises(AzureBackupError) as err:
        run(typed, vm="rg-a/tl", enhanced_policy="Other")
    assert err.value.code == "InvalidParameters" and "Other" in err.value.message and typed.writes() == [
        "PUT tl ['policyId']"]


def test_a_protected_vm_keeps_its_standard_policy_when_only_its_disks_change(typed):
    typed.vms = {"tl": secured_vm("tl")}
    typed.items = {"tl": item("tl")}
    _fleet, rows = run(typed, vm="rg-a/tl", include_disk_luns=[0])
    assert rows["tl"]["error"] is None and rows["tl"]["actions"] == ["update"] and rows["tl"]["policy"] == "DefaultPolicy"
