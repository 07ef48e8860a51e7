# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import protection, redundancy, vaults
from ansible_collections.backupops.azure.plugins.modules import backup_redundancy

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}


@pytest.fixture
def azure(monkeypatch):
    state = {"config": {"storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": False},
             "vault": {"id": "x"}, "applied": [], "item_lists": 0}
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: state["vault"])

    def list_items(module, rg, name, odata_filter=None):
        state["item_lists"] += 1
        return [{"name": "VM;a", "properties": {"friendlyName": "web-01"}}]
    monkeypatch.setattr(protection, "list_items", list_items)
    monkeypatch.setattr(redundancy, "get_storage_config", lambda module, rg, name: dict(state["config"]))

    def apply(module, rg, name, wanted):
        state["applied"].append(wanted)
        return dict(wanted)
    monkeypatch.setattr(redundancy, "apply", apply)
    return state


def args(**kw):
    return dict(AUTH, vault_name="rsv", resource_group="rg", **kw)


def test_change_and_idempotence(run_module, azure):
    outcome, result = run_module(backup_redundancy.main, args(storage_redundancy="LocallyRedundant"))
    assert outcome == "exit" and result["changed"] and len(azure["applied"]) == 1
    outcome, result = run_module(backup_redundancy.main, args(storage_redundancy="GeoRedundant"))
    assert not result["changed"] and len(azure["applied"]) == 1


def test_check_mode_predicts_the_refusal(run_module, azure):
    azure["config"]["locked"] = True
    outcome, result = run_module(backup_redundancy.main, args(storage_redundancy="ZoneRedundant",
                                                              _ansible_check_mode=True))
    assert outcome == "fail" and "web-01" in result["msg"] and azure["applied"] == []


def test_locked_vault_unchanged_lists_no_item(run_module, azure):
    # the items (a paged list) are read only to name them in the refusal
    azure["config"]["locked"] = True
    outcome, result = run_module(backup_redundancy.main, args(storage_redundancy="GeoRedundant"))
    assert outcome == "exit" and not result["changed"] and azure["item_lists"] == 0


def test_missing_vault_and_missing_options(run_module, azure):
    azure["vault"] = None
    outcome, result = run_module(backup_redundancy.main, args(storage_redundancy="GeoRedundant"))
    assert outcome == "fail" and "does not exist" in result["msg"]
    outcome, result = run_module(backup_redundancy.main, args())
    assert outcome == "fail" and "one of the following is required" in result["msg"]
