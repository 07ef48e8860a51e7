# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_job_info against the emulator: by id, filtered, waiting, timing out, within the job-read budget."""

import datetime

import pytest

from conftest import Emulator, run_playbook

TASK = "Module under test"
RG = "rg-it-jobs"
VAULT = "rsv-jobs-weu"
VMS = ["rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-shop-weu/shop-db-01",
       "rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01", "rg-erp-weu/erp-test-01"]
ARGS = {"vault_name": VAULT, "resource_group": RG}


def make_vault(emulator, tmp_path, vms):
    run = run_playbook(emulator, "rs_vault.yml", tmp_path, extra_vars={
        "name": VAULT, "resource_group": RG, "location": "westeurope", "create_resource_group": True})
    assert run.rc == 0, run.stdout
    for label in vms:
        vm_rg, vm = label.split("/")
        emulator.protect_vm(RG, VAULT, vm_rg, vm)


def job_reads(emulator):
    return [e for e in emulator.arm_requests() if e["method"] == "GET" and "/backupjobs" in e["path"].lower()]


@pytest.fixture(scope="module")
def vault(emulator, tmp_path_factory):
    make_vault(emulator, tmp_path_factory.mktemp("vault"), VMS)
    return ARGS


@pytest.fixture(autouse=True)
def fresh_limits(emulator, vault):
    emulator.admin("PUT", "faults", json={"rules": [], "job_reads_per_hour": 150})
    emulator.admin("POST", "limits/reset")
    emulator.clear_log()


def test_filters(emulator, playbook, vault):
    run = playbook("backup_job_info.yml", extra_vars=dict(vault, operation="ConfigureBackup"), check=True)
    assert run.rc == 0 and not run.task(TASK)["changed"]
    jobs = run.task(TASK)["jobs"]
    assert sorted(j["vm"] for j in jobs) == sorted(VMS)
    assert all(j["status"] == "Completed" and j["operation"] == "ConfigureBackup" and j["error"] is None
               for j in jobs)
    assert all(j["start_time"] <= j["end_time"] and j["duration_seconds"] >= 0 for j in jobs)
    one = playbook("backup_job_info.yml", extra_vars=dict(vault, vm=VMS[2])).task(TASK)["jobs"]
    assert [j["vm"] for j in one] == [VMS[2]]
    two = playbook("backup_job_info.yml", extra_vars=dict(vault, vms=VMS[:2], status="Completed")).task(TASK)["jobs"]
    assert sorted(j["vm"] for j in two) == sorted(VMS[:2])
    none = playbook("backup_job_info.yml", extra_vars=dict(vault, status="Failed")).task(TASK)["jobs"]
    assert none == []
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    since_today = playbook("backup_job_info.yml", extra_vars=dict(vault, start_time=today)).task(TASK)["jobs"]
    assert len(since_today) == len(jobs)
    assert playbook("backup_job_info.yml", extra_vars=dict(vault, start_time=tomorrow)).task(TASK)["jobs"] == []
    assert playbook("backup_job_info.yml", extra_vars=dict(vault, end_time=today)).task(TASK)["jobs"] == []
    # every one of these was one list of the vault's jobs, filtered by Azure
    reads = job_reads(emulator)
    assert len(reads) == 7 and all(e["path"].lower().endswith("/backupjobs") for e in reads)
    assert emulator.writes() == []


def test_by_id_one_by_one_or_in_one_list(emulator, playbook, vault):
    listed = playbook("backup_job_info.yml", extra_vars=dict(vault, operation="ConfigureBackup")).task(TASK)["jobs"]
    ids = [j["job_id"] for j in listed]
    emulator.clear_log()
    few = playbook("backup_job_info.yml", extra_vars=dict(vault, job_ids=ids[:2])).task(TASK)["jobs"]
    assert [j["job_id"] for j in few] == ids[:2]
    assert len([e for e in job_reads(emulator) if "/backupjobs/" in e["path"].lower()]) == 2
    emulator.clear_log()
    many = playbook("backup_job_info.yml", extra_vars=dict(vault, job_ids=list(reversed(ids)))).task(TASK)["jobs"]
    assert [j["job_id"] for j in many] == list(reversed(ids))
    reads = job_reads(emulator)
    assert len(reads) == 1 and reads[0]["path"].lower().endswith("/backupjobs")     # six ids, one read
    # a filter narrows jobs given by id
    run = playbook("backup_job_info.yml", extra_vars=dict(vault, job_ids=ids, vm=listed[0]["vm"]))
    assert [j["job_id"] for j in run.task(TASK)["jobs"]] == [ids[0]]
    missing = playbook("backup_job_info.yml", extra_vars=dict(vault, job_ids=["00000000-0000-0000-0000-0000000000aa"]))
    assert missing.rc != 0 and "does not exist in vault %s" % VAULT in missing.task(TASK)["msg"]


def test_bad_inputs_make_no_request(emulator, playbook, vault):
    for extra, words in (({"start_time": "yesterday"}, "start_time 'yesterday' is not a date"),
                         ({"start_time": "2030-01-02", "end_time": "2030-01-01"}, "start_time is after end_time"),
                         ({"vm": "just-a-name"}, "does not say which resource group"),
                         ({"status": "Running"}, "value of status must be one of"),
                         ({"wait_timeout": -1}, "wait_timeout must be 0 or more")):
        run = playbook("backup_job_info.yml", extra_vars=dict(vault, **extra))
        assert run.rc != 0 and words in run.task(TASK)["msg"], (extra, run.task(TASK)["msg"])
    assert emulator.arm_requests() == []


def test_throttled_first_read_is_one_clear_failure(emulator, playbook, vault):
    emulator.admin("PUT", "faults", json={"job_reads_per_hour": 1})
    assert playbook("backup_job_info.yml", extra_vars=vault).rc == 0
    run = playbook("backup_job_info.yml", extra_vars=vault)
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "ResourceRequestsThrottled" and result["error"]["status"] == 429
    assert "backupJobs/read" in result["msg"] and "one filtered job list" in result["msg"]


def test_short_throttling_is_waited_out(emulator, playbook, vault):
    emulator.admin("PUT", "faults", json={"spec": "429=1,methods=GET,path=/backupJobs,count=1,retry_after=1"})
    run = playbook("backup_job_info.yml", extra_vars=dict(vault, operation="ConfigureBackup"))
    assert run.rc == 0 and len(run.task(TASK)["jobs"]) == len(VMS)
    assert [e["status"] for e in job_reads(emulator)] == [429, 200]


# -- waiting: an emulator where a backup lasts about 12 s ------------------------------------------

@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    running = Emulator(str(tmp_path_factory.mktemp("slow-emulator")), "--time-scale", "0.005")
    make_vault(running, tmp_path_factory.mktemp("slow-vault"), VMS[:3])
    yield running
    running.stop()
    assert not running.tracebacks(), running.tracebacks()


def test_backup_without_wait_then_wait_for_the_jobs(slow, tmp_path):
    started = run_playbook(slow, "backup_now.yml", tmp_path, extra_vars=dict(ARGS, vms=VMS[:3], wait=False,
                                                                             retain_until="2032-03-01"))
    assert started.rc == 0, started.stdout
    ids = [v["job_id"] for v in started.task(TASK)["vms"]]
    assert len(set(ids)) == 3 and all(v["job_status"] == "InProgress" for v in started.task(TASK)["vms"])
    slow.admin("POST", "limits/reset")
    slow.clear_log()
    # not long enough: one clear failure naming each job still running
    short = run_playbook(slow, "backup_job_info.yml", tmp_path, extra_vars=dict(ARGS, job_ids=ids, wait=True,
                                                                                wait_timeout=2))
    assert short.rc != 0
    result = short.task(TASK)
    assert result["error"]["code"] == "JobsStillRunning"
    assert "Timed out after 2 s waiting for 3 job(s) of vault %s" % VAULT in result["msg"]
    assert all(vm in result["msg"] and job in result["msg"] for vm, job in zip(VMS[:3], ids))
    assert sorted(result["error"]["details"]["still_running"]) == sorted(ids)
    assert [j["status"] for j in result["jobs"]] == ["InProgress"] * 3
    assert slow.writes() == []
    # long enough: the final state of each, one list of the vault's jobs per poll round
    slow.clear_log()
    done = run_playbook(slow, "backup_job_info.yml", tmp_path, extra_vars=dict(ARGS, job_ids=ids, wait=True,
                                                                               wait_timeout=120))
    assert done.rc == 0, done.stdout
    jobs = done.task(TASK)["jobs"]
    assert [j["job_id"] for j in jobs] == ids
    assert all(j["status"] == "Completed" and j["duration_seconds"] > 5 and j["end_time"] for j in jobs)
    assert all(j["retain_until"] == "2032-03-01T00:00:00Z" for j in jobs)      # read by id: Azure's property bag
    reads = job_reads(slow)
    by_id = [e for e in reads if "/backupjobs/" in e["path"].lower()]
    assert len(by_id) == 3                                   # the first read only (three ids)
    assert 2 <= len(reads) - len(by_id) <= 8                 # then one list per poll round
    assert slow.writes() == []


def test_wait_stops_when_the_read_budget_is_spent(slow, tmp_path):
    started = run_playbook(slow, "backup_now.yml", tmp_path, extra_vars=dict(ARGS, vm=VMS[0], wait=False))
    assert started.rc == 0, started.stdout
    job = started.task(TASK)["vms"][0]["job_id"]
    slow.admin("POST", "limits/reset")
    slow.admin("PUT", "faults", json={"job_reads_per_hour": 2})
    run = run_playbook(slow, "backup_job_info.yml", tmp_path, extra_vars=dict(ARGS, job_ids=[job], wait=True,
                                                                              wait_timeout=300))
    slow.admin("PUT", "faults", json={"job_reads_per_hour": 150})
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "JobsStillRunning" and job in result["msg"]
    assert "throttled the job reads" in result["msg"] and "exceeded the limit of '2'" in result["msg"]
    # waiting on the job again later (a module timeout, not a sleep) lets it finish
    slow.admin("POST", "limits/reset")
    done = run_playbook(slow, "backup_job_info.yml", tmp_path, extra_vars=dict(ARGS, job_ids=[job], wait=True,
                                                                               wait_timeout=120))
    assert done.rc == 0 and done.task(TASK)["jobs"][0]["status"] == "Completed"
