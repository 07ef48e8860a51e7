# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from ansible.module_utils import basic

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.engines import agent
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations
from ansible_collections.backupops.azure.plugins.modules import vm_agent_check

AUTH = {"subscription_id": "sub", "client_id": "c", "secret": "s", "tenant": "t"}


def fact(name, verdict="ready", status="Ready"):
    return {"id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/%s" % name,
            "name": name, "resource_group": "rg", "verdict": verdict, "agent_status": status,
            "remediation": "" if verdict == "ready" else "Install the agent."}


@pytest.fixture
def azure(monkeypatch):
    state = {"fleet": [fact("a"), fact("b", "missing", "Unknown")], "batch": {}, "calls": []}

    def read_vms(module, refs, concurrency=8, **minimums):
        state["calls"].append(("vms", [r.label for r in refs], concurrency, minimums))
        return [state["batch"].get(r.name) or fact(r.name) for r in refs]

    def read_fleet(module, resource_group=None, location=None, **minimums):
        state["calls"].append(("fleet", resource_group, location, minimums))
        return list(state["fleet"])
    monkeypatch.setattr(agent, "read_vms", read_vms)
    monkeypatch.setattr(agent, "read_fleet", read_fleet)

    def subscription_locations(module):
        state["calls"].append("list locations")
        return {"westeurope": "westeurope", "southeastasia": "southeastasia"}
    monkeypatch.setattr(locations, "subscription_locations", subscription_locations)
    state["warnings"] = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: state["warnings"].append(text))
    return state


def test_fleet_and_batch(run_module, azure):
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, resource_group="rg", _ansible_check_mode=True))
    assert outcome == "exit" and not result["changed"] and result["reads"] == 1 and not result["all_ready"]
    assert result["summary"] == {"ready": 1, "not_ready": 0, "missing": 1, "outdated": 0, "stopped": 0}
    assert azure["calls"] == [("fleet", "rg", None, {"windows_min": "2.6.1198.718", "linux_min": None})]
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, vms=["rg/x", {"name": "y", "resource_group": "rg"}],
                                                           concurrency=2, linux_min_version="2.2.53"))
    assert outcome == "exit" and result["all_ready"] and [v["name"] for v in result["vms"]] == ["x", "y"]
    assert azure["calls"][-1] == ("vms", ["rg/x", "rg/y"], 2, {"windows_min": "2.6.1198.718", "linux_min": "2.2.53"})


def test_a_scope_without_vms_warns_and_says_matched_0(run_module, azure):
    azure["fleet"] = []
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, location="South East Asia", resource_group="rg-x"))
    assert outcome == "exit" and result["matched"] == 0 and result["vms"] == [] and result["all_ready"]
    assert len(azure["warnings"]) == 1 and "resource group rg-x in region South East Asia has no VM" in \
        azure["warnings"][0]
    assert azure["calls"][-1] == "list locations"       # no VM there: the region itself was checked
    # a region the subscription does not have is an error, naming the closest
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, location="westeurop"))
    assert outcome == "fail" and result["error"]["code"] == "LocationNotAvailable"
    assert "did you mean westeurope?" in result["msg"]


def test_the_regions_are_not_read_when_vms_matched(run_module, azure):
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, location="westeurope"))
    assert outcome == "exit" and result["matched"] == 2 and azure["warnings"] == []
    assert "list locations" not in azure["calls"]


def test_wait_rereads_the_pending_vms_then_fail_on(run_module, azure, monkeypatch):
    monkeypatch.setattr(waiting, "SLEEP", lambda seconds: None)
    azure["batch"]["y"] = fact("y", "not_ready", "Not Ready")
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, vms=["rg/x", "rg/y"], wait_for_ready=True,
                                                           wait_timeout=0, poll_interval=1, fail_on=["missing"]))
    # A deadline of 0 s: one read, then the failure says what y still needs.
    assert outcome == "fail" and result["error"]["code"] == "Timeout" and result["reads"] == 1
    assert [v["verdict"] for v in result["vms"]] == ["ready", "not_ready"]

    reads = iter([fact("y", "not_ready", "Not Ready"), fact("y", "outdated", "Ready")])
    azure["batch"] = {}
    monkeypatch.setattr(agent, "read_vms", lambda module, refs, concurrency=8, **m: (
        [fact("x"), next(reads)] if len(refs) == 2 else [next(reads)]))
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, vms=["rg/x", "rg/y"], wait_for_ready=True,
                                                           wait_timeout=30, poll_interval=1, fail_on=["outdated"]))
    assert outcome == "fail" and result["error"]["code"] == "AgentNotReady" and result["reads"] == 2
    assert "outdated: rg/y" in result["msg"] and "Install the agent." in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"vm": "rg/x", "concurrency": 0}, "concurrency must be between 1 and 32"),
    ({"vm": "rg/x", "windows_min_version": "2.6.x"}, "windows_min_version must be a dotted version"),
    ({"vm": "rg/x", "wait_timeout": -1}, "wait_timeout must be 0 or more"),
    ({"vm": "rg/x", "poll_interval": 0}, "poll_interval must be 1 or more seconds, got 0"),
    ({"vm": "rg/x", "vms": ["rg/y"]}, "mutually exclusive"),
    ({"vms": ["rg/x"], "location": "westeurope"}, "mutually exclusive"),
    ({"vm": "x"}, "a bare name does not say which resource group"),
])
def test_bad_inputs_fail_before_any_read(run_module, azure, args, message):
    outcome, result = run_module(vm_agent_check.main, dict(AUTH, **args))
    assert outcome == "fail" and message in result["msg"] and azure["calls"] == []
