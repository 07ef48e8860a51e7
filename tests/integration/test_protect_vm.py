# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/protect_vm.yml: one newly provisioned VM, as a provisioning pipeline calls it
(default seed, no vault at start: each test has its own emulator)."""

import os
import threading
import time

import pytest

from conftest import PLAYBOOKS, REPO

PLAYBOOK = os.path.relpath(os.path.join(REPO, "playbooks", "protect_vm.yml"), PLAYBOOKS)
FAIL_TASK = "Fail when the VM is not protected or its initial backup failed"


@pytest.fixture
def emulator(fresh_emulator):
    """The default seed for this test alone: test_one_vm_gets_the_vault... asserts every protected
    item of the emulator, which other tests' VMs would add to."""
    return fresh_emulator


def summary(run):
    return [r for r in run.results if r["task"].endswith(" : Sum up the region")][-1]["result"]["ansible_facts"][
        "vm_backup_summary"]


def kinds(writes):
    return sorted((w["method"], w["path"].rsplit("/", 1)[-1].split(";")[0].lower()) for w in writes)


def test_one_vm_gets_the_vault_of_its_region_protection_and_its_initial_backup(emulator, playbook):
    emulator.clear_log()
    run = playbook(PLAYBOOK, extra_vars={"vm": "rg-shop-weu/shop-web-01"})
    assert run.rc == 0, run.stdout[-4000:]
    # the resource group and the vault (created), the protected item, the backup: nothing else
    assert kinds(emulator.writes()) == [("POST", "backup"), ("PUT", "rg-backup-westeurope"),
                                        ("PUT", "rsv-backup-westeurope"), ("PUT", "vm")]
    done = summary(run)
    assert done["vault"] == {"name": "rsv-backup-westeurope", "resource_group": "rg-backup-westeurope"}
    assert done["protected_vms"] == ["rg-shop-weu/shop-web-01"] and done["changed"] == 1
    assert [(j["vm"], j["status"], j["started"]) for j in done["jobs"]] == [
        ("rg-shop-weu/shop-web-01", "Completed", True)]
    assert "is protected by vault rsv-backup-westeurope, initial backup Completed" in run.task(FAIL_TASK)["msg"]
    item = [i.get("doc") or i for i in emulator.admin("GET", "state")["items"].values()]
    assert [(i["vm_name"], i["policy"], len(i["recovery_points"])) for i in item] == [
        ("shop-web-01", "DefaultPolicy", 1)]

    emulator.clear_log()
    again = playbook(PLAYBOOK, extra_vars={"vm": "rg-shop-weu/shop-web-01"})
    assert again.rc == 0, again.stdout[-4000:]
    assert emulator.writes() == []
    assert not [r for r in again.results if r["status"] == "ok" and r["result"].get("changed")]
    assert summary(again)["jobs"] == [] and summary(again)["initial_backups"]["done_before"] == 1


def test_a_vm_given_by_its_arm_id_in_a_region_without_a_vault(emulator, playbook):
    # data-api-01 is not discovered by the vault yet: the discovery runs once, then protection
    vm_id = "/subscriptions/%s/resourceGroups/rg-data-sea/providers/Microsoft.Compute/virtualMachines/data-api-01" % (
        emulator.sub)
    emulator.clear_log()
    run = playbook(PLAYBOOK, extra_vars={"vm": vm_id, "vm_backup_retain_days": 90})
    assert run.rc == 0, run.stdout[-4000:]
    done = summary(run)
    assert done["vault"]["name"] == "rsv-backup-southeastasia" and done["jobs"][0]["status"] == "Completed"
    assert [w for w in emulator.writes() if w["path"].lower().endswith("/refreshcontainers")]
    retain = done["jobs"][0]["retain_until"]
    assert retain and retain[:4] >= "2026"


def test_a_vm_that_cannot_be_backed_up_fails_the_pipeline_with_the_reason(emulator, playbook):
    emulator.clear_log()
    run = playbook(PLAYBOOK, extra_vars={"vm": "rg-migrated-eus/legacy-lnx-01"})
    assert run.rc != 0
    failed = run.failed()
    assert [f["task"] for f in failed] == [FAIL_TASK]
    assert "rg-migrated-eus/legacy-lnx-01 is not protected: AgentNotInstalled - The VM is running and its Azure VM " \
           "agent is missing" in failed[0]["result"]["msg"]
    # the vault of eastus was made, the VM was not protected
    assert not [w for w in emulator.writes() if "/protecteditems/" in w["path"].lower()]


def test_the_playbook_waits_for_an_agent_that_is_not_ready_yet(emulator, playbook):
    """legacy-win-02's agent does not report Ready: Azure reports it Ready only after the playbook has
    read the VM twice (its first read, then the wait's first poll), as for a VM just provisioned."""
    path = ("/subscriptions/%s/resourcegroups/rg-migrated-eus/providers/microsoft.compute/virtualmachines/"
            "legacy-win-02" % emulator.sub)
    emulator.clear_log()
    done = threading.Event()

    def agent_reports_ready_after_two_reads():
        while not done.is_set():
            reads = [e for e in emulator.log() if e["method"] == "GET" and e["path"].lower() == path]
            if len(reads) >= 2:
                emulator.admin("POST", "vms/rg-migrated-eus/legacy-win-02/agent", json={"ready": True})
                return
            time.sleep(0.2)
    heartbeat = threading.Thread(target=agent_reports_ready_after_two_reads, daemon=True)
    heartbeat.start()
    run = playbook(PLAYBOOK, extra_vars={"vm": "rg-migrated-eus/legacy-win-02", "protect_vm_agent_poll_interval": 1,
                                         "protect_vm_agent_wait_timeout": 60})
    done.set()
    heartbeat.join(timeout=10)
    assert run.rc == 0, run.stdout[-4000:]
    waited = run.task("Wait until the new VM's agent reports Ready")
    assert waited["reads"] >= 2 and waited["vms"][0]["verdict"] == "ready"
    assert summary(run)["protected_vms"] == ["rg-migrated-eus/legacy-win-02"]


def test_a_vm_that_does_not_exist_fails_before_any_write(emulator, playbook):
    emulator.clear_log()
    run = playbook(PLAYBOOK, extra_vars={"vm": "rg-shop-weu/shop-web-99"})
    assert run.rc != 0 and [f["task"] for f in run.failed()] == ["Read the VM and its agent"]
    assert "VM rg-shop-weu/shop-web-99 not found" in run.failed()[0]["result"]["msg"]
    assert emulator.writes() == []
    emulator.clear_log()
    run = playbook(PLAYBOOK)
    assert run.rc != 0 and "Give the VM to protect: -e vm=resource_group/name" in run.failed()[0]["result"]["msg"]
    assert emulator.arm_requests() == []
