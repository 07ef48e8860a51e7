# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""rs_vault's decisions, with the Azure area helpers replaced at the module_utils boundary."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import locations, protection, redundancy, vaults
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
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name, odata_filter=None: state["items"])
    monkeypatch.setattr(vaults, "resource_group_exists", lambda module, rg: state["group"])
    monkeypatch.setattr(vaults, "name_availability", lambda *a: state["available"])
    monkeypatch.setattr(vaults, "create_resource_group", record("create_resource_group"))
    monkeypatch.setattr(vaults, "create_or_update", record("create_or_update", lambda: VAULT))
    monkeypatch.setattr(vaults, "update", record("update"))
    monkeypatch.setattr(vaults, "delete", record("delete"))
    monkeypatch.setattr(redundancy, "get_storage_config", lambda module, rg, name: {
        "storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": state.get("locked", False)})
    monkeypatch.setattr(redundancy, "apply", record("redundancy.apply"))
    regions = {"westeurope": "westeurope", "eastus": "eastus", "northeurope": "northeurope"}

    def subscription_locations(module):
        state["region_lists"] += 1
        return regions
    state["region_lists"] = 0
    monkeypatch.setattr(locations, "subscription_locations", subscription_locations)
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


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_unknown_location_fails_before_any_write_naming_the_closest(run_module, azure, check_mode):
    state, calls = azure
    state.update(vault=None, group=False)
    outcome, result = run_module(rs_vault.main, args(location="westeurop", create_resource_group=True,
                                                     _ansible_check_mode=check_mode))
    assert outcome == "fail" and result["error"]["code"] == "LocationNotAvailable"
    assert "'westeurop' is not a region of this subscription (did you mean westeurope?)" in result["msg"]
    assert calls == [] and state["region_lists"] == 1


def test_a_display_name_creates_in_the_region_it_names(run_module, azure):
    state, calls = azure
    state.update(vault=None, group=False)
    outcome, result = run_module(rs_vault.main, args(location="North Europe", create_resource_group=True,
                                                     _ansible_check_mode=True))
    assert outcome == "exit" and result["vault"]["location"] == "northeurope"


def test_the_regions_are_not_read_for_a_vault_that_exists(run_module, azure):
    state, calls = azure
    outcome, result = run_module(rs_vault.main, args(location="West Europe"))
    assert outcome == "exit" and calls == [] and state["region_lists"] == 0
    # another region: a vault cannot move; a region that does not exist is named as such
    outcome, result = run_module(rs_vault.main, args(location="mars-central"))
    assert outcome == "fail" and result["error"]["code"] == "LocationNotAvailable"


def test_tags_breaking_azure_rules_fail_before_any_call(run_module, azure, monkeypatch):
    state, calls = azure
    read = []
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: read.append(name) or state["vault"])
    for tags, words in (({"k" * 600: "v"}, "tag names are at most 512 characters"),
                        ({"t%d" % i: "v" for i in range(60)}, "60 tags, and Azure allows at most 50"),
                        ({"a/b": "v"}, "cannot contain"),
                        ({"env": "v" * 300}, "tag values are at most 256 characters")):
        outcome, result = run_module(rs_vault.main, args(tags=tags))
        assert outcome == "fail" and result["error"]["code"] == "InvalidTags" and words in result["msg"]
    assert read == [] and calls == []


def test_tags_kept_by_purge_tags_false_count_too(run_module, azure):
    state, calls = azure
    state["vault"] = dict(VAULT, tags={"old%d" % i: "v" for i in range(45)})
    outcome, result = run_module(rs_vault.main, args(tags={"new%d" % i: "v" for i in range(10)}, purge_tags=False))
    assert outcome == "fail" and result["error"]["code"] == "InvalidTags" and "55 tags" in result["msg"]
    assert "purge_tags: false" in result["msg"] and calls == []
    outcome, result = run_module(rs_vault.main, args(tags={"new%d" % i: "v" for i in range(10)}))
    assert outcome == "exit" and calls == ["update"]


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
    assert outcome == "fail" and "between 14 and 180 days" in result["msg"]
    assert result["error"]["code"] == "InvalidParameters"
    outcome, result = run_module(rs_vault.main, args(wait_timeout=-5))
    assert outcome == "fail" and result["error"]["code"] == "InvalidParameters"
    assert "wait_timeout must be 0 or more seconds, got -5" in result["msg"]
    state["vault"] = None
    outcome, result = run_module(rs_vault.main, args())
    assert outcome == "fail" and result["error"]["code"] == "LocationRequired"
    assert calls == []


def test_vault_cannot_move(run_module, azure):
    outcome, result = run_module(rs_vault.main, args(location="eastus"))
    assert outcome == "fail" and result["error"]["code"] == "VaultLocationMismatch"
