# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/vaults.py: vault names, item counts as billed, the facts of a vault."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults


@pytest.mark.parametrize("name", ["ab", "a" * 50, "rsv-prod-01", "R2d2"])
def test_valid_vault_names(name):
    vaults.validate_vault_name(name)


@pytest.mark.parametrize("name", ["a", "a" * 51, "1abc", "ab_c", "ab.c", "vä-ult", "-abc", "", None])
def test_invalid_vault_names(name):
    with pytest.raises(AzureBackupError) as err:
        vaults.validate_vault_name(name)
    assert err.value.code == "InvalidVaultName"


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
