# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading
import time

import pytest

from ansible_collections.backupops.azure.plugins.module_utils import batch, vms
from ansible_collections.backupops.azure.plugins.module_utils.errors import AzureBackupError

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


def test_batch_keeps_order_isolates_failures_and_bounds_concurrency():
    running, peak, lock = [0], [0], threading.Lock()

    def work(n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        if n == 3:
            raise AzureBackupError("boom", code="X")
        return n * 10

    out = batch.run_batch(range(12), work, concurrency=4)
    assert [o.item for o in out] == list(range(12))
    assert [o.value for o in out if o.ok] == [n * 10 for n in range(12) if n != 3]
    assert out[3].error.code == "X"
    assert 2 <= peak[0] <= 4


def test_batch_lets_our_own_bugs_surface():
    with pytest.raises(ZeroDivisionError):
        batch.run_batch([1, 2], lambda n: n / 0, concurrency=2)


@pytest.mark.parametrize("value", [0, 33, -1])
def test_concurrency_bounds(value):
    with pytest.raises(AzureBackupError, match="between 1 and 32"):
        batch.validate_concurrency(value)
