# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vm_agent role and a running backup (Azure's guide, the VM agent table: "make sure that no
backup operation is running while the VM agent is updated").

The estate: legacy-lnx-01 and legacy-lnx-02 protected in one vault, their agents Ready at an old
version (the role updates them to Debian's waagent). A backup of legacy-lnx-01 is started with
backup_now wait: false; the emulator runs at a time scale where that backup (about 41 Azure
minutes) lasts about 50 s, so the role meets it running. Azure Backup's 150 job reads an hour are on.
"""

import datetime
import os
from urllib.parse import unquote_plus

import pytest

from agent_harness import MIGRATED_RG, changed_tasks, play, results, target_vars, write_inventory
from agent_harness import boot, image  # noqa: F401  pylint: disable=unused-import
from conftest import Emulator, Snapshot, arranging, run_playbook

# 41 Azure minutes of backup at 0.02: 39 to 59 s (the emulator spreads durations by +-20 %).
SCALE = "0.02"
RG, VAULT = "rg-it-agentwait", "rsv-agentwait-eus"
BUSY, IDLE = "legacy-lnx-01", "legacy-lnx-02"
OLD_AGENT = "2.2.45"
SUMMARY = "Sum up the backup check (the VMs skipped and why, the waits, the job reads)"


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("agentwait")
    with arranging(Emulator(str(tmp / "arranged"), "--time-scale", SCALE)) as running:
        run = run_playbook(running, "rs_vault.yml", tmp, extra_vars={
            "name": VAULT, "resource_group": RG, "location": "eastus", "create_resource_group": True})
        assert run.rc == 0, run.stdout
        for vm in (BUSY, IDLE):
            running.admin("POST", "vms/%s/%s/agent" % (MIGRATED_RG, vm),
                          json={"installed": True, "ready": True, "version": OLD_AGENT})
            running.protect_vm(RG, VAULT, MIGRATED_RG, vm)
    return Snapshot(running)


@pytest.fixture
def emulator(estate, tmp_path):
    running = estate.start(str(tmp_path / "emulator"))
    yield running
    running.stop()
    assert not running.tracebacks(), running.tracebacks()


def start_backup(emulator, tmp_path):
    """backup_now wait: false on legacy-lnx-01: its job id (the job runs on in the emulator)."""
    run = run_playbook(emulator, "backup_now.yml", tmp_path, extra_vars={
        "vault_name": VAULT, "resource_group": RG, "vm": "%s/%s" % (MIGRATED_RG, BUSY), "wait": False})
    assert run.rc == 0, run.stdout[-3000:]
    job_id = run.task("Module under test")["vms"][0]["job_id"]
    assert job_id
    return job_id


def job_reads(emulator):
    return [e for e in emulator.arm_requests() if e["method"] == "GET" and "/backupjobs" in e["path"].lower()]


def read_job(emulator, job_id):
    job = emulator.sdk("backup").job_details.get(VAULT, RG, job_id)
    return job.properties


def unreachable_host(tmp_path, **extra):
    """legacy-lnx-01 as a host the role must never contact: its 'target' directory does not exist."""
    return dict(target_vars(_Missing(str(tmp_path / "never-booted"))),
                vm_agent_azure_vm="%s/%s" % (MIGRATED_RG, BUSY), **extra)


class _Missing:
    def __init__(self, directory):
        self.directory = directory


def inventory(tmp_path, hosts, **settings):
    return write_inventory(tmp_path, {"migrated": {
        name: dict(hostvars, **settings) for name, hostvars in hosts.items()}})


def real_host(target, vm, **extra):
    return target_vars(target, vm_agent_azure_vm="%s/%s" % (MIGRATED_RG, vm), vm_agent_poll_interval=1,
                       vm_agent_wait_timeout=120, **extra)


def summary_lines(run):
    found = results(run, SUMMARY)
    assert len(found) == 1 and found[0]["status"] == "ok", [r["status"] for r in found]
    return found[0]["result"]["msg"]


def utc(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_role_waits_for_the_running_backup_then_installs(emulator, boot, tmp_path):
    targets = {vm: boot(vm) for vm in (BUSY, IDLE)}
    job_id = start_backup(emulator, tmp_path)
    emulator.clear_log()
    inv = inventory(tmp_path, {vm: real_host(t, vm) for vm, t in targets.items()},
                    vm_agent_when_backup_running="wait", vm_agent_backup_poll_interval=3,
                    vm_agent_backup_wait_timeout=300)
    run = play(emulator, "vm_agent_role.yml", tmp_path, inv)
    assert run.rc == 0, run.stdout[-4000:]
    reads = job_reads(emulator)

    job = read_job(emulator, job_id)
    assert job.status == "Completed" and job.end_time is not None
    ended = job.end_time.astimezone(datetime.timezone.utc)

    # The role saw the job running, waited, and says when it found none running any more.
    facts = {r["host"]: r["result"]["ansible_facts"]["vm_agent_backup"]
             for r in results(run, "Note what the backup check found for this VM")}
    busy, idle = facts[BUSY], facts[IDLE]
    assert [j["job_id"] for j in busy["found_running"]] == [job_id] and busy["still_running"] == []
    assert busy["waited"] and not busy["skipped"] and busy["vault"] == VAULT
    assert idle["found_running"] == [] and idle["vault"] == VAULT and not idle["skipped"]
    assert utc(busy["checked_at"]) >= ended.replace(microsecond=0)
    said = [r for r in results(run, "Say what the backup check did for this VM") if r["status"] == "ok"]
    assert [r["host"] for r in said] == [BUSY]
    assert "for backup job(s) %s of vault %s" % (job_id, VAULT) in said[0]["result"]["msg"]

    # The agent was installed in the VM after the backup job ended (Azure's end time against the
    # time dpkg wrote the package's file list in the target).
    for vm, target in targets.items():
        assert target.run("dpkg-query -W -f '${Status}' waagent").stdout == "install ok installed"
        installed = datetime.datetime.fromtimestamp(
            os.stat(target.path("/var/lib/dpkg/info/waagent.list")).st_mtime, datetime.timezone.utc)
        assert installed >= ended, (vm, installed, ended)
    assert sorted(r["host"] for r in results(run, "Install the distribution's agent package (Debian, Ubuntu)")
                  if r["result"]["changed"]) == [BUSY, IDLE]

    # Job reads: every one is ONE filtered list of the vault's running backups, for both VMs; the
    # first round found the job running, the last one found none; the summary counts them.
    assert len(reads) >= 2
    assert all(e["path"].lower().endswith("/vaults/%s/backupjobs" % VAULT) for e in reads)
    assert all("status eq 'InProgress'" in unquote_plus(e["query"]) and "operation eq 'Backup'" in unquote_plus(
        e["query"]) for e in reads)
    rounds = results(run, "Read the running backups again until none of the play's VMs has one "
                          "(one list per vault a round)")[0]["result"]["results"]
    assert len(rounds) == 1 and rounds[0]["jobs"] == [] and len(reads) == 1 + rounds[0]["attempts"]
    lines = summary_lines(run)
    assert lines[0].startswith("backup check: 2 VM(s), 1 vault(s), %d job list read(s)" % len(reads))
    assert any(line.startswith("%s (%s/%s): waited " % (BUSY, MIGRATED_RG, BUSY)) and job_id in line for line in lines)
    assert "%s (%s/%s): no backup running (vault %s)" % (IDLE, MIGRATED_RG, IDLE, VAULT) in lines
    # Reads well inside Azure Backup's 150 an hour, and the role wrote nothing in Azure.
    assert all(e["status"] == 200 for e in reads) and len(reads) < 40
    assert emulator.writes() == []


def test_skip_leaves_the_vm_with_a_running_backup_untouched_and_names_it(emulator, boot, tmp_path):
    idle = boot(IDLE)
    job_id = start_backup(emulator, tmp_path)
    emulator.clear_log()
    inv = inventory(tmp_path, {BUSY: unreachable_host(tmp_path), IDLE: real_host(idle, IDLE)},
                    vm_agent_when_backup_running="skip")
    run = play(emulator, "vm_agent_role.yml", tmp_path, inv)
    # skip was chosen: the run succeeds, the summary names the VM left undone and why.
    assert run.rc == 0, run.stdout[-4000:]
    assert not [r for r in run.results if r["status"] == "failed"]
    said = [r for r in results(run, "Say what the backup check did for this VM") if r["status"] == "ok"]
    assert [r["host"] for r in said] == [BUSY]
    assert said[0]["result"]["msg"].startswith(
        "Skipped %s (%s/%s): backup job %s of vault %s running since" % (BUSY, MIGRATED_RG, BUSY, job_id, VAULT))
    lines = summary_lines(run)
    assert lines[0].startswith("backup check: 2 VM(s), 1 vault(s), 1 job list read(s)")
    assert any(line.startswith("%s (%s/%s): SKIPPED - backup job %s of vault %s running since" % (
        BUSY, MIGRATED_RG, BUSY, job_id, VAULT)) for line in lines)
    # legacy-lnx-01 was never contacted (its host does not exist); legacy-lnx-02 got its agent.
    on_busy = {r["task"].split(" : ")[-1] for r in run.results if r["host"] == BUSY and r["status"] == "ok"}
    assert "Install the distribution's agent package (Debian, Ubuntu)" not in on_busy
    assert "Gather the facts that name the distribution" not in on_busy
    assert idle.run("dpkg-query -W -f '${Status}' waagent").stdout == "install ok installed"
    # One job read for the two VMs of the vault, no wait.
    reads = job_reads(emulator)
    assert len(reads) == 1 and "status eq 'InProgress'" in unquote_plus(reads[0]["query"])
    record = results(run, "Note what the backup check found for this VM")
    skipped = [r["result"]["ansible_facts"]["vm_agent_backup"] for r in record if r["host"] == BUSY][0]
    assert skipped["skipped"] and [(j["job_id"], j["status"]) for j in skipped["still_running"]] == [
        (job_id, "InProgress")]
    assert skipped["reason"].startswith("backup job %s of vault %s running since " % (job_id, VAULT))
    assert emulator.writes() == []


@pytest.mark.parametrize("mode, timeout, expected", [
    ("wait", 4, "Timed out after 4 s (vm_agent_backup_wait_timeout) waiting for backup job %s of vault %s"),
    ("fail", 4, "Found backup job %s of vault %s"),
])
def test_a_backup_still_running_fails_the_vm_with_one_message(emulator, tmp_path, mode, timeout, expected):
    job_id = start_backup(emulator, tmp_path)
    emulator.clear_log()
    inv = inventory(tmp_path, {BUSY: unreachable_host(tmp_path)}, vm_agent_when_backup_running=mode,
                    vm_agent_backup_wait_timeout=timeout, vm_agent_backup_poll_interval=1)
    run = play(emulator, "vm_agent_role.yml", tmp_path, inv)
    failed = run.failed()
    assert run.rc != 0 and len(failed) == 1, (run.stdout[-4000:], run.stderr[-2000:])
    msg = failed[0]["result"]["msg"]
    assert msg.startswith(expected % (job_id, VAULT)), msg
    assert "on VM %s/%s" % (MIGRATED_RG, BUSY) in msg and "the agent on %s was not touched" % BUSY in msg
    reads = job_reads(emulator)
    if mode == "fail":
        assert len(reads) == 1
    else:      # one read, then one a second until the 4 s deadline: bounded
        assert 2 <= len(reads) <= 7, len(reads)
    assert read_job(emulator, job_id).status == "InProgress"
    assert changed_tasks(run) == [] and emulator.writes() == []


def test_check_mode_reads_once_and_does_not_wait(emulator, tmp_path):
    job_id = start_backup(emulator, tmp_path)
    emulator.clear_log()
    inv = inventory(tmp_path, {BUSY: unreachable_host(tmp_path)}, vm_agent_when_backup_running="skip")
    run = play(emulator, "vm_agent_role.yml", tmp_path, inv, check=True)
    assert run.rc == 0, run.stdout[-4000:]
    said = [r for r in results(run, "Say what the backup check did for this VM") if r["status"] == "ok"]
    assert said[0]["result"]["msg"].startswith("Skipped %s" % BUSY) and job_id in said[0]["result"]["msg"]
    assert len(job_reads(emulator)) == 1 and emulator.writes() == []
