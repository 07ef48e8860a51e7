# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_policy and backup_policy_info decisions, with the Azure calls of module_utils.policies
replaced at the module_utils boundary (the translation and the rules are the real ones)."""

import copy

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, policy_rules, policy_wire
from ansible_collections.backupops.azure.plugins.modules import backup_policy, backup_policy_info

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}
VAULT_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv"


def wire(name, shape, count=0):
    props = policy_wire.policy_body(shape)["properties"]
    props["protectedItemsCount"] = count
    return {"id": VAULT_ID + "/backupPolicies/" + name, "name": name, "properties": props}


DAILY = policy_rules.desired_shape({"name": "p"})
SQL = {"id": VAULT_ID + "/backupPolicies/HourlyLogBackup", "name": "HourlyLogBackup",
       "properties": {"backupManagementType": "AzureWorkload", "workLoadType": "SQLDataBase"}}


@pytest.fixture
def azure(monkeypatch):
    state = {"policies": {"DefaultPolicy": wire("DefaultPolicy", DAILY)}, "users": {}, "calls": []}

    def get_policy(module, rg, vault, name):
        state["calls"].append(("get", name))
        return copy.deepcopy(state["policies"].get(name))

    def create_or_update(module, rg, vault, name, body, wait=True, timeout=900):
        state["calls"].append(("put", name))
        saved = {"id": VAULT_ID + "/backupPolicies/" + name, "name": name,
                 "properties": dict(body["properties"], protectedItemsCount=0)}
        state["policies"][name] = saved
        return saved

    def delete(module, rg, vault, name, wait=True, timeout=900):
        state["calls"].append(("delete", name))
        state["policies"].pop(name)

    def items_using(module, rg, vault, name):
        state["calls"].append(("items", name))
        return state["users"].get(name, [])

    def list_policies(module, rg, vault, vm_only=False):
        state["calls"].append(("list", vm_only))
        listed = list(state["policies"].values())
        return [p for p in listed if p["properties"]["backupManagementType"] == "AzureIaasVM"] if vm_only else listed

    for name, func in (("get_policy", get_policy), ("create_or_update", create_or_update), ("delete", delete),
                       ("items_using", items_using), ("list_policies", list_policies)):
        monkeypatch.setattr(policies, name, func)
    return state


def args(name="pol", **kw):
    out = dict(AUTH, vault_name="rsv", resource_group="rg", name=name)
    out.update(kw)
    return out


def writes(state):
    return [c for c in state["calls"] if c[0] in ("put", "delete")]


def test_create_then_the_same_task_changes_nothing(run_module, azure):
    task = args(time_zone="UTC", schedule_run_time="21:00",
                retention_policy={"daily_schedule": {"count": 14},
                                  "weekly_schedule": {"count": 8, "days_of_the_week": ["Sunday"]}})
    outcome, result = run_module(backup_policy.main, dict(task, _ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and writes(azure) == []
    assert result["policy"]["id"] == VAULT_ID + "/backupPolicies/pol"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["schedule_run_time"] == "21:00"
    outcome, result = run_module(backup_policy.main, task)
    assert result["changed"] and writes(azure) == [("put", "pol")]
    assert result["policy"]["retention_policy"]["weekly_schedule"] == {"count": 8, "days_of_the_week": ["Sunday"]}
    outcome, result = run_module(backup_policy.main, task)
    assert outcome == "exit" and not result["changed"] and writes(azure) == [("put", "pol")]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_one_option_changes_one_put_and_the_diff_shows_it(run_module, azure):
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", schedule_run_time="22:30"))
    assert result["changed"] and writes(azure) == [("put", "DefaultPolicy")]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert {k for k in after if before[k] != after[k]} == {"schedule_run_time"} and before["name"] == "DefaultPolicy"


def test_type_change_refused_before_any_write(run_module, azure):
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", policy_type="V2"))
    assert outcome == "fail" and result["error"]["code"] == "PolicyTypeChangeNotAllowed"
    assert writes(azure) == []


def test_bad_input_fails_before_any_call(run_module, azure):
    outcome, result = run_module(backup_policy.main, args(schedule_run_time="07:10"))
    assert outcome == "fail" and "half hour" in result["msg"] and azure["calls"] == []
    outcome, result = run_module(backup_policy.main, args(vault_name="1-bad"))
    assert outcome == "fail" and "Invalid vault name" in result["msg"] and azure["calls"] == []
    outcome, result = run_module(backup_policy.main, args(
        retention_policy={"weekly_schedule": {"count": 2, "days_of_the_week": ["Caturday"]}}))
    assert outcome == "fail" and "Caturday" in result["msg"] and azure["calls"] == []


def test_rules_that_need_the_current_policy_fail_before_any_write(run_module, azure):
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", schedule_run_frequency="Weekly",
                                                          schedule_run_days=["Friday"]))
    assert outcome == "fail" and "takes no retention_policy.daily_schedule" in result["msg"]
    assert azure["calls"] == [("get", "DefaultPolicy")]


def test_a_non_vm_policy_is_not_touched(run_module, azure):
    azure["policies"]["HourlyLogBackup"] = SQL
    for state in ("present", "absent"):
        outcome, result = run_module(backup_policy.main, args("HourlyLogBackup", state=state))
        assert outcome == "fail" and result["error"]["code"] == "PolicyWorkloadMismatch"
    assert writes(azure) == []


def test_delete_refused_while_in_use_then_deleted(run_module, azure):
    azure["users"]["DefaultPolicy"] = ["web-01", "web-02"]
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", state="absent"))
    assert outcome == "fail" and "web-01, web-02" in result["msg"] and "Nothing was deleted" in result["msg"]
    assert result["error"]["code"] == "BMSUserErrorPolicyInUse" and writes(azure) == []
    azure["users"]["DefaultPolicy"] = []
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", state="absent", _ansible_check_mode=True))
    assert result["changed"] and result["diff"]["after"] == {} and writes(azure) == []
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", state="absent"))
    assert result["changed"] and writes(azure) == [("delete", "DefaultPolicy")]
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", state="absent"))
    assert not result["changed"] and writes(azure) == [("delete", "DefaultPolicy")]


def test_info_lists_reads_one_and_feeds_back(run_module, azure):
    azure["policies"]["HourlyLogBackup"] = SQL
    outcome, result = run_module(backup_policy_info.main, dict(AUTH, vault_name="rsv", resource_group="rg"))
    names = [p["name"] for p in result["policies"]]
    assert outcome == "exit" and not result["changed"] and names == ["DefaultPolicy", "HourlyLogBackup"]
    assert "retention_policy" not in result["policies"][1]
    outcome, result = run_module(backup_policy_info.main, dict(AUTH, vault_name="rsv", resource_group="rg",
                                                               vm_only=True))
    assert [p["name"] for p in result["policies"]] == ["DefaultPolicy"] and ("list", True) in azure["calls"]
    outcome, result = run_module(backup_policy_info.main, dict(AUTH, vault_name="rsv", resource_group="rg",
                                                               name="missing"))
    assert result["policies"] == []
    outcome, result = run_module(backup_policy_info.main, dict(AUTH, vault_name="rsv", resource_group="rg",
                                                               name="DefaultPolicy"))
    entry = result["policies"][0]
    assert entry["protected_items_count"] == 0 and entry["policy_type"] == "V1"
    # the entry, given back as options (nulls included), changes nothing
    options = {k: entry[k] for k in policy_wire.policy_shape({}).keys()}
    azure["calls"].clear()
    outcome, result = run_module(backup_policy.main, args("DefaultPolicy", **options))
    assert outcome == "exit" and not result["changed"] and writes(azure) == []
