# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_agent_check against the emulator's default estate: verdicts, request counts, waiting, fail_on."""

import datetime
import threading
import time

from agent_harness import vm_path
from conftest import run_playbook

TASK = "Module under test"
MIGRATED = "rg-migrated-eus"
GHOST = "rg-shop-weu/ghost-01"


def arm_gets(emulator):
    return [e for e in emulator.arm_requests() if e["method"] == "GET"]


def by_name(result):
    return {vm["name"]: vm for vm in result["vms"]}


def test_a_fleet_costs_one_list_call_whatever_its_size(emulator, playbook):
    emulator.clear_log()
    run = playbook("vm_agent_check.yml", extra_vars={"resource_group": MIGRATED}, check=True)
    result = run.task(TASK)
    assert run.rc == 0 and not result["changed"]
    vms = by_name(result)
    assert sorted(vms) == ["legacy-app-01", "legacy-lnx-01", "legacy-lnx-02", "legacy-win-02"]
    assert {n: v["verdict"] for n, v in vms.items()} == {
        "legacy-app-01": "missing", "legacy-lnx-01": "missing", "legacy-lnx-02": "missing",
        "legacy-win-02": "not_ready"}
    gets = arm_gets(emulator)
    assert len(gets) == 1 and gets[0]["path"].lower().endswith("/providers/microsoft.compute/virtualmachines")
    assert "statusOnly=true" in gets[0]["query"]
    assert emulator.writes() == []

    emulator.clear_log()
    everything = playbook("vm_agent_check.yml").task(TASK)
    assert len(everything["vms"]) == 16 and len(arm_gets(emulator)) == 1
    assert everything["summary"] == {"ready": 9, "not_ready": 1, "missing": 3, "outdated": 1, "stopped": 2}
    assert not everything["all_ready"]

    emulator.clear_log()
    region = playbook("vm_agent_check.yml", extra_vars={"location": "South East Asia"}).task(TASK)
    assert sorted(by_name(region)) == ["data-api-01", "data-dev-01", "data-etl-01", "data-lake-01"]
    assert len(arm_gets(emulator)) == 1


def test_each_verdict_with_azure_facts_and_the_remediation(emulator, playbook):
    run = playbook("vm_agent_check.yml", extra_vars={"vms": [
        "rg-migrated-eus/legacy-lnx-01", "rg-migrated-eus/legacy-win-02", "rg-data-sea/data-etl-01",
        "rg-data-sea/data-dev-01", {"name": "shop-web-01", "resource_group": "rg-shop-weu"},
        "rg-migrated-eus/legacy-app-01"]})
    vms = run.task(TASK)["vms"]
    assert [vm["name"] for vm in vms] == ["legacy-lnx-01", "legacy-win-02", "data-etl-01", "data-dev-01",
                                          "shop-web-01", "legacy-app-01"]          # the order given
    lnx, win, etl, dev, web, app = vms
    assert lnx["verdict"] == "missing" and not lnx["agent_present"] and lnx["agent_status"] == "Unknown"
    assert lnx["provision_vm_agent"] is None and lnx["allow_extension_operations"] is None   # no OS profile
    assert "distribution's package" in lnx["remediation"]
    assert app["verdict"] == "missing" and "agent MSI" in app["remediation"] and "2.6.1198.718" in app["remediation"]
    assert win["verdict"] == "not_ready" and win["agent_status"] == "Not Ready"
    assert win["agent_message"] == "VM Agent is unresponsive." and win["agent_version"] is None
    assert "WindowsAzureGuestAgent" in win["remediation"]
    assert etl["verdict"] == "outdated" and etl["agent_version"] == "2.6.1198.700"
    assert etl["minimum_version"] == "2.6.1198.718" and etl["meets_minimum_version"] is False
    assert "Update the agent to version 2.6.1198.718" in etl["remediation"]
    assert dev["verdict"] == "stopped" and dev["power_state"] == "deallocated" and "Start the VM" in dev["remediation"]
    assert web["verdict"] == "ready" and web["remediation"] == "" and web["agent_version"] == "2.9.1.1"
    assert web["provision_vm_agent"] is True and web["allow_extension_operations"] is True
    assert web["meets_minimum_version"] is None and web["backup_extension"] is None   # no Linux minimum by default

    newer = playbook("vm_agent_check.yml", extra_vars={"vm": "rg-shop-weu/shop-web-01", "linux_min_version": "2.10"})
    assert newer.task(TASK)["vms"][0]["verdict"] == "outdated"

    emulator.admin("POST", "vms/rg-shop-weu/shop-web-02/extension-operations", json={"allowed": False})
    try:
        blocked = playbook("vm_agent_check.yml", extra_vars={"vm": "rg-shop-weu/shop-web-02"}).task(TASK)["vms"][0]
    finally:
        emulator.admin("POST", "vms/rg-shop-weu/shop-web-02/extension-operations", json={"allowed": True})
    assert blocked["agent_status"] == "Ready" and blocked["allow_extension_operations"] is False
    assert blocked["verdict"] == "not_ready" and "allowExtensionOperations" in blocked["remediation"]


def test_a_batch_reads_each_vm_once(emulator, playbook):
    names = ["shop-web-01", "shop-web-02", "shop-db-01"]
    emulator.clear_log()
    run = playbook("vm_agent_check.yml", extra_vars={"vms": ["rg-shop-weu/%s" % n for n in names], "concurrency": 3})
    assert run.rc == 0 and [v["name"] for v in run.task(TASK)["vms"]] == names
    # up to vms.READ_EACH_UP_TO (5) VMs, the first page of the subscription's status list answers for
    # them: the 16 VMs are one page, so 1 request for the three (a GET each before: 3 requests)
    gets = arm_gets(emulator)
    assert len(gets) == 1 and "statusOnly=true" in gets[0]["query"] and "skiptoken" not in gets[0]["query"].lower()
    assert gets[0]["path"].lower().endswith("/providers/microsoft.compute/virtualmachines")
    # when the list has more pages, a GET with the instance view for each VM not on the first page: pages
    # of 5 (sorted by resource group and name, the first ends with rg-erp-weu/erp-app-01), so 1 page and
    # 1 GET for these three (3 GETs before)
    default_page = emulator.admin("GET", "settings")["page_size"]
    emulator.admin("PUT", "settings", json={"page_size": 5})
    try:
        emulator.clear_log()
        spread = ["rg-data-sea/data-api-01", "rg-erp-weu/erp-app-01", "rg-shop-weu/shop-web-01"]
        run = playbook("vm_agent_check.yml", extra_vars={"vms": spread, "concurrency": 3})
    finally:
        emulator.admin("PUT", "settings", json={"page_size": default_page})
    assert run.rc == 0 and [v["name"] for v in run.task(TASK)["vms"]] == [vm.split("/")[1] for vm in spread]
    gets = arm_gets(emulator)
    assert len(gets) == 2 and "statusOnly=true" in gets[0]["query"] and "skiptoken" not in gets[0]["query"].lower()
    assert gets[0]["path"].lower().endswith("/providers/microsoft.compute/virtualmachines")
    assert gets[1]["path"].lower() == vm_path(emulator, "rg-shop-weu", "shop-web-01")
    assert "$expand=instanceView" in gets[1]["query"]
    # above vms.READ_EACH_UP_TO (5) VMs, the subscription's status list instead
    six = ["rg-shop-weu/%s" % n for n in names] + ["rg-erp-weu/erp-%s-01" % n for n in ("app", "sql", "test")]
    emulator.clear_log()
    run = playbook("vm_agent_check.yml", extra_vars={"vms": six})
    assert run.rc == 0 and [v["name"] for v in run.task(TASK)["vms"]] == [vm.split("/")[1] for vm in six]
    gets = arm_gets(emulator)
    assert len(gets) == 1 and "statusOnly=true" in gets[0]["query"]
    assert gets[0]["path"].lower().endswith("/providers/microsoft.compute/virtualmachines")
    # a VM that does not exist fails the task the same way, whichever the read
    for batch in ([GHOST], six[1:] + [GHOST]):
        run = playbook("vm_agent_check.yml", extra_vars={"vms": batch})
        assert run.rc != 0 and run.task(TASK)["msg"].startswith("VM %s not found" % GHOST), run.task(TASK)["msg"]


def test_the_backup_extension_after_the_first_backup(emulator, playbook):
    from azure.mgmt.recoveryservicesbackup import models
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-agent", "resource_group": "rg-it-agent",
                                                "location": "eastus", "create_resource_group": True}).rc == 0
    emulator.protect_vm("rg-it-agent", "rsv-agent", "rg-shop-eus", "shop-web-03")
    name = "iaasvmcontainerv2;rg-shop-eus;shop-web-03"
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    request = models.BackupRequestResource(properties=models.IaasVMBackupRequest(
        recovery_point_expiry_time_in_utc=until))
    emulator.sdk("backup").backups.trigger("rsv-agent", "rg-it-agent", "Azure", "iaasvmcontainer;" + name,
                                           "vm;" + name, request)
    extension = None
    for _attempt in range(20):
        extension = playbook("vm_agent_check.yml", extra_vars={"vm": "rg-shop-eus/shop-web-03"}).task(
            TASK)["vms"][0]["backup_extension"]
        if extension:
            break
        time.sleep(1)
    assert extension == {"name": "VMSnapshotLinux", "type": "Microsoft.Azure.RecoveryServices.VMSnapshotLinux",
                         "version": "1.0.9225.0", "state": "Provisioning succeeded", "message": "Enable succeeded"}


def test_wait_for_ready_polls_until_the_agent_reports(fresh_emulator, tmp_path):
    # its own emulator: the agent's version it reports cannot be taken back, and
    # test_each_verdict_with_azure_facts_and_the_remediation wants legacy-win-02 without one
    emulator = fresh_emulator

    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    path = vm_path(emulator, MIGRATED, "legacy-win-02")
    emulator.clear_log()
    reported = {}

    def agent_comes_up():
        # The agent "recovers" only after the module has seen it Not Ready twice.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(1 for e in emulator.log() if e["path"].lower() == path) >= 2:
                emulator.admin("POST", "vms/%s/legacy-win-02/agent" % MIGRATED,
                               json={"ready": True, "version": "2.7.41491.1102"})
                reported["at"] = len(emulator.log())
                return
            time.sleep(0.2)
    helper = threading.Thread(target=agent_comes_up, daemon=True)
    helper.start()
    try:
        run = playbook("vm_agent_check.yml", extra_vars={"vm": "%s/legacy-win-02" % MIGRATED, "wait_for_ready": True,
                                                         "poll_interval": 1, "wait_timeout": 60})
    finally:
        helper.join(5)
    result = run.task(TASK)
    assert run.rc == 0 and result["all_ready"] and result["vms"][0]["agent_version"] == "2.7.41491.1102"
    polls = [i for i, e in enumerate(emulator.log()) if e["path"].lower() == path]
    assert result["reads"] == len(polls) >= 3 and polls[-1] >= reported["at"]
    assert emulator.writes() == []


def test_waiting_ends_with_what_each_vm_still_needs(emulator, playbook):
    run = playbook("vm_agent_check.yml", extra_vars={"vms": ["%s/legacy-lnx-02" % MIGRATED, "rg-shop-weu/shop-web-01"],
                                                     "wait_for_ready": True, "poll_interval": 1, "wait_timeout": 2})
    result = run.task(TASK)
    assert run.rc != 0 and result["error"]["code"] == "Timeout"
    assert result["msg"].startswith("Timed out after 2 s waiting for the VM agent to report Ready: "
                                    "rg-migrated-eus/legacy-lnx-02 (missing: Unknown).")
    assert "distribution's package" in result["msg"] and result["reads"] >= 2
    assert [vm["verdict"] for vm in result["vms"]] == ["missing", "ready"]

    emulator.clear_log()
    stopped = playbook("vm_agent_check.yml", extra_vars={"vm": "rg-data-sea/data-dev-01", "wait_for_ready": True,
                                                         "poll_interval": 1, "wait_timeout": 60}).task(TASK)
    assert stopped["error"]["code"] == "VmNotRunning" and stopped["reads"] == 1 and len(arm_gets(emulator)) == 1
    assert "Start the VM" in stopped["msg"]


def test_fail_on_fails_a_pipeline_on_the_chosen_verdicts(emulator, playbook):
    run = playbook("vm_agent_check.yml", extra_vars={"resource_group": MIGRATED, "fail_on": ["missing", "outdated"]})
    result = run.task(TASK)
    assert run.rc != 0 and result["error"]["code"] == "AgentNotReady"
    assert "3 VM(s) have a verdict listed in fail_on: missing: rg-migrated-eus/legacy-app-01, " \
           "rg-migrated-eus/legacy-lnx-01, rg-migrated-eus/legacy-lnx-02." in result["msg"]
    assert len(result["vms"]) == 4 and result["summary"]["not_ready"] == 1
    fine = playbook("vm_agent_check.yml", extra_vars={"resource_group": "rg-shop-weu", "fail_on": ["missing"]})
    assert fine.rc == 0 and fine.task(TASK)["all_ready"]


def test_bad_inputs_fail_with_one_clear_message(emulator, playbook):
    cases = [
        ({"vm": "%s/legacy-lnx-99" % MIGRATED}, "VM rg-migrated-eus/legacy-lnx-99 not found", "VmNotFound"),
        ({"vms": ["%s/legacy-lnx-01" % MIGRATED, "nowhere/ghost", "%s/ghost-02" % MIGRATED]},
         "2 VMs nowhere/ghost, rg-migrated-eus/ghost-02 not found", "VmNotFound"),
        ({"vm": "legacy-lnx-01"}, "a bare name does not say which resource group", "InvalidVmReference"),
        ({"vm": "rg/x", "linux_min_version": "two"}, "linux_min_version must be a dotted version", "InvalidParameters"),
        ({"vm": "rg/x", "poll_interval": 0}, "poll_interval must be 1 or more seconds, got 0", "InvalidParameters"),
    ]
    for extra, message, code in cases:
        run = playbook("vm_agent_check.yml", extra_vars=extra)
        result = run.task(TASK)
        assert run.rc != 0 and message in result["msg"] and result["error"]["code"] == code, (extra, result)
    both = playbook("vm_agent_check.yml", extra_vars={"vm": "rg/x", "resource_group": "rg"}).task(TASK)
    assert "mutually exclusive: vm|resource_group" in both["msg"]
    bad_verdict = playbook("vm_agent_check.yml", extra_vars={"fail_on": ["broken"]}).task(TASK)
    assert "value of fail_on must be one or more of" in bad_verdict["msg"]


def test_a_reader_can_check(emulator, playbook):
    run = playbook("vm_agent_check.yml", extra_vars={"resource_group": MIGRATED}, principal="backupops-auditor")
    assert run.rc == 0 and len(run.task(TASK)["vms"]) == 4
