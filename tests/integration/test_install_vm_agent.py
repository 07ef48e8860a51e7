# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/install_vm_agent.yml on the default seed's migrated VMs: legacy-lnx-01 is an inventory
host played by a disposable Debian target (see agent_harness.py), the three others have no host.
The agent is installed for real in the target, Azure (the emulator) reports it Ready only after
its daemon runs there, then the VM is protected and backed up; the others are reported."""

import os

from agent_harness import MIGRATED_RG, Heartbeat, changed_tasks, play, results, target_vars, write_inventory
from agent_harness import boot, image  # noqa: F401  pylint: disable=unused-import
from conftest import PLAYBOOKS, REPO, Emulator

PLAYBOOK = os.path.relpath(os.path.join(REPO, "playbooks", "install_vm_agent.yml"), PLAYBOOKS)
EXTRA = {"install_vm_agent_resource_groups": [MIGRATED_RG], "vm_backup_wait": True}
NO_HOST = ["rg-migrated-eus/legacy-app-01", "rg-migrated-eus/legacy-lnx-02", "rg-migrated-eus/legacy-win-02"]


def summary(run):
    found = [r for r in run.results if r["task"].endswith(" : Sum up the region") and r["status"] == "ok"]
    assert len(found) == 1, [r["host"] for r in found]
    return found[0]["result"]["ansible_facts"]["vm_backup_summary"]


def test_the_migrated_vm_in_the_inventory_gets_its_agent_then_protection_the_others_are_reported(
        emulator, boot, tmp_path):
    target = boot("legacy-lnx-01")
    inventory = write_inventory(tmp_path, {"migrated": {"legacy-lnx-01": target_vars(
        target, vm_agent_azure_vm="%s/legacy-lnx-01" % MIGRATED_RG, vm_agent_poll_interval=1,
        vm_agent_wait_timeout=120)}})
    heartbeat = Heartbeat(emulator, {"legacy-lnx-01": (MIGRATED_RG, target)})
    heartbeat.start()
    run = play(emulator, PLAYBOOK, tmp_path, inventory, extra_vars=EXTRA)
    heartbeat.stop()
    assert run.rc == 0, run.stdout[-4000:]
    assert heartbeat.errors == []

    plan = run.task("Work out the VMs in scope, those that need the agent, and their inventory hosts")[
        "ansible_facts"]["install_vm_agent_plan"]
    assert [(v["vm"], v["host"], v["verdict"]) for v in plan["install"]] == [
        ("rg-migrated-eus/legacy-lnx-01", "legacy-lnx-01", "missing")]
    assert [v["vm"] for v in plan["no_host"]] == NO_HOST
    assert len(plan["scope"]) == 4          # only the resource group asked for
    # the agent was installed in the target, its daemon runs, and the role's wait saw Azure report it Ready
    assert target.run("dpkg-query -W -f '${Status}' waagent").stdout == "install ok installed"
    assert [r["host"] for r in results(run, "Install the distribution's agent package (Debian, Ubuntu)")
            if r["result"]["changed"]] == ["legacy-lnx-01"]
    assert results(run, "Wait until Azure reports the agent Ready")[0]["result"]["vms"][0]["verdict"] == "ready"

    # then protected in the vault of its region, its initial backup completed; the others reported
    done = summary(run)
    assert done["vault"]["name"] == "rsv-backup-eastus" and done["protected_vms"] == ["rg-migrated-eus/legacy-lnx-01"]
    assert [(j["vm"], j["status"]) for j in done["jobs"]] == [("rg-migrated-eus/legacy-lnx-01", "Completed")]
    assert {v["vm"]: v["code"] for v in done["ineligible"]} == {
        "rg-migrated-eus/legacy-app-01": "AgentNotInstalled", "rg-migrated-eus/legacy-lnx-02": "AgentNotInstalled",
        "rg-migrated-eus/legacy-win-02": "AgentNotReady"}
    lines = run.task("Show what was installed, what was protected, and what needs action")["msg"]
    assert "rg-migrated-eus/legacy-lnx-01: agent installed on host legacy-lnx-01" in lines
    for vm in NO_HOST:
        assert any(line.startswith(vm + ": ") and "add it to the inventory" in line for line in lines), lines

    # a second run: every agent it can reach is Ready, the VM is protected and backed up
    emulator.clear_log()
    again = play(emulator, PLAYBOOK, tmp_path, inventory, extra_vars=EXTRA)
    assert again.rc == 0, again.stdout[-4000:]
    assert changed_tasks(again) == [] and emulator.writes() == []
    assert not results(again, "Install the distribution's agent package (Debian, Ubuntu)")
    assert summary(again)["protected_vms"] == ["rg-migrated-eus/legacy-lnx-01"] and summary(again)["jobs"] == []


def test_without_an_inventory_nothing_is_installed_and_the_vms_are_reported(tmp_path):
    """How `make demo` runs it: no host to install on. Nothing fails, nothing is written (no vault is
    made for VMs that cannot be protected yet)."""
    fresh = Emulator(str(tmp_path / "emulator"))
    try:
        run = play(fresh, PLAYBOOK, tmp_path, write_inventory(tmp_path, {"migrated": {}}),
                   extra_vars={"install_vm_agent_resource_groups": [MIGRATED_RG]})
        assert run.rc == 0, run.stdout[-4000:]
        plan = run.task("Work out the VMs in scope, those that need the agent, and their inventory hosts")[
            "ansible_facts"]["install_vm_agent_plan"]
        assert plan["install"] == [] and [v["vm"] for v in plan["no_host"]] == sorted(
            NO_HOST + ["rg-migrated-eus/legacy-lnx-01"])
        lines = run.task("Show what was installed, what was protected, and what needs action")["msg"]
        assert lines[0] == "agent needed on 4 VM(s): 0 with an inventory host, 4 without"
        assert not run.failed() and fresh.writes() == []
    finally:
        fresh.stop()
