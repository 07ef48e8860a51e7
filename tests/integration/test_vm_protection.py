# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_protection, protectable_vm_info and vm_protection_info against the emulator (default seed).

Each test uses its own vault and region's VMs, so the tests share one emulator."""

from datetime import datetime, timedelta, timezone

TASK = "Module under test"
RG = "rg-it-prot"
WEU = ["rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-shop-weu/shop-db-01",
       "rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01", "rg-erp-weu/erp-test-01"]
POLLS = ("/operationsstatus/", "/operationresults/", "/backupoperations/")


def vault(playbook, name, location):
    assert playbook("rs_vault.yml", extra_vars={"name": name, "resource_group": RG, "location": location,
                                                "create_resource_group": True}).rc == 0


def protect(playbook, vault_name, **kw):
    args = {"vault_name": vault_name, "resource_group": RG}
    args.update(kw.pop("extra", {}))
    return playbook("vm_protection.yml", extra_vars=args, **kw)


def non_polling(emulator):
    return [e for e in emulator.arm_requests() if not any(p in e["path"].lower() for p in POLLS)]


def by_vm(result):
    return {r["vm"]: r for r in result["vms"]}


def codes(row):
    return [v["code"] for v in row["verdicts"]]


def test_fleet_journey_from_the_vault(emulator, playbook):
    vault(playbook, "rsv-it-weu", "westeurope")
    # the "select virtual machines" step
    emulator.clear_log()
    info = playbook("protectable_vm_info.yml", extra_vars={"vault_name": "rsv-it-weu", "resource_group": RG})
    result = info.task(TASK)
    assert {r["vm"] for r in result["protectable"]} == set(WEU)
    other = {r["vm"]: r for r in result["not_eligible"]}
    assert other["rg-shop-eus/shop-web-03"]["reason_code"] == "VmInAnotherRegion"
    assert emulator.writes() == []
    # check mode predicts and writes nothing
    emulator.clear_log()
    run = protect(playbook, "rsv-it-weu", extra={"vms": WEU}, check=True, diff=True)
    result = run.task(TASK)
    assert run.rc == 0 and result["changed"] and result["changed_count"] == 6
    assert all(r["state"] == "present" for r in result["vms"])
    assert result["diff"]["before"]["rg-shop-weu/shop-web-01"]["state"] == "absent"
    assert emulator.writes() == []
    # protect the six VMs in one batch
    emulator.clear_log()
    run = protect(playbook, "rsv-it-weu", extra={"vms": WEU, "concurrency": 4})
    result = run.task(TASK)
    assert run.rc == 0, run.stdout
    rows = by_vm(result)
    assert result["total"] == 6 and result["changed_count"] == 6 and result["failed_count"] == 0
    for row in rows.values():
        assert row["protection_state"] == "IRPending" and row["protection_status"] == "initial backup pending"
        assert row["policy"] == "DefaultPolicy" and row["error"] is None
    assert "VmNotRunning" in codes(rows["rg-erp-weu/erp-test-01"])
    assert "EncryptedVm" in codes(rows["rg-erp-weu/erp-sql-01"])
    assert "erp-sql-01-kv" in rows["rg-erp-weu/erp-sql-01"]["warnings"][0]
    puts = [e for e in emulator.writes() if e["method"] == "PUT"]
    assert len(puts) == 6
    # fleet efficiency: at most 3 ARM requests per VM beyond LRO polling, fixed reads aside
    requests = non_polling(emulator)
    per_vm = [e for e in requests if "/protecteditems/" in e["path"].lower()]
    assert len(per_vm) <= 3 * 6
    assert len(requests) - len(per_vm) <= 10
    # converged re-runs: zero writes, a constant handful of reads whatever the VM count
    emulator.clear_log()
    run = protect(playbook, "rsv-it-weu", extra={"vms": WEU})
    assert run.rc == 0 and not run.task(TASK)["changed"]
    assert emulator.writes() == []
    six = len(emulator.arm_requests())
    emulator.clear_log()
    run = protect(playbook, "rsv-it-weu", extra={"vms": ["rg-shop-weu/shop-web-01", "rg-erp-weu/erp-app-01"]})
    assert run.rc == 0 and not run.task(TASK)["changed"]
    two = len(emulator.arm_requests())
    assert emulator.writes() == [] and six == two and six <= 10
    # the vault's side afterwards
    info = playbook("protectable_vm_info.yml", extra_vars={"vault_name": "rsv-it-weu", "resource_group": RG})
    other = {r["vm"]: r for r in info.task(TASK)["not_eligible"]}
    assert other["rg-shop-weu/shop-web-01"]["reason_code"] == "ProtectedByThisVault"
    listing = playbook("vm_protection_info.yml", extra_vars={"vault_name": "rsv-it-weu", "resource_group": RG})
    rows = by_vm(listing.task(TASK))
    assert set(rows) == set(WEU)
    now = datetime.now(timezone.utc)
    nxt = datetime.strptime(rows["rg-shop-weu/shop-web-01"]["next_scheduled_backup"], "%Y-%m-%dT%H:%M:%SZ")
    assert now < nxt.replace(tzinfo=timezone.utc) <= now + timedelta(days=1)
    assert rows["rg-shop-weu/shop-web-01"]["protection_status"] == "initial backup pending"


def test_policy_change_disks_stop_delete_undelete(emulator, playbook):
    vault(playbook, "rsv-it-life", "westeurope")
    backup = emulator.sdk("backup")
    default = backup.protection_policies.get("rsv-it-life", RG, "DefaultPolicy").as_dict()
    body = {"properties": dict(default["properties"], protectedItemsCount=None)}
    body["properties"].pop("protectedItemsCount")
    backup.protection_policies.create_or_update("rsv-it-life", RG, "NightlyPolicy", body)
    vm = "rg-shop-eus/shop-web-03"
    playbook("rs_vault.yml", extra_vars={"name": "rsv-it-life-eus", "resource_group": RG, "location": "eastus"})
    backup.protection_policies.create_or_update("rsv-it-life-eus", RG, "NightlyPolicy", body)
    args = {"vault_name": "rsv-it-life-eus", "resource_group": RG, "vm": vm}
    assert playbook("vm_protection.yml", extra_vars=args).rc == 0
    # policy change, then idempotent
    run = playbook("vm_protection.yml", extra_vars=dict(args, policy="NightlyPolicy"), diff=True)
    row = run.task(TASK)["vms"][0]
    assert run.task(TASK)["changed"] and row["actions"] == ["update"] and row["policy"] == "NightlyPolicy"
    assert run.task(TASK)["diff"]["before"][vm]["policy"] == "DefaultPolicy"
    emulator.clear_log()
    assert not playbook("vm_protection.yml", extra_vars=dict(args, policy="NightlyPolicy")).task(TASK)["changed"]
    assert emulator.writes() == []
    # disk selection: OS disk only
    run = playbook("vm_protection.yml", extra_vars=dict(args, policy="NightlyPolicy", include_disk_luns=[]))
    assert run.task(TASK)["vms"][0]["disks"]["selection"] == "OS disk only"
    emulator.clear_log()
    os_only = dict(args, policy="NightlyPolicy", include_disk_luns=[])
    assert not playbook("vm_protection.yml", extra_vars=os_only).task(TASK)["changed"]
    assert emulator.writes() == []
    # stopped keeps the data
    run = playbook("vm_protection.yml", extra_vars=dict(args, state="stopped"))
    row = run.task(TASK)["vms"][0]
    assert row["state"] == "stopped" and row["protection_state"] == "ProtectionStopped"
    assert row["protection_status"] == "protection stopped, backup data kept"
    emulator.clear_log()
    assert not playbook("vm_protection.yml", extra_vars=dict(args, state="stopped")).task(TASK)["changed"]
    assert emulator.writes() == []
    # absent: soft-deleted for the vault's 14 days
    run = playbook("vm_protection.yml", extra_vars=dict(args, state="absent"))
    row = run.task(TASK)["vms"][0]
    assert run.rc == 0 and row["state"] == "soft_deleted" and row["actions"] == ["delete"]
    until = datetime.strptime(row["soft_delete_until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(until - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(hours=1)
    assert row["soft_delete_until"] in row["protection_status"]
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars=dict(args, state="absent"))
    assert not run.task(TASK)["changed"] and emulator.writes() == []
    info = playbook("vm_protection_info.yml", extra_vars={"vault_name": "rsv-it-life-eus", "resource_group": RG,
                                                          "state": "soft_deleted"})
    assert [r["vm"] for r in info.task(TASK)["vms"]] == [vm]
    assert info.task(TASK)["vms"][0]["soft_delete_until"] == row["soft_delete_until"]
    # present again: undelete, then resume with the policy
    run = playbook("vm_protection.yml", extra_vars=dict(args, policy="NightlyPolicy"))
    row = run.task(TASK)["vms"][0]
    assert run.rc == 0 and row["actions"] == ["undelete", "resume"] and row["state"] == "present"
    assert row["policy"] == "NightlyPolicy" and row["soft_delete_until"] is None


def test_preflight_verdicts(emulator, playbook):
    vault(playbook, "rsv-it-eus", "eastus")
    vault(playbook, "rsv-it-eus-other", "eastus")
    emulator.protect_vm(RG, "rsv-it-eus-other", "rg-shop-eus", "shop-batch-01")
    emulator.admin("POST", "locks", json={"resource_group": "AzureBackupRG_eastus_1", "name": "keep",
                                          "level": "CanNotDelete"})
    batch = ["rg-migrated-eus/legacy-app-01", "rg-migrated-eus/legacy-win-02", "rg-shop-eus/shop-batch-01",
             "rg-shop-weu/shop-web-01", "rg-migrated-eus/ghost-01"]
    emulator.clear_log()
    # require_agent_ready: false protects the VMs whose agent is not Ready, with a warning
    run = protect(playbook, "rsv-it-eus", extra={"vms": batch, "require_agent_ready": False})
    result = run.task(TASK)
    rows = by_vm(result)
    assert run.rc != 0 and result["failed_count"] == 3 and result["changed_count"] == 2
    assert "3 VM(s) failed" in result["msg"] and "rsv-it-eus-other" in result["msg"]
    assert rows["rg-shop-eus/shop-batch-01"]["error"]["code"] == "ProtectedByAnotherVault"
    assert rows["rg-shop-weu/shop-web-01"]["error"]["code"] == "VmInAnotherRegion"
    assert rows["rg-migrated-eus/ghost-01"]["error"]["code"] == "VmNotFound"
    assert "AgentNotInstalled" in codes(rows["rg-migrated-eus/legacy-app-01"])
    assert "AgentNotReady" in codes(rows["rg-migrated-eus/legacy-win-02"])
    assert rows["rg-migrated-eus/legacy-win-02"]["state"] == "present"
    for vm in ("rg-migrated-eus/legacy-app-01", "rg-migrated-eus/legacy-win-02"):
        assert "BackupResourceGroupLocked" in codes(rows[vm])
    assert len([e for e in emulator.writes() if e["method"] == "PUT"]) == 2
    info = playbook("protectable_vm_info.yml", extra_vars={"vault_name": "rsv-it-eus", "resource_group": RG})
    other = {r["vm"]: r for r in info.task(TASK)["not_eligible"]}
    assert other["rg-shop-eus/shop-batch-01"]["reason_code"] == "ProtectedByAnotherVault"
    assert other["rg-shop-eus/shop-batch-01"]["vault"] == "rsv-it-eus-other"
    assert info.task(TASK)["ownership_lookup"] == "backupStatus"
    # require_agent_ready (true by default) fails the VM before any write
    emulator.clear_log()
    run = protect(playbook, "rsv-it-eus", extra={"vm": "rg-migrated-eus/legacy-lnx-01"})
    assert run.rc != 0 and run.task(TASK)["vms"][0]["error"]["code"] == "AgentNotInstalled"
    assert {(v["code"], v["level"]) for v in run.task(TASK)["vms"][0]["verdicts"]} >= {("AgentNotInstalled", "error")}
    assert emulator.writes() == []
    # a re-run writes nothing more and still names the failures
    emulator.clear_log()
    run = protect(playbook, "rsv-it-eus", extra={"vms": batch, "require_agent_ready": False})
    assert run.rc != 0 and run.task(TASK)["changed_count"] == 0 and emulator.writes() == []


def test_one_vm_journey_with_discovery(emulator, playbook):
    vault(playbook, "rsv-it-sea", "southeastasia")
    vm = "rg-data-sea/data-api-01"
    where = playbook("vm_protection_info.yml", extra_vars={"vm": vm}).task(TASK)["vms"][0]
    assert where["state"] == "absent" and where["vault"] is None
    info = playbook("protectable_vm_info.yml", extra_vars={"vault_name": "rsv-it-sea", "resource_group": RG})
    assert {r["vm"]: r for r in info.task(TASK)["not_eligible"]}[vm]["reason_code"] == "NotDiscovered"
    batch = [vm, "rg-data-sea/data-lake-01", "rg-data-sea/data-etl-01", "rg-data-sea/data-dev-01"]
    emulator.clear_log()
    run = protect(playbook, "rsv-it-sea", extra={"vms": batch}, check=True)
    rows = by_vm(run.task(TASK))
    assert run.rc == 0 and "DiscoveryNeeded" in codes(rows[vm]) and emulator.writes() == []
    emulator.clear_log()
    run = protect(playbook, "rsv-it-sea", extra={"vms": batch})
    result = run.task(TASK)
    rows = by_vm(result)
    assert run.rc == 0 and result["discovery_ran"] and rows[vm]["state"] == "present"
    refreshes = [e for e in emulator.writes() if e["path"].lower().endswith("/refreshcontainers")]
    assert len(refreshes) == 1
    assert "AgentOutdated" in codes(rows["rg-data-sea/data-etl-01"])
    assert "EncryptedVm" in codes(rows["rg-data-sea/data-lake-01"])
    assert "VmNotRunning" in codes(rows["rg-data-sea/data-dev-01"])
    where = playbook("vm_protection_info.yml", extra_vars={"vms": [vm, "rg-shop-weu/shop-db-01"]}).task(TASK)["vms"]
    assert where[0]["vault"] == "rsv-it-sea" and where[0]["protection_status"] == "initial backup pending"
    assert where[0]["next_scheduled_backup"]


def test_bad_inputs_fail_before_any_write(emulator, playbook):
    vault(playbook, "rsv-it-bad", "westeurope")
    base = {"vault_name": "rsv-it-bad", "resource_group": RG}
    cases = [
        (dict(base, vm="rg-shop-weu/shop-web-01", policy="NoSuchPolicy"), "BMSUserErrorPolicyNotFound"),
        (dict(base, vm="rg-shop-weu/shop-web-01", policy="HourlyLogBackup"), "PolicyWorkloadMismatch"),
        (dict(base, vm="/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.Compute/disks/d1"
              % emulator.sub), "InvalidVmReference"),
        (dict(base, vms=[]), "InvalidParameters"),
        (dict(base, vms=["rg-x/vm-%03d" % i for i in range(101)]), "PolicyVmLimitExceeded"),
    ]
    for args, code in cases:
        emulator.clear_log()
        run = playbook("vm_protection.yml", extra_vars=args)
        result = run.task(TASK)
        assert run.rc != 0 and result["error"]["code"] == code, (code, result)
        assert "\n" not in result["msg"] and "Traceback" not in run.stdout
        assert emulator.writes() == []
    both = dict(base, vm="rg-shop-weu/shop-web-01", vms=["rg-shop-weu/shop-web-02"])
    run = playbook("vm_protection.yml", extra_vars=both)
    assert run.rc != 0 and "mutually exclusive" in run.task(TASK)["msg"]
    assert "100 VMs per backup policy" in playbook("vm_protection.yml", extra_vars=cases[-1][0]).task(TASK)["msg"]
