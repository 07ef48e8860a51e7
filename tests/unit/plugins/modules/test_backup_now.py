# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest
from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.backupops.azure.plugins.module_utils.engines import backup as backups
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs
from ansible_collections.backupops.azure.plugins.modules import backup_now

AUTH = {"subscription_id": "00000000-0000-0000-0000-000000000001", "client_id": "c", "secret": "s", "tenant": "t"}


def job(name, status, vm):
    return {"name": name, "properties": {"status": status, "operation": "Backup",
                                         "containerName": "iaasvmcontainerv2;rg;%s" % vm,
                                         "startTime": "2026-05-13T10:18:05Z"}}


@pytest.fixture
def azure(monkeypatch):
    """module_utils scripted: which VMs are protected, which backups run, how the jobs end."""
    state = {"protected": {"web-01", "web-02"}, "running": {}, "final": "Completed", "started": [],
             "refreshes": 0, "waits": [], "still_running": False}

    def plan(module, rg, vault, refs, initial_only=False, retry_failed=True):
        entries, running = [], {}
        for ref in refs:
            entry = backups.Entry(ref)
            if ref.name not in state["protected"]:
                entry.error = backups.AzureBackupError("VM %s is not protected by vault %s: protect it first."
                                                       % (ref.label, vault), code="VmNotProtected")
            elif ref.name in state["running"]:
                entry.job_key = state["running"][ref.name]
                running[entry.job_key] = job(entry.job_key, "InProgress", ref.name)
            entries.append(entry)
        return entries, running

    def start(module, rg, vault, entries, expiry, concurrency, **_kwargs):
        for entry in entries:
            if entry.error is None and entry.job_key is None:
                state["started"].append(entry.ref.name)
                entry.job_key, entry.changed, entry.retain_until = "job-" + entry.ref.name, True, expiry
        return jobs.utcnow()

    def refresh(self, known, since=None):
        state["refreshes"] += 1
        for key in known:
            known[key] = job(key, "InProgress", key.split("-", 1)[1])

    def wait(self, known, timeout, since=None, fresh=False):
        state["waits"].append(timeout)
        for key in known:
            known[key] = job(key, "InProgress" if state["still_running"] else state["final"], key.split("-", 1)[1])
        return list(known) if state["still_running"] else []
    monkeypatch.setattr(backups, "plan", plan)
    monkeypatch.setattr(backups, "start", start)
    monkeypatch.setattr(jobs.Waiter, "refresh", refresh)
    monkeypatch.setattr(jobs.Waiter, "wait", wait)
    return state


def args(**kw):
    return dict(AUTH, vault_name="rsv", resource_group="rg", **kw)


def test_backup_and_wait(run_module, azure):
    outcome, result = run_module(backup_now.main, args(vms=["rg/web-01", "rg/web-02"], retain_until="2031-01-15"))
    assert outcome == "exit" and result["changed"] and azure["started"] == ["web-01", "web-02"]
    assert [v["job_status"] for v in result["vms"]] == ["Completed", "Completed"]
    assert result["vms"][0]["retain_until"] == "2031-01-15T00:00:00Z" and azure["waits"] == [7200]
    assert result["counts"]["completed"] == 2


def test_running_backup_is_returned_not_restarted(run_module, azure):
    azure["running"] = {"web-01": "job-web-01"}
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01", wait=False))
    assert outcome == "exit" and not result["changed"] and azure["started"] == []
    assert result["vms"][0]["job_id"] == "job-web-01" and result["counts"]["already_running"] == 1
    assert azure["refreshes"] == 1 and azure["waits"] == []


def test_check_mode_starts_nothing(run_module, azure):
    azure["running"] = {"web-02": "job-web-02"}
    outcome, result = run_module(backup_now.main, args(vms=["rg/web-01", "rg/web-02"], _ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and azure["started"] == [] and azure["waits"] == []
    web1, web2 = result["vms"]
    assert web1["changed"] and web1["job_id"] is None and web1["retain_until"]
    assert not web2["changed"] and web2["job_id"] == "job-web-02"


def test_failures_and_fail_on_job_failure(run_module, azure):
    azure["final"] = "Failed"
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01"))
    assert outcome == "fail" and result["changed"] and "The backup of VM rg/web-01 failed" in result["msg"]
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01", fail_on_job_failure=False))
    assert outcome == "exit" and result["vms"][0]["job_status"] == "Failed"
    outcome, result = run_module(backup_now.main, args(vms=["rg/web-01", "rg/db-01"], fail_on_job_failure=False))
    assert outcome == "fail" and "rg/db-01: VmNotProtected" in result["msg"] and result["counts"]["failed"] == 2


def test_timeout_names_the_jobs_still_running(run_module, azure):
    azure["still_running"] = True
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01", wait_timeout=5))
    assert outcome == "fail" and result["error"]["code"] == "JobsStillRunning"
    assert "Timed out after 5 s" in result["msg"] and "rg/web-01 (job job-web-01, Backup)" in result["msg"]
    assert result["vms"][0]["job_status"] == "InProgress" and result["changed"]


@pytest.mark.parametrize("extra, words", [
    ({"vm": "rg/web-01", "retain_until": "2001-01-01"}, "not in the future"),
    ({"vm": "rg/web-01", "retain_until": "soon"}, "is not a date"),
    ({"vm": "rg/web-01", "retain_until": "2200-01-01"}, "99 years"),
    ({"vm": "rg/web-01", "vms": ["rg/web-02"]}, "mutually exclusive"),
    ({"vms": []}, "empty list"),
    ({}, "one of the following is required: vm, vms"),
    ({"vm": "rg/web-01", "wait_timeout": -1}, "wait_timeout must be 0 or more"),
    ({"vm": "rg/web-01", "concurrency": 33}, "concurrency must be between 1 and 32"),
])
def test_bad_inputs_fail_before_any_call(run_module, azure, monkeypatch, extra, words):
    monkeypatch.setattr(backups, "plan", lambda *a: pytest.fail("Azure must not be called"))
    outcome, result = run_module(backup_now.main, args(**extra))
    assert outcome == "fail" and words in result["msg"]


def test_jobs_unreadable_after_the_start(run_module, azure, monkeypatch):
    def broken(self, known, *args, **kwargs):
        raise backups.AzureBackupError("Failed to list the jobs of vault rsv: InternalServerError (HTTP 500): boom",
                                       code="InternalServerError", status=500)
    monkeypatch.setattr(jobs.Waiter, "wait", broken)
    monkeypatch.setattr(jobs.Waiter, "refresh", broken)
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01"))
    assert outcome == "fail" and result["changed"] and result["vms"][0]["job_id"] == "job-web-01"
    assert result["msg"].startswith("The backups were started but their jobs could not be read")
    assert "backupops.azure.backup_job_info" in result["msg"]
    outcome, result = run_module(backup_now.main, args(vm="rg/web-01", wait=False))
    assert outcome == "exit" and result["vms"][0]["job_id"] == "job-web-01" and result["vms"][0]["job_status"] is None
    assert any("could not be read" in w for w in get_warning_messages())
