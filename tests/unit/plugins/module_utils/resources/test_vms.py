# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/vms.py: every form of a VM reference, and the VMs read with their status (a GET, the first
page of the subscription's list, or the whole list)."""

import threading
import time

import pytest
from azure.core.paging import ItemPaged

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


# -- read_with_status and existing: a GET for one VM, the first list page for a few, the list for more --

class Subscription:
    """A module over a faked compute client: the subscription's VMs listed in pages of ``page_size``
    by azure-core's own pager (its continuation token is the fake's next page), read one by one
    with GET; every request is counted in ``requests``: ("page", status_only, page index) or
    ("get", name, expand)."""

    subscription_id = SUB

    def __init__(self, names, page_size=200, delay=0.0, fail=None):
        self.known = [type("Vm", (), {"id": vms.VmRef(SUB, "RG-A", name).id, "name": name})() for name in names]
        self.page_size, self.delay, self.fail = page_size, delay, fail
        self.requests, self.clients, self.actions = [], [], []
        self.running, self.peak, self.lock = 0, 0, threading.Lock()
        self.virtual_machines = self

    # the module
    def client(self, kind):
        self.clients.append(kind)
        return self

    def azure_call(self, action, func, *args, **kwargs):
        self.actions.append(action)
        return func(*args, **kwargs)

    # compute.virtual_machines
    def list_all(self, status_only=None):
        def get_next(token):
            index = int(token or 0)
            self.request(("page", status_only, index))
            return index

        def extract_data(index):
            start = index * self.page_size
            more = start + self.page_size < len(self.known)
            return (str(index + 1) if more else None), iter(self.known[start:start + self.page_size])
        return ItemPaged(get_next, extract_data)

    def get(self, resource_group, name, expand=None):
        assert resource_group == "rg-a"
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.delay)
        with self.lock:
            self.running -= 1
        self.request(("get", name, expand))
        for vm in self.known:
            if vm.name == name:
                return vm
        raise AzureBackupError("Failed to read the VM rg-a/%s: ResourceNotFound" % name, code="ResourceNotFound",
                               status=404)

    def request(self, what):
        with self.lock:
            self.requests.append(what)
        if self.fail == what:
            raise AzureBackupError("Failed: AuthorizationFailed", code="AuthorizationFailed", status=403)


def refs_of(*names):
    return [vms.VmRef(SUB, "rg-a", name) for name in names]


NINE = ["web-%d" % i for i in range(9)]
# read_with_status reads with the instance views (the status list, $expand on a GET), existing without
READS = [(vms.read_with_status, "true", "instanceView"), (vms.existing, None, None)]


def answered(read, module, refs):
    """{name: name of the VM read, or None} from read_with_status's or existing's answer."""
    found = read(module, refs, concurrency=8)
    if read is vms.existing:
        return {ref.name: (ref.name if ref in found else None) for ref in refs}
    assert list(found) == refs
    return {ref.name: (vm.name if vm is not None else None) for ref, vm in found.items()}


@pytest.mark.parametrize("read, status, expand", READS)
def test_one_vm_is_one_get(read, status, expand):
    module = Subscription(NINE)
    assert answered(read, module, refs_of("web-4")) == {"web-4": "web-4"}
    assert module.requests == [("get", "web-4", expand)]


@pytest.mark.parametrize("read, status, expand", READS)
@pytest.mark.parametrize("count", range(2, vms.READ_EACH_UP_TO + 1))
def test_a_few_vms_of_a_one_page_subscription_are_one_request(read, status, expand, count):
    module = Subscription(NINE)
    names = NINE[-count:]
    assert answered(read, module, refs_of(*names)) == {name: name for name in names}
    assert module.requests == [("page", status, 0)]


@pytest.mark.parametrize("read, status, expand", READS)
def test_a_few_vms_of_a_larger_subscription_are_the_first_page_and_a_get_for_each_vm_not_on_it(
        read, status, expand):
    module = Subscription(NINE, page_size=3)
    names = ["web-7", "web-1", "web-4", "ghost", "web-2"]      # web-0..2 on the first page
    assert answered(read, module, refs_of(*names)) == dict({name: name for name in names}, ghost=None)
    assert module.requests[0] == ("page", status, 0)
    assert sorted(module.requests[1:]) == [("get", "ghost", expand), ("get", "web-4", expand),
                                           ("get", "web-7", expand)]


@pytest.mark.parametrize("read, status, expand", READS)
def test_more_vms_than_the_threshold_are_the_whole_list(read, status, expand):
    module = Subscription(NINE, page_size=4)
    names = list(reversed(NINE[:vms.READ_EACH_UP_TO + 1]))
    assert answered(read, module, refs_of(*names)) == {name: name for name in names}
    assert module.requests == [("page", status, 0), ("page", status, 1), ("page", status, 2)]


def test_the_gets_for_the_vms_not_on_the_first_page_run_concurrently_on_one_client():
    module = Subscription(NINE, page_size=1, delay=0.02)
    names = NINE[:vms.READ_EACH_UP_TO]
    found = vms.read_with_status(module, refs_of(*names), concurrency=2)
    assert [vm.name for vm in found.values()] == names
    assert module.requests[0] == ("page", "true", 0)
    assert sorted(module.requests[1:]) == [("get", name, "instanceView") for name in names[1:]]
    assert module.peak == 2 and set(module.clients) == {"compute"}


def in_order(requests):
    """The requests, the pages in their order first, then the GETs (concurrent: in any order) sorted."""
    return [r for r in requests if r[0] == "page"] + sorted(r for r in requests if r[0] == "get")


@pytest.mark.parametrize("read, status, expand", READS)
@pytest.mark.parametrize("count, page_size, requests", [
    (2, 200, [("get", "ghost")]),                      # ghost alone is in SUB: its GET
    (3, 200, [("page", 0)]),
    (vms.READ_EACH_UP_TO + 1, 200, [("page", 0)]),     # 5 in SUB: the first page answers for them all
    (5, 2, [("page", 0), ("get", "ghost"), ("get", "web-2")]),     # web-0, web-1 on the first page
    (vms.READ_EACH_UP_TO + 2, 4, [("page", 0), ("page", 1), ("page", 2)]),     # 6 in SUB: the whole list
])
def test_a_missing_vm_is_none_every_way_and_another_subscription_is_not_read(read, status, expand, count,
                                                                             page_size, requests):
    module = Subscription(NINE, page_size=page_size)
    ghost = vms.VmRef(SUB, "rg-a", "ghost")
    elsewhere = vms.VmRef("00000000-0000-0000-0000-0000000000ff", "rg-a", "web-8")  # web-8 exists in SUB
    refs = refs_of(*NINE[:count - 2]) + [ghost, elsewhere]
    expected = dict({name: name for name in NINE[:count - 2]}, ghost=None)
    expected["web-8"] = None
    assert answered(read, module, refs) == expected
    assert in_order(module.requests) == [(kind, status if kind == "page" else what, what if kind == "page" else expand)
                                         for kind, what in requests]


def test_no_vm_of_the_subscription_is_no_request():
    module = Subscription(NINE)
    elsewhere = [vms.VmRef("00000000-0000-0000-0000-0000000000ff", "rg-a", name) for name in NINE[:7]]
    assert all(vm is None for vm in vms.read_with_status(module, elsewhere).values())
    assert vms.existing(module, elsewhere) == set() and vms.existing(module, []) == set()
    assert module.requests == []


@pytest.mark.parametrize("read, status, expand", READS)
@pytest.mark.parametrize("names, page_size, failing", [
    (["web-0", "web-5", "web-6"], 3, ("get", "web-5")),     # a GET of a VM not on the first page
    (["web-0", "web-5", "web-6"], 3, ("page", 0)),          # the first page
    (["web-5"], 200, ("get", "web-5")),                     # the one VM's GET
    (NINE, 3, ("page", 2)),                                 # a page of the whole list
])
def test_the_first_azure_error_is_raised(read, status, expand, names, page_size, failing):
    failing = (failing[0], status, failing[1]) if failing[0] == "page" else failing + (expand,)
    module = Subscription(NINE, page_size=page_size, fail=failing)
    with pytest.raises(AzureBackupError, match="AuthorizationFailed"):
        read(module, refs_of(*names))
    assert failing in module.requests
