# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs
from ansible_collections.backupops.azure.plugins.modules import backup_job_info

AUTH = {"subscription_id": "00000000-0000-0000-0000-000000000001", "client_id": "c", "secret": "s", "tenant": "t"}


def job(name, status="Completed", vm="web-01", operation="Backup", start="2026-05-13T10:18:05Z"):
    return {"name": name, "properties": {"status": status, "operation": operation, "startTime": start,
                                         "containerName": "iaasvmcontainerv2;rg;%s" % vm}}


@pytest.fixture
def azure(monkeypatch):
    state = {"jobs": [job("a", "InProgress"), job("b", vm="db-01"), job("c", "Failed", operation="ConfigureBackup")],
             "lists": [], "refreshed": [], "waited": [], "still_running": False}

    def list_jobs(module, rg, vault, **filters):
        state["lists"].append(filters)
        return [j for j in state["jobs"] if not filters.get("status") or j["properties"]["status"] == filters["status"]]

    def refresh(self, known, since=None):
        state["refreshed"].append(sorted(known))
        by_name = {j["name"]: j for j in state["jobs"]}
        for key in known:
            known[key] = by_name[key]

    def wait(self, known, timeout, since=None, fresh=False):
        state["waited"].append(sorted(known))
        if state["still_running"]:
            return sorted(known)
        for key in known:
            known[key] = job(key, "Completed")
        return []
    monkeypatch.setattr(jobs, "list_jobs", list_jobs)
    monkeypatch.setattr(jobs.Waiter, "refresh", refresh)
    monkeypatch.setattr(jobs.Waiter, "wait", wait)
    return state


def args(**kw):
    return dict(AUTH, vault_name="rsv", resource_group="rg", **kw)


def test_list_with_filters(run_module, azure):
    outcome, result = run_module(backup_job_info.main, args(status="Completed"))
    assert outcome == "exit" and not result["changed"] and [j["job_id"] for j in result["jobs"]] == ["b"]
    assert azure["lists"][-1]["status"] == "Completed"
    outcome, result = run_module(backup_job_info.main, args(vm="rg/db-01"))
    assert [j["job_id"] for j in result["jobs"]] == ["b"]
    outcome, result = run_module(backup_job_info.main, args(start_time="2026-05-14"))
    assert azure["lists"][-1]["start"].isoformat().startswith("2026-05-14") and result["jobs"] == []


def test_by_id_keeps_the_order_and_filters(run_module, azure):
    outcome, result = run_module(backup_job_info.main, args(job_ids=["c", "A", "a"]))
    assert [j["job_id"] for j in result["jobs"]] == ["c", "a"] and azure["refreshed"] == [["a", "c"]]
    outcome, result = run_module(backup_job_info.main, args(job_id="c", operation="Backup"))
    assert result["jobs"] == []


def test_wait_only_on_the_selected_jobs(run_module, azure):
    outcome, result = run_module(backup_job_info.main, args(operation="Backup", wait=True, _ansible_check_mode=True))
    assert outcome == "exit" and azure["waited"] == [["a", "b"]]
    assert [j["status"] for j in result["jobs"]] == ["Completed", "Completed"]


def test_timeout_fails_naming_the_jobs(run_module, azure):
    azure["still_running"] = True
    outcome, result = run_module(backup_job_info.main, args(job_ids=["a"], wait=True, wait_timeout=3))
    assert outcome == "fail" and result["error"]["code"] == "JobsStillRunning"
    assert "still running: rg/web-01 (job a, Backup)" in result["msg"] and result["jobs"][0]["job_id"] == "a"


@pytest.mark.parametrize("extra, words", [
    ({"start_time": "last week"}, "start_time 'last week' is not a date"),
    ({"end_time": "2030-13-01"}, "end_time '2030-13-01' is not a date"),
    ({"start_time": "2030-01-02", "end_time": "2030-01-01"}, "start_time is after end_time"),
    ({"vm": "web-01"}, "bare name"),
    ({"wait_timeout": -5}, "wait_timeout must be 0 or more"),
])
def test_bad_inputs_fail_before_any_call(run_module, azure, extra, words):
    outcome, result = run_module(backup_job_info.main, args(**extra))
    assert outcome == "fail" and words in result["msg"]
    assert azure["lists"] == [] and azure["refreshed"] == []
