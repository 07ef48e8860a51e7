# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/redundancy.py: a vault's storage redundancy and cross-region restore, planned before any write."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import redundancy

UNLOCKED = {"storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": False}
LOCKED = dict(UNLOCKED, locked=True)


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
