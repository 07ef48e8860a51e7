# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_now against the emulator: jobs, waiting, failures, limits, faults, and the requests it costs.

The vault and its six protected VMs are arranged once; each test starts its own emulator from that
state (a test's backups count in Azure's daily limit of a VM, and one test spends it).
"""

import datetime

import pytest

from conftest import Emulator, Snapshot, arranging, run_playbook, serve

TASK = "Module under test"
RG = "rg-it-bn"
VAULT = "rsv-bn-weu"
WEB1, WEB2, DB1 = "rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-shop-weu/shop-db-01"
ERP_APP, ERP_SQL, ERP_TEST = "rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01", "rg-erp-weu/erp-test-01"


def make_vault(emulator, tmp_path, name, location, vms):
    run = run_playbook(emulator, "rs_vault.yml", tmp_path, extra_vars={
        "name": name, "resource_group": RG, "location": location, "create_resource_group": True})
    assert run.rc == 0, run.stdout
    for label in vms:
        vm_rg, vm = label.split("/")
        emulator.protect_vm(RG, name, vm_rg, vm)


@pytest.fixture(scope="module")
def arranged(tmp_path_factory):
    """The default seed with the vault and its six protected VMs."""
    with arranging(Emulator(str(tmp_path_factory.mktemp("emulator")))) as running:
        make_vault(running, tmp_path_factory.mktemp("vault"), VAULT, "westeurope",
                   [WEB1, WEB2, DB1, ERP_APP, ERP_SQL, ERP_TEST])
    return Snapshot(running)


@pytest.fixture
def emulator(arranged, tmp_path):
    """This test's own emulator, from the arranged state."""
    yield from serve(arranged.start(str(tmp_path / "emulator")))


@pytest.fixture
def vault(emulator):
    return {"vault_name": VAULT, "resource_group": RG}


@pytest.fixture(autouse=True)
def fresh_limits(emulator, vault):
    """Each test starts with Azure Backup's job-read budget untouched, and a clean log."""
    emulator.admin("PUT", "faults", json={"rules": []})
    emulator.admin("POST", "limits/reset")
    emulator.clear_log()


def arm(emulator):
    return emulator.arm_requests()


def triggers(entries):
    return [e for e in entries if e["method"] == "POST" and e["path"].lower().endswith("/backup")]


def operation_reads(entries):
    return [e for e in entries if e["method"] == "GET" and "/backupoperations/" in e["path"].lower()]


def item_reads(entries):
    """GETs of one protected item (not the vault's list of them)."""
    return [e for e in entries if e["method"] == "GET" and "/protecteditems/" in e["path"].lower()
            and not e["path"].lower().endswith(("/backup", "/recoverypoints"))]


def when(entry):
    return datetime.datetime.strptime(entry["time"][:26], "%Y-%m-%dT%H:%M:%S.%f")


def item_lists(entries):
    """The lists of the vault's protected items: the plan's, then the re-lists the check before each
    trigger is allowed: only when the list it has is more than a second old, at most one per second
    of triggering (on a machine that starts a batch within a second of the plan: none)."""
    lists = [e for e in entries if e["method"] == "GET" and e["path"].lower().endswith("/backupprotecteditems")]
    posts = triggers(entries)
    assert lists and posts
    seen = when(lists[0])
    for again in lists[1:]:
        assert (when(again) - seen).total_seconds() > 1, "a re-list of the items within a second of the last"
        seen = when(again)
    span = (max(when(p) for p in posts) - when(lists[0])).total_seconds()
    assert len(lists) - 1 <= int(span), (len(lists), span)
    return lists


def job_reads(entries):
    return [e for e in entries if e["method"] == "GET" and "/backupjobs" in e["path"].lower()]


def backup_jobs_of(emulator, vm_name):
    """The emulator's own record of the Backup jobs of a VM (no ARM read)."""
    jobs = emulator.admin("GET", "state").get("jobs", {}).values()
    return [j for j in jobs if j["operation"] == "Backup" and j["entity"] == vm_name]


def sdk_trigger(emulator, vault_name, label):
    vm_rg, vm = label.split("/")
    name = "iaasvmcontainerv2;%s;%s" % (vm_rg, vm)
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    emulator.sdk("backup").backups.trigger(vault_name, RG, "Azure", "iaasvmcontainer;" + name, "vm;" + name, {
        "properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": until}})


def test_one_vm_with_wait(emulator, playbook, vault):
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=WEB1, retain_until="2031-01-15"))
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert result["changed"] and len(result["vms"]) == 1
    vm = result["vms"][0]
    assert vm["vm"] == WEB1 and vm["changed"] and vm["error"] is None
    assert vm["job_status"] == "Completed" and vm["duration_seconds"] > 0
    assert vm["start_time"] < vm["end_time"]
    assert vm["retain_until"] == "2031-01-15T00:00:00Z"
    assert vm["id"].endswith("/virtualMachines/shop-web-01")
    assert result["counts"] == {"total": 1, "started": 1, "already_running": 0, "skipped": 0, "completed": 1,
                                "in_progress": 0, "failed": 0}
    entries = arm(emulator)
    assert len(triggers(entries)) == 1 and len(operation_reads(entries)) == 1
    # the job id comes from the operation status, as the az CLI reads it
    jobs = backup_jobs_of(emulator, "shop-web-01")
    assert vm["job_id"] in [j["id"] for j in jobs]
    # waiting read lists of the vault's jobs, never the job itself
    assert not [e for e in job_reads(entries) if "/backupjobs/" in e["path"].lower()]


def test_batch_with_wait_and_its_request_budget(emulator, playbook, vault):
    batch = [WEB2, DB1, ERP_SQL, ERP_TEST]
    run = playbook("backup_now.yml", extra_vars=dict(vault, vms=batch, concurrency=4))
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert [v["vm"] for v in result["vms"]] == batch
    assert all(v["job_status"] == "Completed" and v["changed"] and v["job_id"] for v in result["vms"])
    assert len({v["job_id"] for v in result["vms"]}) == 4
    assert result["counts"]["completed"] == 4 and result["counts"]["started"] == 4
    # 30 days by default, as in Azure
    until = datetime.datetime.strptime(result["vms"][0]["retain_until"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((until - datetime.datetime.utcnow()).days - 30) <= 1
    entries = arm(emulator)
    # per VM: the trigger and one operation status; per run: one list of protected items, one list of
    # running backups; then one list of jobs per poll round (each a backupJobs read).  The check right
    # before each trigger (a backup another run started and ended meanwhile is not taken twice) reads
    # nothing more: the four start within a second of the plan's list of items, which serves it, and no
    # VM's item is read on its own
    assert len(triggers(entries)) == 4 and len(operation_reads(entries)) == 4 and len(item_reads(entries)) == 0
    lists = item_lists(entries)
    reads = job_reads(entries)
    assert all(e["path"].lower().endswith("/backupjobs") for e in reads)
    assert 2 <= len(reads) <= 6
    assert len(entries) == 2 * 4 + len(lists) + len(reads)


def test_wait_false_costs_two_requests_per_vm(emulator, playbook, vault):
    batch = [WEB1, WEB2, DB1, ERP_APP, ERP_SQL, ERP_TEST]
    run = playbook("backup_now.yml", extra_vars=dict(vault, vms=batch, wait=False))
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert all(v["job_id"] and v["job_status"] for v in result["vms"]), result["vms"]
    entries = arm(emulator)
    assert len(triggers(entries)) == 6 and len(operation_reads(entries)) == 6 and len(item_reads(entries)) == 0
    # besides the two per VM (the trigger, the operation): protected items (they serve the check before
    # each trigger too; re-listed only as item_lists allows), running backups before, the jobs' state after
    assert len(entries) == 2 * 6 + len(item_lists(entries)) + 2
    # they all end (a module timeout, not a sleep)
    done = playbook("backup_job_info.yml", extra_vars=dict(vault, operation="Backup", status="InProgress",
                                                           wait=True, wait_timeout=120))
    assert done.rc == 0 and all(j["status"] != "InProgress" for j in done.task(TASK)["jobs"])


def test_check_mode_starts_nothing(emulator, playbook, vault):
    run = playbook("backup_now.yml", extra_vars=dict(vault, vms=[WEB1, "rg-shop-eus/shop-web-03"]), check=True)
    assert run.rc != 0     # the VM of another region is not protected by this vault: reported as in a real run
    result = run.task(TASK)
    web1, web3 = result["vms"]
    assert web1["changed"] and web1["job_id"] is None and web1["error"] is None
    assert web3["error"]["code"] == "VmNotProtected" and not web3["changed"]
    assert "protect it first" in result["msg"]
    assert emulator.writes() == []
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=WEB1), check=True)
    assert run.rc == 0 and run.task(TASK)["changed"] and run.task(TASK)["counts"]["started"] == 1
    assert emulator.writes() == []


def test_unprotected_vm_does_not_stop_the_batch(emulator, playbook, vault):
    run = playbook("backup_now.yml", extra_vars=dict(vault, vms=["rg-shop-eus/shop-web-03", WEB2]))
    assert run.rc != 0
    result = run.task(TASK)
    web3, web2 = result["vms"]
    assert web3["error"]["code"] == "VmNotProtected" and web3["job_id"] is None
    assert "backupops.azure.vm_protection" in web3["error"]["recommendations"][0]
    assert web2["job_status"] == "Completed" and web2["error"] is None and result["changed"]
    assert "The backups of 1 of 2 VMs failed" in result["msg"] and "rg-shop-eus/shop-web-03" in result["msg"]
    assert len(triggers(arm(emulator))) == 1


def test_failed_job_fails_the_task_with_azures_code_and_advice(emulator, playbook, vault):
    emulator.admin("POST", "vms/rg-erp-weu/erp-app-01/agent", json={"installed": True, "ready": False})
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=ERP_APP))
    assert run.rc != 0
    result = run.task(TASK)
    assert result["changed"]            # Azure did run a backup job
    vm = result["vms"][0]
    assert vm["job_status"] == "Failed" and vm["job_id"]
    assert vm["error"]["code"] == "UserErrorGuestAgentStatusUnavailable"
    assert "VM Agent unable to communicate with Azure Backup" in vm["error"]["message"]
    assert any("Agent status Ready" in r for r in vm["error"]["recommendations"])
    assert result["error"]["code"] == "UserErrorGuestAgentStatusUnavailable"
    assert "UserErrorGuestAgentStatusUnavailable" in result["msg"] and "Agent status Ready" in result["msg"]
    assert "Traceback" not in run.stdout + run.stderr
    # the same failure, reported without failing the task
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=ERP_APP, fail_on_job_failure=False))
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert result["changed"] and result["vms"][0]["error"]["code"] == "UserErrorGuestAgentStatusUnavailable"
    assert result["counts"]["failed"] == 1
    assert any("UserErrorGuestAgentStatusUnavailable" in w for w in result.get("warnings", []))
    emulator.admin("POST", "vms/rg-erp-weu/erp-app-01/agent", json={"installed": True, "ready": True})


def test_lost_response_starts_exactly_one_backup(emulator, playbook, vault):
    before = len(backup_jobs_of(emulator, "shop-web-02"))
    emulator.admin("PUT", "faults", json={"spec": "drop_after=1,methods=POST,path=/backup,count=1"})
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=WEB2))
    assert run.rc == 0, run.stdout
    vm = run.task(TASK)["vms"][0]
    assert vm["changed"] and vm["job_status"] == "Completed"
    posts = triggers(arm(emulator))
    assert [p["fault"] for p in posts] == ["drop_after"]          # never sent again
    jobs = backup_jobs_of(emulator, "shop-web-02")
    assert len(jobs) == before + 1 and vm["job_id"] in [j["id"] for j in jobs]
    # a request that never reached Azure (dropped before) is sent again, once
    before += 1
    emulator.admin("PUT", "faults", json={"spec": "drop_before=1,methods=POST,path=/backup,count=1"})
    emulator.clear_log()
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=WEB2))
    assert run.rc == 0, run.stdout
    assert [p["fault"] for p in triggers(arm(emulator))] == ["drop_before", None]
    assert len(backup_jobs_of(emulator, "shop-web-02")) == before + 1


def test_daily_limit_is_reported_clearly(emulator, playbook, vault):
    # nine on-demand attempts today (the first runs, the others fail: a backup is in progress)
    for _attempt in range(9):
        sdk_trigger(emulator, VAULT, DB1)
    done = playbook("backup_job_info.yml", extra_vars=dict(vault, vm=DB1, status="InProgress", wait=True,
                                                           wait_timeout=120))
    assert done.rc == 0, done.stdout
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm=DB1))
    assert run.rc != 0
    result = run.task(TASK)
    assert result["vms"][0]["error"]["code"] == "UserErrorMaxOnDemandBackupsPerDayReached"
    assert "per day" in result["msg"] and "00:00 UTC" in result["msg"]


def test_bad_inputs_make_no_request(emulator, playbook, vault):
    run = playbook("backup_now_bad_inputs.yml", extra_vars=dict(vault, vm=WEB1))
    failures = {r["task"]: r["result"] for r in run.results if r["status"] == "failed"}
    expected = {
        "Retain until in the past": "is not in the future",
        "Retain until malformed": "is not a date",
        "Retain until not a day of the calendar": "is not a date",
        "Retain until beyond the limit": "at most 99 years",
        "Both vm and vms": "mutually exclusive",
        "Empty vms": "empty list",
        "Neither vm nor vms": "one of the following is required: vm, vms",
        "Bare VM name": "does not say which resource group",
        "Concurrency out of range": "concurrency must be between 1 and 32",
    }
    assert set(failures) == set(expected), run.stdout
    for task, words in expected.items():
        assert words in failures[task]["msg"], (task, failures[task]["msg"])
        assert "Traceback" not in str(failures[task])
    assert arm(emulator) == []


def test_missing_vault(emulator, playbook):
    run = playbook("backup_now.yml", extra_vars={"vault_name": "rsv-none", "resource_group": RG, "vm": WEB1})
    assert run.rc != 0 and "Vault rsv-none does not exist" in run.task(TASK)["msg"]
    assert emulator.writes() == []


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """An emulator where a backup lasts about 12 s, to act while one runs."""
    running = Emulator(str(tmp_path_factory.mktemp("slow-emulator")), "--time-scale", "0.005")
    make_vault(running, tmp_path_factory.mktemp("slow-vault"), VAULT, "westeurope", [WEB1])
    yield running
    running.stop()
    assert not running.tracebacks(), running.tracebacks()


def test_second_backup_while_one_runs_returns_the_running_job(slow, tmp_path):
    run = run_playbook(slow, "backup_now_twice.yml", tmp_path, extra_vars={
        "vault_name": VAULT, "resource_group": RG, "vm": WEB1})
    assert run.rc == 0, run.stdout
    first, second = run.task("First backup"), run.task(TASK)
    assert first["changed"] and first["vms"][0]["job_status"] == "InProgress"
    assert not second["changed"] and not second["vms"][0]["changed"]
    assert second["vms"][0]["job_id"] == first["vms"][0]["job_id"]
    assert second["vms"][0]["job_status"] == "InProgress"
    assert second["counts"]["already_running"] == 1 and second["counts"]["started"] == 0
    assert len(triggers(slow.arm_requests())) == 1
    assert len(backup_jobs_of(slow, "shop-web-01")) == 1
    # check mode sees the same running backup: nothing would start
    check = run_playbook(slow, "backup_now.yml", tmp_path, check=True, extra_vars={
        "vault_name": VAULT, "resource_group": RG, "vm": WEB1})
    assert check.rc == 0 and not check.task(TASK)["changed"]
    assert check.task(TASK)["vms"][0]["job_id"] == first["vms"][0]["job_id"]
