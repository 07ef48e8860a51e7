# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/vms.py: every form of a VM reference, and the VMs read with their status (a GET each or one list)."""

import threading
import time

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import vms

SUB = "00000000-0000-0000-0000-000000000001"
VM_ID = "/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/web-01" % SUB


@pytest.mark.parametrize("value", [
    VM_ID, VM_ID.lower(), "rg-a/web-01", {"name": "web-01", "resource_group": "rg-a"}, {"id": VM_ID},
])
def test_every_reference_form_names_the_same_vm(value):
    ref = vms.parse_ref(value, SUB)
    assert ref == vms.VmRef(SUB, "rg-a", "web-01")
    assert ref.id.lower() == VM_ID.lower()
    assert vms.item_name(ref) == "vm;iaasvmcontainerv2;rg-a;web-01"
    assert vms.container_name(ref) == "iaasvmcontainer;iaasvmcontainerv2;rg-a;web-01"


@pytest.mark.parametrize("value, words", [
    ("/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa" % SUB,
     "Microsoft.Storage/storageAccounts resource, not a virtual machine"),
    ("/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1" % SUB, "Microsoft.Compute/disks"),
    ("/subscriptions/%s/resourceGroups/rg" % SUB, "not an ARM resource id"),
    ("web-01", "bare name"),
    ({"name": "web-01"}, "both name and resource_group"),
    ({"name": "web-01", "resource_group": "rg", "region": "x"}, "unknown keys region"),
    (42, "expected a string or a dict"),
    ("", "expected a string or a dict"),
])
def test_bad_references_are_refused_with_the_reason(value, words):
    with pytest.raises(AzureBackupError) as info:
        vms.parse_ref(value, SUB)
    assert words in str(info.value)
    assert info.value.code == "InvalidVmReference"


def test_vm_and_vms_rules_and_duplicates():
    with pytest.raises(AzureBackupError, match="mutually exclusive"):
        vms.refs_from_params({"vm": "rg/a", "vms": ["rg/b"]}, SUB)
    with pytest.raises(AzureBackupError, match="empty list"):
        vms.refs_from_params({"vm": None, "vms": []}, SUB)
    refs = vms.refs_from_params({"vms": ["rg/a", "RG/A", VM_ID, "rg/b"]}, SUB)
    assert [r.label for r in refs] == ["rg/a", "rg-a/web-01", "rg/b"]
    assert vms.refs_from_params({"vm": None, "vms": None}, SUB) == []


# -- read_with_status: a GET each for a few VMs, the status list for more ----------------------

class Reader:
    """A module whose VMs are read through the mocked vms.get_vm / vms.list_vms, counting the calls."""

    subscription_id = SUB

    def __init__(self, monkeypatch, names, delay=0.0):
        self.known = {name: type("Vm", (), {"id": vms.VmRef(SUB, "RG-A", name).id, "name": name})()
                      for name in names}
        self.gets, self.lists, self.clients = [], [], []
        self.running, self.peak, self.lock = 0, 0, threading.Lock()

        def get_vm(module, ref, instance_view=False):
            with self.lock:
                self.gets.append((ref.name, instance_view))
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(delay)
            with self.lock:
                self.running -= 1
            return self.known.get(ref.name)

        def list_vms(module, resource_group=None, location=None, status=False):
            self.lists.append((resource_group, location, status))
            return list(self.known.values())
        monkeypatch.setattr(vms, "get_vm", get_vm)
        monkeypatch.setattr(vms, "list_vms", list_vms)

    def client(self, kind):
        self.clients.append(kind)


def refs_of(*names):
    return [vms.VmRef(SUB, "rg-a", name) for name in names]


def test_up_to_the_threshold_each_vm_is_one_get_with_its_instance_view(monkeypatch):
    module = Reader(monkeypatch, ["web-%d" % i for i in range(9)], delay=0.02)
    names = ["web-%d" % i for i in range(vms.READ_EACH_UP_TO)]
    found = vms.read_with_status(module, refs_of(*names), concurrency=2)
    assert list(found) == refs_of(*names) and [vm.name for vm in found.values()] == names
    assert sorted(module.gets) == [(name, True) for name in names] and module.lists == []
    assert module.peak == 2 and module.clients == ["compute"]


def test_above_the_threshold_one_status_list(monkeypatch):
    module = Reader(monkeypatch, ["web-%d" % i for i in range(9)])
    names = ["web-%d" % i for i in range(vms.READ_EACH_UP_TO + 1)]
    found = vms.read_with_status(module, refs_of(*reversed(names)))
    assert [vm.name for vm in found.values()] == list(reversed(names))
    assert module.gets == [] and module.lists == [(None, None, True)]


@pytest.mark.parametrize("count", [2, vms.READ_EACH_UP_TO, vms.READ_EACH_UP_TO + 1])
def test_a_missing_vm_is_none_either_way_and_another_subscription_is_not_read(monkeypatch, count):
    module = Reader(monkeypatch, ["web-%d" % i for i in range(9)])
    ghost = vms.VmRef(SUB, "rg-a", "ghost")
    elsewhere = vms.VmRef("00000000-0000-0000-0000-0000000000ff", "rg-a", "web-8")  # web-8 exists in SUB
    refs = refs_of(*["web-%d" % i for i in range(count - 2)]) + [ghost, elsewhere]
    found = vms.read_with_status(module, refs)
    assert list(found) == refs and found[ghost] is None and found[elsewhere] is None
    assert all(found[ref].name == ref.name for ref in refs[:-2])
    assert "web-8" not in [get[0] for get in module.gets]
    assert bool(module.lists) == (count > vms.READ_EACH_UP_TO) and bool(module.gets) != bool(module.lists)


def test_an_azure_error_on_one_vm_is_raised(monkeypatch):
    def get_vm(module, ref, instance_view=False):
        if ref.name == "b":
            raise AzureBackupError("Failed to read the VM rg-a/b: AuthorizationFailed", code="AuthorizationFailed")
    monkeypatch.setattr(vms, "get_vm", get_vm)
    module = Reader.__new__(Reader)
    module.clients = []
    with pytest.raises(AzureBackupError, match="AuthorizationFailed"):
        vms.read_with_status(module, refs_of("a", "b", "c"))
