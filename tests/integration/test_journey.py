# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The guide's whole journey, both ways, with real ansible-playbook runs against the emulator:
from one VM's side (a provisioning pipeline) and from the vault's side for many VMs.  Each
journey then runs again and must change nothing and write nothing."""

import datetime

RETAIN = (datetime.date.today() + datetime.timedelta(days=45)).isoformat()


def _run_twice(emulator, playbook, name):
    emulator.clear_log()
    first = playbook(name, extra_vars={"retain_until": RETAIN})
    assert first.rc == 0, first.stdout[-4000:]
    writes = emulator.writes()
    emulator.clear_log()
    again = playbook(name, extra_vars={"retain_until": RETAIN})
    assert again.rc == 0, again.stdout[-4000:]
    return first, writes, again


def test_journey_from_one_vms_side(emulator, playbook):
    first, writes, again = _run_twice(emulator, playbook, "journey_from_the_vm.yml")
    protection = first.task("Enable protection of the VM with the default policy")
    assert protection["changed"] and protection["vms"][0]["policy"] == "DefaultPolicy"
    initial = first.task("Run its initial backup, kept until the date given, and follow the job")
    vm = initial["vms"][0]
    assert initial["changed"] and vm["job_status"] == "Completed" and vm["job_id"]
    assert vm["retain_until"].startswith(RETAIN) and vm["duration_seconds"] > 0
    status = first.task("Which vault protects the VM, its last backup and the next scheduled one")["vms"][0]
    assert status["vault"] == "rsv-journey-eastus" and status["last_backup_status"] == "Completed"
    assert status["next_scheduled_backup"]
    vault = first.task("The vault's protected instances (Azure bills per instance)")["vaults"][0]
    assert vault["storage_redundancy"] == "LocallyRedundant" and vault["billed_instance_count"] == 1
    # one vault PUT, one protected-item PUT, one backup POST: nothing else was written
    kinds = sorted((w["method"], w["path"].rsplit("/", 1)[-1].split(";")[0].lower()) for w in writes)
    assert kinds == [("POST", "backup"), ("PUT", "rg-backup-eastus"), ("PUT", "rsv-journey-eastus"),
                     ("PUT", "vm")], kinds
    # the second run: nothing to do, nothing written, the initial backup not started again
    assert not [r for r in again.results if r["result"].get("changed")]
    assert emulator.writes() == []
    assert again.task("Run its initial backup, kept until the date given, and follow the job")["vms"][0]["skipped"]


def test_journey_from_the_vaults_side_for_many_vms(emulator, playbook):
    first, writes, again = _run_twice(emulator, playbook, "journey_from_the_vault.yml")
    selectable = first.task("Select virtual machines (discovery first)")
    names = sorted(v["name"] for v in selectable["protectable"])
    assert names == ["erp-app-01", "erp-sql-01", "erp-test-01", "shop-db-01", "shop-web-01", "shop-web-02"]
    reasons = {v["vm"]: v["reason_code"] for v in selectable["not_eligible"]}
    assert reasons["rg-shop-eus/shop-web-03"] == "VmInAnotherRegion"
    protection = first.task("Enable backup of every VM the vault can protect")
    assert protection["changed_count"] == 6 and protection["failed_count"] == 0
    assert {v["policy"] for v in protection["vms"]} == {"vm-daily-30"}
    verdicts = {v["vm"]: [x["code"] for x in v["verdicts"]] for v in protection["vms"]}
    assert verdicts["rg-erp-weu/erp-test-01"] == ["VmNotRunning"], verdicts     # crash-consistent only
    assert verdicts["rg-erp-weu/erp-sql-01"] == ["EncryptedVm"] and verdicts["rg-shop-weu/shop-web-01"] == []
    initial = first.task("Start their initial backups")
    assert initial["counts"]["started"] == 6 and all(v["job_id"] for v in initial["vms"])
    jobs = first.task("Wait for every backup job")["jobs"]
    assert sorted(j["job_id"] for j in jobs) == sorted(v["job_id"] for v in initial["vms"])
    assert {j["status"] for j in jobs} == {"Completed"}
    items = first.task("The vault's protected items")["vms"]
    assert len(items) == 6 and {i["last_backup_status"] for i in items} == {"Completed"}
    assert {i["policy"] for i in items} == {"vm-daily-30"} and all(i["next_scheduled_backup"] for i in items)
    posts = [w for w in writes if w["method"] == "POST" and w["path"].lower().endswith("/backup")]
    assert len(posts) == 6
    # converged: nothing changed, nothing written, no backup started again
    assert not [r for r in again.results if r["result"].get("changed")]
    assert [(w["method"], w["path"]) for w in emulator.writes()] == []
    assert again.task("Start their initial backups")["counts"]["skipped"] == 6


def test_discovery_runs_only_when_a_vm_is_not_discovered(emulator, playbook):
    assert playbook("journey_vault_sea.yml").rc == 0
    args = {"vault_name": "rsv-journey-sea", "resource_group": "rg-backup-sea", "refresh": "auto"}
    emulator.clear_log()
    first = playbook("protectable_vm_info.yml", extra_vars=args).task("Module under test")
    refreshes = [w for w in emulator.writes() if w["path"].lower().endswith("/refreshcontainers")]
    assert first["discovery_ran"] and len(refreshes) == 1
    assert "rg-data-sea/data-api-01" in [v["vm"] for v in first["protectable"]]
    emulator.clear_log()
    again = playbook("protectable_vm_info.yml", extra_vars=args).task("Module under test")
    assert not again["discovery_ran"] and emulator.writes() == []
    assert [v["vm"] for v in again["protectable"]] == [v["vm"] for v in first["protectable"]]
