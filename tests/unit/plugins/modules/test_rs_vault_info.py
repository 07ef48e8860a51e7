# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""rs_vault_info's reads, with the Azure area helpers replaced at the module_utils boundary.

Azure's vault list answers carry a short body (provisioningState, and with 2023-04-01
publicNetworkAccess and restoreSettings, in ``properties``); the settings come with the GET."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations, protection, vaults
from ansible_collections.backupops.azure.plugins.modules import rs_vault_info

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}


def vault_id(rg, name):
    return "/subscriptions/sub/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (rg, name)


def full(name, rg="rg", location="westeurope"):
    return {"id": vault_id(rg, name), "name": name, "location": location, "tags": {}, "sku": {"name": "Standard"},
            "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
                           "redundancySettings": {"standardTierStorageRedundancy": "ZoneRedundant",
                                                  "crossRegionRestore": "Disabled"},
                           "securitySettings": {"softDeleteSettings": {"softDeleteState": "AlwaysON",
                                                                       "softDeleteRetentionPeriodInDays": 30}}}}


def short(body):
    """The element of a list answer, as Azure sends it."""
    return dict(body, properties={"provisioningState": body["properties"]["provisioningState"]})


@pytest.fixture
def azure(monkeypatch):
    state = {"vaults": [full("rsv-a"), full("rsv-b", location="eastus"), full("rsv-c", rg="rg2")], "calls": []}

    def list_vaults(module, resource_group=None):
        state["calls"].append("list %s" % resource_group)
        return [short(v) for v in state["vaults"]
                if resource_group is None or vaults.resource_group_of(v["id"]) == resource_group]

    def get_vault(module, rg, name):
        state["calls"].append("get %s" % name)
        return next((v for v in state["vaults"] if v["name"] == name and vaults.resource_group_of(v["id"]) == rg),
                    None)
    monkeypatch.setattr(vaults, "list_vaults", list_vaults)
    monkeypatch.setattr(vaults, "get_vault", get_vault)
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name, odata_filter=None: (
        state["calls"].append("items %s" % name) or []))
    monkeypatch.setattr(locations, "subscription_locations", lambda module: {
        "westeurope": "westeurope", "eastus": "eastus", "northeurope": "northeurope"})
    monkeypatch.setattr(AzureBackupModule, "client", lambda self, kind: None)
    return state


def test_listed_vaults_are_read_for_their_settings(run_module, azure):
    outcome, result = run_module(rs_vault_info.main, dict(AUTH, include_item_counts=False))
    assert outcome == "exit", result
    assert sorted(azure["calls"]) == ["get rsv-a", "get rsv-b", "get rsv-c", "list None"]
    found = {v["name"]: v for v in result["vaults"]}
    assert set(found) == {"rsv-a", "rsv-b", "rsv-c"}
    assert all(v["storage_redundancy"] == "ZoneRedundant" and v["soft_delete_state"] == "AlwaysON"
               and v["soft_delete_retention_days"] == 30 for v in found.values())
    assert found["rsv-c"]["resource_group"] == "rg2"


def test_only_the_vaults_returned_are_read(run_module, azure):
    outcome, result = run_module(rs_vault_info.main, dict(AUTH, location="West Europe"))
    assert outcome == "exit", result
    assert [v["name"] for v in result["vaults"]] == ["rsv-a", "rsv-c"]
    assert sorted(azure["calls"]) == ["get rsv-a", "get rsv-c", "items rsv-a", "items rsv-c", "list None"]
    azure["calls"].clear()
    outcome, result = run_module(rs_vault_info.main, dict(AUTH, resource_group="rg2", include_item_counts=False))
    assert [v["name"] for v in result["vaults"]] == ["rsv-c"] and azure["calls"] == ["list rg2", "get rsv-c"]


def test_a_vault_deleted_after_the_list_is_left_out(run_module, azure, monkeypatch):
    real = vaults.list_vaults

    def list_then_delete(module, resource_group=None):
        listed = real(module, resource_group)
        azure["vaults"] = azure["vaults"][1:]
        return listed
    monkeypatch.setattr(vaults, "list_vaults", list_then_delete)
    outcome, result = run_module(rs_vault_info.main, dict(AUTH, include_item_counts=False))
    assert outcome == "exit" and [v["name"] for v in result["vaults"]] == ["rsv-b", "rsv-c"]


def test_one_named_vault_is_read_once(run_module, azure):
    outcome, result = run_module(rs_vault_info.main, dict(AUTH, name="rsv-a", resource_group="rg",
                                                          include_item_counts=False))
    assert outcome == "exit" and azure["calls"] == ["get rsv-a"]
    assert result["vaults"][0]["storage_redundancy"] == "ZoneRedundant"
