# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The vm_agent role: Linux for real in disposable targets, Windows in check mode against stand-ins.

The agent's daemon runs inside the targets with a network namespace that has nothing but a
loopback interface; Azure (the emulator) reports the agent Ready only after the daemon runs there
(agent_harness.Heartbeat), so the role's wait really waits.
"""

import os
import subprocess
import sys

from agent_harness import (COLLECTIONS, MIGRATED_RG, WINDOWS_STANDINS, Heartbeat, changed_tasks, play, results,
                           target_vars, vm_path, write_inventory)
from agent_harness import boot, downloads, image  # noqa: F401  pylint: disable=unused-import
from conftest import PLAYBOOKS

LINUX = ("legacy-lnx-01", "legacy-lnx-02")
# Actions that never run anything on the host (the Azure reads are delegated to the controller; debug
# is the backup check's summary).
CONTROLLER_ONLY = {"ansible.builtin.validate_argument_spec", "ansible.builtin.assert", "ansible.builtin.set_fact",
                   "ansible.builtin.include_tasks", "ansible.builtin.debug", "backupops.azure.vm_agent_check",
                   "backupops.azure.vm_protection_info", "backupops.azure.backup_job_info"}
FAST = {"vm_agent_poll_interval": 1, "vm_agent_wait_timeout": 120}


def linux_inventory(tmp_path, targets, **extra):
    return write_inventory(tmp_path, {"migrated": {
        name: target_vars(target, **{**FAST, "vm_agent_azure_vm": "%s/%s" % (MIGRATED_RG, name), **extra})
        for name, target in targets.items()}})


def test_migrated_linux_vms_get_the_agent_and_azure_reports_it_ready(emulator, boot, tmp_path):
    targets = {name: boot(name) for name in LINUX}
    inventory = linux_inventory(tmp_path, targets)
    emulator.clear_log()
    heartbeat = Heartbeat(emulator, {name: (MIGRATED_RG, target) for name, target in targets.items()})
    heartbeat.start()
    run = play(emulator, "vm_agent_migrated.yml", tmp_path, inventory,
               extra_vars={"migrated_resource_group": MIGRATED_RG})
    heartbeat.stop()
    assert run.rc == 0, run.stdout[-4000:]
    assert heartbeat.errors == []

    # The first check found the three migrated VMs without an agent (the Windows one is not in this
    # inventory), and the role ran on the two Linux ones.
    before = {vm["name"]: vm for vm in run.task("Check the agents of the migrated resource group")["vms"]}
    assert sorted(n for n, vm in before.items() if vm["verdict"] == "missing") == [
        "legacy-app-01", "legacy-lnx-01", "legacy-lnx-02"]
    installed = results(run, "Install the distribution's agent package (Debian, Ubuntu)")
    assert sorted(r["host"] for r in installed if r["result"]["changed"]) == list(LINUX)

    for name, target in targets.items():
        # The agent is installed in the target, and its daemon runs there ...
        assert target.run("dpkg-query -W -f '${Status}' waagent").stdout == "install ok installed"
        daemons = [pid for pid, cmd in target.processes().items() if "waagent -daemon" in cmd]
        assert daemons, target.processes()
        # ... in a network namespace that has nothing but loopback: no route, no other interface.
        names, routes, routes6 = target.interfaces()
        assert names == ["lo"] and routes == [] and all(r[-1] == "lo" for r in routes6)
        assert os.readlink("/proc/%d/ns/net" % daemons[0]) == target.namespace("net") != os.readlink(
            "/proc/self/ns/net")
        # Azure reported Ready only after the daemon ran and the role's wait had asked at least once.
        event = heartbeat.events[name]
        log = emulator.log()
        polls = [i for i, e in enumerate(log) if e["method"] == "GET" and e["path"].lower() == vm_path(
            emulator, MIGRATED_RG, name)]
        assert any(event["daemon"] <= i < event["heartbeat"] for i in polls)
        assert any(i >= event["heartbeat"] for i in polls)
    waits = [r["result"] for r in results(run, "Wait until Azure reports the agent Ready")]
    assert len(waits) == 2 and all(w["reads"] >= 2 and w["vms"][0]["verdict"] == "ready" for w in waits)
    after = run.task("Check the agents of the migrated VMs")
    assert after["all_ready"] and [vm["agent_version"] for vm in after["vms"]] == [
        heartbeat.events[name]["version"] for name in LINUX]
    assert emulator.writes() == []

    # A second run finds every agent Ready and changes nothing; so does the role on its own.
    again = play(emulator, "vm_agent_migrated.yml", tmp_path, inventory,
                 extra_vars={"migrated_resource_group": MIGRATED_RG})
    assert again.rc == 0 and changed_tasks(again) == []
    assert not results(again, "Install the distribution's agent package (Debian, Ubuntu)")
    role_again = play(emulator, "vm_agent_role.yml", tmp_path, inventory)
    assert role_again.rc == 0 and changed_tasks(role_again) == [], changed_tasks(role_again)
    assert sorted(r["host"] for r in results(role_again, "Verify the installed agent")) == list(LINUX)
    assert emulator.writes() == []


def test_check_mode_predicts_the_install_and_changes_nothing(emulator, boot, tmp_path):
    target = boot("legacy-lnx-01")
    inventory = linux_inventory(tmp_path, {"legacy-lnx-01": target})
    emulator.clear_log()
    run = play(emulator, "vm_agent_role.yml", tmp_path, inventory, check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert changed_tasks(run) == [("legacy-lnx-01", "backupops.azure.vm_agent : Install the distribution's agent "
                                                    "package (Debian, Ubuntu)")]
    skipped = {r["task"].split(" : ")[-1] for r in run.results if r["status"] == "skipped"}
    assert {"Enable and start the agent's service", "Verify the installed agent",
            "Wait until Azure reports the agent Ready"} <= skipped
    assert target.run("dpkg-query -W waagent", check=False).returncode != 0
    assert not os.path.exists(target.path("/var/lib/waagent"))
    assert emulator.writes() == []


BAD_INPUTS = [
    ({"vm_agent_linux_distribution": "gentoo"}, "vm_agent_linux_distribution must be one of"),
    ({"vm_agent_azure_vm": "%s/legacy-lnx-99" % MIGRATED_RG}, "VM %s/legacy-lnx-99 not found" % MIGRATED_RG),
    ({"vm_agent_azure_vm": "legacy-lnx-01"}, "a bare name does not say which resource group"),
    ({"vm_agent_azure_vm": ""}, "vm_agent_azure_vm is empty"),
    ({"vm_agent_wait_timeout": 0}, "vm_agent_wait_timeout (0) must be at least 1 second"),
    ({"vm_agent_linux_min_version": "latest"}, "must be dotted versions"),
    ({"vm_agent_linux_source": "upstream", "vm_agent_linux_upstream_version": "2.9.1.1"},
     "vm_agent_linux_upstream_checksum as sha256:HEX"),
]


def test_bad_inputs_fail_with_one_message_before_the_host_is_touched(emulator, boot, tmp_path):
    target = boot("legacy-lnx-01")
    log = os.path.join(target.directory, "commands.log")
    for extra, message in BAD_INPUTS:
        inventory = linux_inventory(tmp_path, {"legacy-lnx-01": target}, **extra)
        run = play(emulator, "vm_agent_role.yml", tmp_path, inventory)
        failed = run.failed()
        assert run.rc != 0 and len(failed) == 1, (extra, run.stdout[-2000:])
        assert message in failed[0]["result"]["msg"], (extra, failed[0]["result"]["msg"])
        assert not os.path.exists(log), (extra, open(log).read())
    assert emulator.writes() == []


def test_an_unknown_distribution_stops_after_reading_the_facts(emulator, boot, tmp_path):
    target = boot("legacy-lnx-01")
    target.run("rm /etc/os-release && printf 'NAME=\"Gentoo\"\\nID=gentoo\\n' > /etc/os-release"
               " && echo 'Gentoo Base System release 2.14' > /etc/gentoo-release")
    run = play(emulator, "vm_agent_role.yml", tmp_path, linux_inventory(tmp_path, {"legacy-lnx-01": target}))
    failed = run.failed()
    assert run.rc != 0 and len(failed) == 1
    assert "runs Gentoo 2.14, a distribution the role does not know" in failed[0]["result"]["msg"]
    on_host = {r["action"] for r in run.results if r["status"] in ("ok", "failed")}
    assert on_host - CONTROLLER_ONLY == {"ansible.builtin.setup"}       # only the facts were read on the VM
    assert target.run("dpkg-query -W waagent", check=False).returncode != 0


def windows_inventory(tmp_path, downloads, **extra):
    url, checksum = downloads.add("WindowsAzureVmAgent.msi", b"stand-in for the agent MSI served by a mirror")
    hostvars = {"ansible_connection": "local", "vm_agent_azure_vm": "%s/legacy-app-01" % MIGRATED_RG,
                "vm_agent_windows_msi_url": url, "vm_agent_windows_msi_checksum": checksum,
                "vm_agent_controller_cache": str(tmp_path / "cache")}
    hostvars.update(extra)
    return write_inventory(tmp_path, {"migrated": {"legacy-app-01": hostvars}}), checksum


def test_windows_path_in_check_mode_with_its_arguments(emulator, downloads, tmp_path):
    inventory, checksum = windows_inventory(tmp_path, downloads)
    emulator.clear_log()
    run = play(emulator, "vm_agent_role.yml", tmp_path, inventory, check=True, collections=[WINDOWS_STANDINS])
    assert run.rc == 0, run.stdout[-3000:]
    msi = str(tmp_path / "cache" / ("WindowsAzureVmAgent-%s.msi" % checksum.split(":")[1]))
    download = results(run, "Download the agent MSI and verify its checksum")[0]["result"]
    assert download["dest"] == msi and open(msi, "rb").read().startswith(b"stand-in for the agent MSI")
    calls = {r["task"].split(" : ")[-1]: r["result"]["params"] for r in run.results if "stand_in" in r["result"]}
    assert calls["Read the agent's product version (WaAppAgent.exe)"]["parameters"] == {
        "Path": "C:\\WindowsAzure\\Packages\\WaAppAgent.exe"}
    assert calls["Copy the verified MSI to the VM"]["src"] == msi
    assert calls["Copy the verified MSI to the VM"]["dest"] == "C:\\Windows\\Temp\\WindowsAzureVmAgent.msi"
    assert calls["Install the MSI"]["path"] == "C:\\Windows\\Temp\\WindowsAzureVmAgent.msi"
    assert calls["Install the MSI"]["state"] == "present"
    # The agent is not there yet in check mode: its service and its version are checked after a real install.
    assert sorted(calls) == ["Copy the verified MSI to the VM", "Install the MSI",
                             "Read the agent's product version (WaAppAgent.exe)"]
    assert results(run, "Wait until Azure reports the agent Ready")[0]["status"] == "skipped"
    assert emulator.writes() == []


def test_windows_msi_checksum_mismatch_stops_on_the_controller(emulator, downloads, tmp_path):
    cases = (("sha256:" + "0" * 64, ["did not match " + "0" * 64, "Nothing was changed on legacy-app-01"]),
             ("", ["vm_agent_windows_msi_checksum is empty"]))
    for checksum, messages in cases:
        inventory, _right = windows_inventory(tmp_path, downloads, vm_agent_windows_msi_checksum=checksum)
        run = play(emulator, "vm_agent_role.yml", tmp_path, inventory, collections=[WINDOWS_STANDINS])
        final = run.failed()[-1]["result"]["msg"]     # a download failure is rescued into one message
        assert run.rc != 0 and all(m in final for m in messages), run.stdout[-2000:]
        assert not [r for r in run.results if "stand_in" in r["result"]]     # no Windows task ran
        cache = tmp_path / "cache"
        assert not cache.exists() or os.listdir(cache) == []     # nothing unverified is kept


def test_windows_tasks_pass_a_syntax_check_that_resolves_their_modules(tmp_path):
    inventory = write_inventory(tmp_path, {"windows": {"legacy-app-01": {"ansible_connection": "local"}}})
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    def syntax_check(*roots):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(roots), ANSIBLE_NOCOLOR="1")
        return subprocess.run([ansible_playbook, "--syntax-check", "-i", inventory,
                               os.path.join(PLAYBOOKS, "windows_syntax.yml")], env=env, capture_output=True,
                              text=True, check=False)
    without = syntax_check(COLLECTIONS)
    assert without.returncode != 0 and "couldn't resolve module/action 'ansible.windows." in without.stderr
    with_standins = syntax_check(COLLECTIONS, WINDOWS_STANDINS)
    assert with_standins.returncode == 0, with_standins.stderr
