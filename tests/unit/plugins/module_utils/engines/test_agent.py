# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import copy

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import agent
from ansible_collections.backupops.azure.plugins.module_utils.resources import vms

from ..fakes import Clock

SUB = "00000000-0000-0000-0000-000000000000"


def vm(name="vm1", rg="rg1", os_type="Linux", power="running", agent_view="ready", version="2.9.1.1",
       profile=True, allow=True, extensions=None, resources=None):
    statuses = [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"}]
    if power:
        statuses.append({"code": "PowerState/" + power, "level": "Info", "displayStatus": "VM " + power})
    view = {"statuses": statuses}
    if agent_view == "ready":
        view["vmAgent"] = {"vmAgentVersion": version, "statuses": [{
            "code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
            "message": "GuestAgent is running and processing the extensions.", "time": "2024-04-28T06:38:41+00:00"}]}
    elif agent_view == "not_ready":
        # As recorded by the az CLI's tests (test_backup_item.yaml): a VM whose agent has not reported yet.
        view["vmAgent"] = {"vmAgentVersion": "Unknown", "statuses": [{
            "code": "ProvisioningState/Unavailable", "level": "Warning", "displayStatus": "Not Ready",
            "message": "VM status blob is found but not yet populated.", "time": "2024-04-28T06:38:41+00:00"}]}
    if extensions:
        view["extensions"] = extensions
    props = {"storageProfile": {"osDisk": {"osType": os_type}}, "instanceView": view}
    if profile:
        key = "windowsConfiguration" if os_type == "Windows" else "linuxConfiguration"
        props["osProfile"] = {key: {"provisionVMAgent": True}, "allowExtensionOperations": allow}
    body = {"id": vms.VmRef(SUB, rg, name).id, "name": name, "location": "West Europe", "properties": props}
    if resources:
        body["resources"] = resources
    return body


def test_versions():
    assert agent.parse_version("2.7.41491.1095") == (2, 7, 41491, 1095)
    assert agent.parse_version("Unknown") is None and agent.parse_version(None) is None
    assert agent.parse_version("2.7.x") is None
    assert agent.at_least("2.6.1198.718", "2.6.1198.718") is True
    assert agent.at_least("2.6.1198.700", "2.6.1198.718") is False
    assert agent.at_least("2.10", "2.9.1.1") is True          # numeric, not lexical
    assert agent.at_least("2.7", "2.7.0.0") is True           # missing parts are zeros
    assert agent.at_least(None, "2.7") is None
    assert agent.validate_min_version(None, "x") is None
    with pytest.raises(AzureBackupError, match="linux_min_version must be a dotted version"):
        agent.validate_min_version("latest", "linux_min_version")


def test_ready_linux_vm():
    facts = agent.assess(vm())
    assert facts["verdict"] == "ready" and facts["remediation"] == ""
    assert facts["location"] == "westeurope" and facts["resource_group"] == "rg1" and facts["os_type"] == "Linux"
    assert facts["agent_present"] and facts["agent_status"] == "Ready" and facts["agent_version"] == "2.9.1.1"
    assert facts["provision_vm_agent"] is True and facts["allow_extension_operations"] is True
    assert facts["minimum_version"] is None and facts["meets_minimum_version"] is None
    assert agent.assess(vm(), linux_min="2.10")["verdict"] == "outdated"


def test_tags_are_returned_for_selection():
    assert agent.assess(vm())["tags"] == {}                  # a VM without tags has no "tags" key in Azure
    tagged = dict(vm(), tags={"app": "legacy", "source": "onprem"})
    assert agent.assess(tagged)["tags"] == {"app": "legacy", "source": "onprem"}


def test_windows_minimum_is_the_guides():
    old = agent.assess(vm(os_type="Windows", version="2.6.1198.700"))
    assert old["verdict"] == "outdated" and old["meets_minimum_version"] is False
    assert "2.6.1198.718" in old["remediation"] and "MSI" in old["remediation"]
    assert agent.assess(vm(os_type="Windows", version="2.6.1198.718"))["verdict"] == "ready"


def test_not_ready_as_recorded():
    facts = agent.assess(vm(os_type="Windows", agent_view="not_ready"))
    assert facts["verdict"] == "not_ready" and facts["agent_status"] == "Not Ready"
    assert facts["agent_version"] is None and facts["meets_minimum_version"] is None
    assert facts["agent_message"] == "VM status blob is found but not yet populated."
    assert "WindowsAzureGuestAgent" in facts["remediation"] and "168.63.129.16" in facts["remediation"]


def test_missing_agent_of_a_migrated_vm():
    facts = agent.assess(vm(agent_view=None, profile=False))
    assert facts["verdict"] == "missing" and not facts["agent_present"] and facts["agent_status"] == "Unknown"
    assert facts["provision_vm_agent"] is None and facts["allow_extension_operations"] is None
    assert "waagent" in facts["remediation"]
    windows = agent.assess(vm(os_type="Windows", agent_view=None, profile=False))
    assert "agent MSI" in windows["remediation"]


def test_power_state_comes_first():
    assert agent.assess(vm(power="deallocated", agent_view=None))["verdict"] == "stopped"
    assert agent.assess(vm(power="stopped"))["verdict"] == "stopped"
    starting = agent.assess(vm(power="starting", agent_view=None))
    assert starting["verdict"] == "not_ready" and "starting" in starting["remediation"]
    unknown = agent.assess(vm(power=None))           # no power state in the view: judge the agent
    assert unknown["power_state"] is None and unknown["verdict"] == "ready"


def test_extension_operations_not_allowed():
    blocked = agent.assess(vm(allow=False))
    assert blocked["verdict"] == "not_ready" and "allowExtensionOperations" in blocked["remediation"]
    assert "VMSnapshotLinux" in blocked["remediation"]
    both = agent.assess(vm(agent_view=None, allow=False))
    assert both["verdict"] == "missing" and "waagent" in both["remediation"]
    assert "allowExtensionOperations" in both["remediation"]


def test_backup_extension_from_the_view_or_the_model():
    succeeded = {"displayStatus": "Provisioning succeeded", "message": "Enable succeeded"}
    view_ext = [{"name": "VMSnapshot", "type": "Microsoft.Azure.RecoveryServices.VMSnapshot",
                 "typeHandlerVersion": "1.0.9235.0", "statuses": [succeeded]}]
    facts = agent.assess(vm(os_type="Windows", extensions=view_ext))
    assert facts["backup_extension"] == {"name": "VMSnapshot", "type": "Microsoft.Azure.RecoveryServices.VMSnapshot",
                                         "version": "1.0.9235.0", "state": "Provisioning succeeded",
                                         "message": "Enable succeeded"}
    ade = {"publisher": "Microsoft.Azure.Security", "type": "AzureDiskEncryptionForLinux"}
    snapshot = {"publisher": "Microsoft.Azure.RecoveryServices", "type": "VMSnapshotLinux",
                "typeHandlerVersion": "1.0.9225.0", "provisioningState": "Succeeded"}
    resources = [{"name": "AzureDiskEncryptionForLinux", "properties": ade},
                 {"name": "VMSnapshotLinux", "properties": snapshot}]
    from_model = agent.assess(vm(power="deallocated", agent_view=None, resources=resources))["backup_extension"]
    assert from_model["name"] == "VMSnapshotLinux" and from_model["state"] == "Succeeded"
    assert agent.assess(vm())["backup_extension"] is None


def test_wait_until_ready_rereads_only_the_pending_vms():
    clock = Clock(now=0.0, rounded=False)
    states = iter(["not_ready", "not_ready", "ready"])
    asked = []

    def reread(pending):
        asked.append([f["name"] for f in pending])
        return [agent.assess(vm(name="b", agent_view=next(states)))]
    facts = [agent.assess(vm(name="a")), agent.assess(vm(name="b", agent_view=None))]
    facts, reads, error = agent.wait_until_ready(reread, facts, 60, 10, clock=clock, sleep=clock.sleep)
    assert error is None and reads == 4 and asked == [["b"], ["b"], ["b"]] and clock.sleeps == [10, 10, 10]
    assert [f["verdict"] for f in facts] == ["ready", "ready"]


def test_wait_until_ready_gives_up_with_what_is_needed():
    clock = Clock(now=0.0, rounded=False)
    facts = [agent.assess(vm(name="b", agent_view=None))]
    facts, reads, error = agent.wait_until_ready(lambda pending: pending, facts, 25, 10, clock=clock,
                                                 sleep=clock.sleep)
    # reads at 0, 10 and 20 s, and a last one at the deadline (25 s)
    assert error.code == "Timeout" and reads == 4 and clock.now == 25
    assert error.message == "Timed out after 25 s waiting for the VM agent to report Ready: rg1/b (missing: Unknown)."
    assert "waagent" in error.remediation
    stopped = [agent.assess(vm(name="c", power="deallocated", agent_view=None))]
    _facts, reads, error = agent.wait_until_ready(lambda pending: pending, stopped, 60, 10, clock=clock,
                                                  sleep=clock.sleep)
    assert error.code == "VmNotRunning" and reads == 1 and "rg1/c (stopped: Unknown)" in error.message


def test_failures_group_by_verdict():
    facts = [agent.assess(vm(name="a", agent_view=None)), agent.assess(vm(name="b", power="deallocated")),
             agent.assess(vm(name="c", agent_view=None)), agent.assess(vm(name="d"))]
    assert agent.failures(facts, []) is None and agent.failures(facts, ["outdated"]) is None
    error = agent.failures(facts, ["missing", "stopped"])
    assert error.code == "AgentNotReady"
    assert error.message == "3 VM(s) have a verdict listed in fail_on: missing: rg1/a, rg1/c; stopped: rg1/b."
    assert "Start the VM" in error.remediation and "waagent" in error.remediation
    assert agent.summary(facts) == {"ready": 1, "not_ready": 0, "missing": 2, "outdated": 0, "stopped": 1}


class FakeModule:
    subscription_id = SUB

    def __init__(self):
        self.clients = []

    def client(self, kind):
        self.clients.append(kind)


class Model(dict):
    def as_dict(self):
        return copy.deepcopy(dict(self))


def test_read_vms_names_every_missing_vm(monkeypatch):
    known = {"a": Model(vm(name="a")), "c": Model(vm(name="c", agent_view=None))}
    for model in known.values():
        model.id = model["id"]      # what vms.ref_of reads of an SDK model
    pages = []
    monkeypatch.setattr(vms, "get_vm", lambda module, ref, instance_view=False: known.get(ref.name))
    monkeypatch.setattr(vms, "first_page", lambda module, status=False: pages.append(status) or (
        list(known.values()), False))
    module = FakeModule()
    facts = agent.read_vms(module, [vms.VmRef(SUB, "rg1", "c")], concurrency=4)
    assert [f["name"] for f in facts] == ["c"] and module.clients == ["compute"] and pages == []
    facts = agent.read_vms(module, [vms.VmRef(SUB, "rg1", n) for n in ("c", "a")], concurrency=4)
    assert [f["name"] for f in facts] == ["c", "a"] and pages == [True]
    monkeypatch.setattr(vms, "get_vm", lambda *a, **kw: pytest.fail("the first page is the whole list: no GET"))
    with pytest.raises(AzureBackupError) as err:
        agent.read_vms(module, [vms.VmRef(SUB, "rg1", n) for n in ("a", "x", "y")])
    assert err.value.code == "VmNotFound" and err.value.message.startswith("2 VMs rg1/x, rg1/y not found")
    assert pages == [True, True]


def test_read_vms_of_a_large_batch_takes_the_status_list(monkeypatch):
    listed = [Model(vm(name="vm%d" % i)) for i in range(8)]
    for model in listed:
        model.id = model["id"]      # what vms.ref_of reads of an SDK model
    monkeypatch.setattr(vms, "get_vm", lambda *a, **kw: pytest.fail("more than READ_EACH_UP_TO VMs: no GET"))
    monkeypatch.setattr(vms, "list_vms", lambda module, status=False: listed if status else pytest.fail("status"))
    refs = [vms.VmRef(SUB, "rg1", "vm%d" % i) for i in (7, 0, 3, 1, 2, 5)]
    assert [f["name"] for f in agent.read_vms(FakeModule(), refs)] == ["vm7", "vm0", "vm3", "vm1", "vm2", "vm5"]
    with pytest.raises(AzureBackupError, match="VM rg1/gone not found"):
        agent.read_vms(FakeModule(), refs + [vms.VmRef(SUB, "rg1", "gone")])


def test_read_vms_passes_azure_errors_on(monkeypatch):
    def boom(module, ref, instance_view=False):
        raise AzureBackupError("Failed to read the VM rg1/a: AuthorizationFailed", code="AuthorizationFailed")
    monkeypatch.setattr(vms, "get_vm", boom)
    with pytest.raises(AzureBackupError, match="AuthorizationFailed"):
        agent.read_vms(FakeModule(), [vms.VmRef(SUB, "rg1", "a")])


def test_read_fleet_is_one_list_filtered_here(monkeypatch):
    calls = []

    def list_vms(module, resource_group=None, location=None, status=False):
        calls.append((resource_group, location, status))
        return [Model(vm(name="z", rg="RG1")), Model(vm(name="a", rg="rg2")), Model(vm(name="b", rg="rg1"))]
    monkeypatch.setattr(vms, "list_vms", list_vms)
    facts = agent.read_fleet(FakeModule(), resource_group="rg1", location="westeurope")
    assert [f["name"] for f in facts] == ["b", "z"] and calls == [(None, "westeurope", True)]
    assert [f["name"] for f in agent.read_fleet(FakeModule())] == ["b", "z", "a"]
