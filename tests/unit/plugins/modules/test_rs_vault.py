# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""rs_vault's decisions, with the Azure area helpers replaced at the module_utils boundary."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils import redundancy, vaults
from ansible_collections.backupops.azure.plugins.modules import rs_vault

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}
VAULT = {
    "id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv",
    "name": "rsv", "location": "westeurope", "tags": {"env": "test"}, "sku": {"name": "Standard"},
    "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
                   "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant",
                                          "crossRegionRestore": "Disabled"},
                   "securitySettings": {"softDeleteSettings": {"softDeleteState": "Enabled",
                                                               "softDeleteRetentionPeriodInDays": 14,
                                                               "enhancedSecurityState": "Enabled"},
                                        "immutabilitySettings": {"state": "Disabled"}}},
}


@pytest.fixture
def azure(monkeypatch):
    """Record every write the module would make."""
    calls = []
    state = {"vault": dict(VAULT), "items": [], "group": True, "available": (True, None)}

    def record(name, result=None):
        def func(*args, **kwargs):
            calls.append(name)
            return result() if callable(result) else result
        return func
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: state["vault"])
    monkeypatch.setattr(vaults, "protected_items", lambda module, rg, name, vm_only=True: state["items"])
    monkeypatch.setattr(vaults, "resource_group_exists", lambda module, rg: state["group"])
    monkeypatch.setattr(vaults, "name_availability", lambda *a: state["available"])
    monkeypatch.setattr(vaults, "create_resource_group", record("create_resource_group"))
    monkeypatch.setattr(vaults, "create_or_update", record("create_or_update", lambda: VAULT))
    monkeypatch.setattr(vaults, "update", record("update"))
    monkeypatch.setattr(vaults, "delete", record("delete"))
    monkeypatch.setattr(redundancy, "get_storage_config", lambda module, rg, name: {
        "storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": state.get("locked", False)})
    monkeypatch.setattr(redundancy, "apply", record("redundancy.apply"))
    return state, calls


def args(**kw):
    base = dict(AUTH, name="rsv", resource_group="rg")
    base.update(kw)
    return base


def test_no_change_no_write(run_module, azure):
    state, calls = azure
    outcome, result = run_module(rs_vault.main, args(location="West Europe", tags={"env": "test"}))
    assert outcome == "exit" and not result["changed"] and calls == []


def test_check_mode_predicts_without_writing(run_module, azure):
    state, calls = azure
    state["vault"] = None
    outcome, result = run_module(rs_vault.main, args(location="westeurope", storage_redundancy="LocallyRedundant",
                                                     _ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and calls == []
    assert result["vault"]["storage_redundancy"] == "LocallyRedundant"


def test_create_makes_the_group_only_after_the_name_check(run_module, azure):
    state, calls = azure
    state.update(vault=None, group=False, available=(False, "taken"))
    outcome, result = run_module(rs_vault.main, args(location="westeurope", create_resource_group=True))
    assert outcome == "fail" and result["error"]["code"] == "VaultNameNotAvailable" and calls == []
    state["available"] = (True, None)
    outcome, result = run_module(rs_vault.main, args(location="westeurope", create_resource_group=True))
    assert outcome == "exit" and calls == ["create_resource_group", "create_or_update"]


def test_update_changes_only_what_differs(run_module, azure):
    state, calls = azure
    outcome, result = run_module(rs_vault.main, args(tags={"env": "prod"}))
    assert outcome == "exit" and result["changed"] and calls == ["update"]
    assert result["diff"]["before"]["tags"] == {"env": "test"}


def test_locked_redundancy_fails_before_any_write(run_module, azure):
    state, calls = azure
    state["locked"] = True
    outcome, result = run_module(rs_vault.main, args(storage_redundancy="LocallyRedundant", tags={"x": "y"}))
    assert outcome == "fail" and result["error"]["code"] == "StorageModelModifyError" and calls == []


def test_irreversible_settings_need_confirmation(run_module, azure):
    state, calls = azure
    outcome, result = run_module(rs_vault.main, args(immutability_state="Locked"))
    assert outcome == "fail" and result["error"]["code"] == "IrreversibleSettingNotConfirmed" and calls == []
    outcome, result = run_module(rs_vault.main, args(immutability_state="Locked", allow_irreversible_settings=True))
    assert outcome == "exit" and calls == ["update"]


def test_absent_refuses_a_vault_with_items(run_module, azure):
    state, calls = azure
    state["items"] = [{"name": "VM;x", "properties": {"friendlyName": "vm-b"}},
                      {"name": "VM;y", "properties": {"friendlyName": "vm-a"}}]
    outcome, result = run_module(rs_vault.main, args(state="absent"))
    assert outcome == "fail" and "vm-a, vm-b" in result["msg"] and calls == []
    state["items"] = []
    outcome, result = run_module(rs_vault.main, args(state="absent", _ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and calls == []
    outcome, result = run_module(rs_vault.main, args(state="absent"))
    assert calls == ["delete"]


def test_bad_arguments_fail_before_any_call(run_module, azure):
    state, calls = azure
    outcome, result = run_module(rs_vault.main, args(name="1bad"))
    assert outcome == "fail" and "Invalid vault name" in result["msg"]
    outcome, result = run_module(rs_vault.main, args(soft_delete_retention_days=7))
    assert outcome == "fail" and "between 14 and 180" in result["msg"]
    state["vault"] = None
    outcome, result = run_module(rs_vault.main, args())
    assert outcome == "fail" and result["error"]["code"] == "LocationRequired"
    assert calls == []


def test_vault_cannot_move(run_module, azure):
    outcome, result = run_module(rs_vault.main, args(location="eastus"))
    assert outcome == "fail" and result["error"]["code"] == "VaultLocationMismatch"
