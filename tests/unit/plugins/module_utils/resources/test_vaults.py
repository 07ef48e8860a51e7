# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import transform, waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import redundancy, vaults

UNLOCKED = {"storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": False}
LOCKED = dict(UNLOCKED, locked=True)


@pytest.mark.parametrize("name", ["ab", "a" * 50, "rsv-prod-01", "R2d2"])
def test_valid_vault_names(name):
    vaults.validate_vault_name(name)


@pytest.mark.parametrize("name", ["a", "a" * 51, "1abc", "ab_c", "ab.c", "vä-ult", "-abc", "", None])
def test_invalid_vault_names(name):
    with pytest.raises(AzureBackupError) as err:
        vaults.validate_vault_name(name)
    assert err.value.code == "InvalidVaultName"


def test_redundancy_plan_rules():
    assert redundancy.plan(UNLOCKED, "LocallyRedundant")["storage_redundancy"] == "LocallyRedundant"
    assert redundancy.plan(LOCKED, "GeoRedundant") == LOCKED               # same value: accepted
    with pytest.raises(AzureBackupError) as err:
        redundancy.plan(LOCKED, "ZoneRedundant", vault_name="v", item_names=["vm2", "vm1"])
    assert err.value.code == "StorageModelModifyError" and "vm1, vm2" in err.value.message
    # given as a function, the names are read only for the refusal
    listed = []
    assert redundancy.plan(LOCKED, "GeoRedundant", item_names=lambda: listed.append(1) or ["vm1"]) == LOCKED
    assert listed == []
    with pytest.raises(AzureBackupError) as err:
        redundancy.plan(LOCKED, "ZoneRedundant", vault_name="v", item_names=lambda: listed.append(1) or ["vm3"])
    assert listed == [1] and "vm3" in err.value.message
    with pytest.raises(AzureBackupError) as err:
        redundancy.plan(UNLOCKED, "LocallyRedundant", True)
    assert err.value.code == "CrossRegionRestoreNeedsGeoRedundant"
    with pytest.raises(AzureBackupError) as err:
        redundancy.plan(dict(LOCKED, cross_region_restore=True), cross_region_restore=False)
    assert err.value.code == "CrossRegionRestoreNotReversible"
    assert redundancy.changed(UNLOCKED, redundancy.plan(UNLOCKED, cross_region_restore=True))
    assert not redundancy.changed(UNLOCKED, redundancy.plan(UNLOCKED))


def test_item_counts_follow_billing():
    items = [{"properties": {"protectionState": "Protected"}},
             {"properties": {"protectionState": "IRPending"}},
             {"properties": {"protectionState": "ProtectionStopped"}},
             {"properties": {"protectionState": "ProtectionStopped", "isScheduledForDeferredDelete": True}}]
    assert vaults.item_counts(items) == {"protected_item_count": 2, "stopped_item_count": 1,
                                         "soft_deleted_item_count": 1, "billed_instance_count": 3}


def test_vault_facts():
    facts = vaults.vault_facts({
        "id": "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/v",
        "name": "v", "location": "westeurope", "sku": {"name": "Standard"},
        "properties": {"provisioningState": "Succeeded",
                       "redundancySettings": {"standardTierStorageRedundancy": "ZoneRedundant",
                                              "crossRegionRestore": "Disabled"},
                       "securitySettings": {"softDeleteSettings": {"softDeleteState": "Enabled",
                                                                   "softDeleteRetentionPeriodInDays": 14}}}})
    assert facts["resource_group"] == "rg-a" and facts["storage_redundancy"] == "ZoneRedundant"
    assert facts["cross_region_restore"] is False and facts["immutability_state"] == "Disabled"
    assert facts["tags"] == {} and facts["public_network_access"] == "Enabled"


class FakePoller:
    def __init__(self, done, result=None, exc=None):
        self._done, self._result, self._exc = done, result, exc
        self.waited = None

    def wait(self, timeout=None):
        self.waited = timeout
        if self._exc:
            raise self._exc

    def done(self):
        return self._done

    def result(self):
        return self._result


def test_finish_waits_and_times_out():
    assert waiting.finish(FakePoller(True, "r"), "x", True, 5) == "r"
    assert waiting.finish(FakePoller(True, "r"), "x", False, 5) is None
    slow = FakePoller(False)
    with pytest.raises(AzureBackupError) as err:
        waiting.finish(slow, "create vault v", True, 7, deadline=waiting.Deadline(7, clock=lambda: 100.0))
    assert slow.waited == 7 and err.value.code == "Timeout" and "continues in Azure" in err.value.message
    assert waiting.poll_kwargs(False) == {"polling": False} and waiting.poll_kwargs(True) == {}


def test_transform_helpers():
    assert transform.purge_tags({"a": "1", "b": "2"}, {"c": "3"}, True) == {"c": "3"}
    assert transform.purge_tags({"a": "1"}, {"c": "3"}, False) == {"a": "1", "c": "3"}
    assert transform.purge_tags({"a": "1"}, None, True) == {"a": "1"}
    assert transform.resource_group_of("/subscriptions/s/resourceGroups/RG/providers/x/y/z") == "RG"
    assert transform.diff(None, {"a": 1}) == {"before": {}, "after": {"a": 1}}
