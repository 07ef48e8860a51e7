# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/drill_environment.py: what a drill environment's task writes, and the groups it refuses."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import drill_environment
from ansible_collections.backupops.azure.plugins.module_utils.resources import (
    locations, networks, resource_groups, restores)

from ..fakes import Module


def params(**over):
    p = {"resource_group": "rg-drill", "state": "present", "drill_id": "d-1", "location": "westeurope",
         "virtual_network": "vnet-drill", "address_prefix": "10.250.0.0/16", "subnet": "restore",
         "subnet_prefix": "10.250.0.0/24", "storage_account": None, "tags": None, "wait": True, "wait_timeout": 60}
    p.update(over)
    return p


def group(tags):
    return {"id": "/subscriptions/s/resourceGroups/rg-drill", "name": "rg-drill", "location": "westeurope",
            "tags": tags, "properties": {"provisioningState": "Succeeded"}}


def vnet(subnets, tags):
    return {"id": "/subscriptions/s/resourceGroups/rg-drill/providers/Microsoft.Network/virtualNetworks/vnet-drill",
            "name": "vnet-drill", "location": "westeurope", "tags": tags,
            "properties": {"addressSpace": {"addressPrefixes": ["10.250.0.0/16"]},
                           "subnets": [{"name": n, "id": "/x/subnets/" + n, "properties": {"addressPrefix": p}}
                                       for n, p in subnets]}}


@pytest.fixture
def azure(monkeypatch):
    """The group and network Azure holds, and every write the engine makes."""
    held = {"group": None, "vnet": None, "writes": []}
    monkeypatch.setattr(resource_groups, "get", lambda m, name: held["group"])
    monkeypatch.setattr(restores, "get_vnet", lambda m, rg, name: held["vnet"])
    monkeypatch.setattr(locations, "require", lambda m, location: location.replace(" ", "").lower())
    monkeypatch.setattr(resource_groups, "create_or_update",
                        lambda m, name, location, tags: held["writes"].append(("group", tags)) or group(tags))
    monkeypatch.setattr(resource_groups, "delete", lambda m, name, wait, timeout: held["writes"].append(("delete",)))
    monkeypatch.setattr(networks, "put_vnet",
                        lambda m, rg, name, body, wait, timeout: held["writes"].append(("vnet", body)) or None)
    return held


def run(p, check_mode=False):
    env = drill_environment.Environment(Module(check_mode), p).read()
    return env.present() if p["state"] == "present" else env.absent()


def test_a_new_environment_writes_the_tagged_group_then_the_network(azure):
    changed, before, after = run(params(tags={"owner": "ops"}))
    assert changed and before == {}
    assert azure["writes"][0] == ("group", {"owner": "ops", "backupops-drill": "d-1"})
    body = azure["writes"][1][1]
    assert body["properties"]["subnets"] == [{"name": "restore", "properties": {"addressPrefix": "10.250.0.0/24"}}]
    assert body["tags"] == {"backupops-drill": "d-1"} and after["drill_id"] == "d-1"


def test_check_mode_predicts_the_same_and_writes_nothing(azure):
    changed, _before, after = run(params(), check_mode=True)
    assert changed and azure["writes"] == []
    assert after["subnet"]["name"] == "restore" and after["resource_group"]["tags"] == {"backupops-drill": "d-1"}


def test_an_environment_as_wanted_is_not_written(azure):
    azure["group"] = group({"backupops-drill": "d-1"})
    azure["vnet"] = vnet([("restore", "10.250.0.0/24")], {"backupops-drill": "d-1"})
    changed, before, after = run(params())
    assert not changed and azure["writes"] == [] and before == after


def test_another_drills_group_is_taken_over_keeping_its_other_subnets(azure):
    azure["group"] = group({"Backupops-Drill": "d-0", "owner": "ops"})
    azure["vnet"] = vnet([("other", "10.250.9.0/24"), ("restore", "10.250.0.0/24")], {"backupops-drill": "d-0"})
    changed, _before, _after = run(params())
    assert changed
    assert azure["writes"][0] == ("group", {"owner": "ops", "backupops-drill": "d-1"})
    assert [s["name"] for s in azure["writes"][1][1]["properties"]["subnets"]] == ["other", "restore"]


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_group_without_the_drill_tag_is_refused(azure, state):
    azure["group"] = group({"owner": "ops"})
    with pytest.raises(AzureBackupError) as err:
        run(params(state=state))
    assert err.value.code == "NotADrillResourceGroup" and azure["writes"] == []


def test_absent_deletes_only_the_drill_named(azure):
    azure["group"] = group({"backupops-drill": "d-0"})
    with pytest.raises(AzureBackupError) as err:
        run(params(state="absent"))
    assert err.value.code == "DrillIdMismatch" and azure["writes"] == []
    changed, before, after = run(params(state="absent", drill_id=None))
    assert changed and azure["writes"] == [("delete",)] and before["drill_id"] == "d-0" and after == {}


def test_a_group_in_another_region_is_refused(azure):
    azure["group"] = dict(group({"backupops-drill": "d-1"}), location="eastus")
    with pytest.raises(AzureBackupError) as err:
        run(params())
    assert err.value.code == "DrillLocationMismatch" and azure["writes"] == []
