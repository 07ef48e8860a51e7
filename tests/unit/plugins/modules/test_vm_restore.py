# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_restore as a module: its argument spec, what check mode and wait do with the engine's plan,
and how a failed or unfinished restore job and a refused precondition reach the user (the engine's
own checks: tests/unit/plugins/module_utils/engines/test_restore.py)."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import restore
from ansible_collections.backupops.azure.plugins.modules import vm_restore

AUTH = {"subscription_id": "00000000-0000-0000-0000-000000000001", "client_id": "c", "secret": "s", "tenant": "t"}


class Plan:
    def __init__(self, job=None):
        self.job = job
        self.target_group, self.target_vm, self.point = "rg-restore", None, {"name": "300"}
        self.ref = type("Ref", (), {"label": "rg-shop/web-01"})()
        self.vault_name = "rsv"


def job(status, name="j1", error=None):
    return {"name": name, "properties": {"status": status, "operation": "Restore"}, "error": error}


@pytest.fixture
def engine(monkeypatch):
    """The engine's steps, recorded: prepare (its plan or its refusal), trigger, wait, result."""
    state = {"plan": Plan(), "refusals": [], "triggered": 0, "waits": [], "final": "Completed"}

    def prepare(module, p, now):
        for refusal in state["refusals"]:
            raise refusal
        return state["plan"]

    def trigger(module, plan):
        state["triggered"] += 1
        return "j1"

    def wait(module, plan, job_id, timeout, since):
        state["waits"].append(timeout)
        return job(state["final"], job_id)

    def result(module, plan, found, changed):
        status = found["properties"]["status"] if found else None
        return {"changed": changed, "job_id": found["name"] if found else None,
                "job": {"status": status, "error": {"code": "UserErrorDiskQuota", "message": "quota",
                                                    "recommendations": ["Raise it."]} if status == "Failed" else None}}
    monkeypatch.setattr(restore, "prepare", prepare)
    monkeypatch.setattr(restore, "trigger", trigger)
    monkeypatch.setattr(restore, "wait", wait)
    monkeypatch.setattr(restore, "result", result)
    return state


def args(**kw):
    base = dict(AUTH, vault_name="rsv", resource_group="rg", vm="rg-shop/web-01", restore_type="restore_disks",
                target_resource_group="rg-restore", staging_storage_account="rg/stweu1")
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("over, words", [
    ({"restore_type": None}, "restore_type"),
    ({"restore_type": "original_location"}, "restore_type"),
    ({"staging_storage_account": None}, "staging_storage_account"),
    ({"vm": None}, "vm"),
    ({"wait": "sometimes"}, "wait"),
])
def test_argument_spec_refuses_before_the_engine(run_module, engine, over, words):
    outcome, result = run_module(vm_restore.main, args(**over))
    assert outcome == "fail" and words in result["msg"] and engine["triggered"] == 0


def test_check_mode_predicts_without_trigger_or_wait(run_module, engine):
    outcome, result = run_module(vm_restore.main, args(_ansible_check_mode=True))
    assert outcome == "exit" and result["changed"] and result["job_id"] is None
    assert engine["triggered"] == 0 and engine["waits"] == []
    assert result["diff"]["before"]["restored"] is False and result["diff"]["after"]["restored"] is True


def test_a_restore_found_is_returned_and_waited_for_not_started_again(run_module, engine):
    engine["plan"] = Plan(job("InProgress", "j0"))
    outcome, result = run_module(vm_restore.main, args())
    assert outcome == "exit" and not result["changed"] and result["job_id"] == "j0"
    assert engine["triggered"] == 0 and engine["waits"] == [7200]
    engine["waits"].clear()
    outcome, result = run_module(vm_restore.main, args(wait=False))
    assert not result["changed"] and engine["waits"] == []


def test_wait_false_triggers_and_reads_the_job_once(run_module, engine):
    engine["final"] = "InProgress"
    outcome, result = run_module(vm_restore.main, args(wait=False))
    assert outcome == "exit" and result["changed"] and result["job_id"] == "j1"
    assert result["job"]["status"] == "InProgress" and engine["waits"] == [0]


def test_a_failed_job_fails_the_task_with_azure_code_and_advice(run_module, engine):
    engine["final"] = "Failed"
    outcome, result = run_module(vm_restore.main, args())
    assert outcome == "fail" and result["error"]["code"] == "UserErrorDiskQuota"
    assert "rg-shop/web-01 (job j1) failed: UserErrorDiskQuota: quota" in result["msg"]
    assert result["error"]["remediation"] == "Raise it." and result["job_id"] == "j1"


def test_a_job_still_running_at_the_deadline_fails_naming_it(run_module, engine):
    engine["final"] = "InProgress"
    outcome, result = run_module(vm_restore.main, args(wait_timeout=5))
    assert outcome == "fail" and result["error"]["code"] == "JobsStillRunning" and engine["waits"] == [5]
    assert "j1" in result["msg"] and result["changed"]


def test_a_refused_precondition_is_one_message_and_nothing_started(run_module, engine):
    engine["refusals"].append(AzureBackupError("VM name taken. Nothing was restored.", code="VmNameTaken",
                                               remediation="Choose another target_vm_name."))
    outcome, result = run_module(vm_restore.main, args())
    assert outcome == "fail" and result["error"]["code"] == "VmNameTaken" and engine["triggered"] == 0
    assert "Nothing was restored" in result["msg"] and "Traceback" not in result["msg"]
