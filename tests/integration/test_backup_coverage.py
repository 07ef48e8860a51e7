# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_coverage_info against the emulator: its counts equal the emulator's state after real
protection and backups, and a coverage read costs the same number of ARM requests whatever
the number of VMs."""

import pytest

from conftest import Emulator, Snapshot, arranging, run_playbook, serve

TASK = "Module under test"
COVERAGE = ("protected", "initial_backup_pending", "last_backup_failed", "unprotected")
# The default seed's VMs whose agent is not Ready: no agent (migrated), Not Ready, older than
# the Windows minimum, deallocated.
AGENT_NOT_READY = {"legacy-app-01", "legacy-lnx-01", "legacy-lnx-02", "legacy-win-02", "data-etl-01",
                   "data-dev-01", "erp-test-01"}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """The default seed after coverage_arrange.yml."""
    with arranging(Emulator(str(tmp_path_factory.mktemp("arranged-emulator")))) as running:
        run = run_playbook(running, "coverage_arrange.yml", tmp_path_factory.mktemp("arrange"))
        assert run.rc == 0, run.stdout + run.stderr
    return Snapshot(running)


@pytest.fixture(scope="module")
def emulator(snapshot, tmp_path_factory):
    """The shared emulator of the tests that only read the arranged estate."""
    yield from serve(snapshot.start(str(tmp_path_factory.mktemp("emulator") / "state")))


@pytest.fixture(scope="module")
def arranged(emulator):
    return emulator


def expected_from_state(emulator):
    """Coverage of every VM from the emulator's own state (not from the module's Azure answers)."""
    state = emulator.admin("GET", "state")
    items = {}
    for found in state.get("items", {}).values():
        items.setdefault(found["vm_id"].lower(), []).append(found)
    out = {}
    for vm in state["vms"].values():
        vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            vm["sub"], vm["rg"], vm["name"])
        live = [i for i in items.get(vm_id.lower(), []) if not i.get("soft_deleted") and
                i["state"] not in ("ProtectionStopped", "BackupsSuspended")]
        if not live:
            cover = "unprotected"
        elif live[0].get("last_backup_status") == "Failed":
            cover = "last_backup_failed"
        elif live[0]["state"] == "IRPending":
            cover = "initial_backup_pending"
        else:
            cover = "protected"
        out[vm["name"]] = (vm["location"], cover)
    return out


def counts(rows):
    found = dict.fromkeys(COVERAGE, 0)
    for _location, cover in rows:
        found[cover] += 1
    return found


def test_counts_equal_the_emulator_state(emulator, arranged, playbook):
    emulator.clear_log()
    run = playbook("backup_coverage_info.yml", check=True)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task(TASK)
    assert result["changed"] is False and emulator.writes() == []
    document = result["coverage"]
    expected = expected_from_state(emulator)
    rows = {row["name"]: row for row in document["vms"]}
    assert {name: (row["location"], row["coverage"]) for name, row in rows.items()} == expected
    state = emulator.admin("GET", "state")
    deallocated = {vm["name"] for vm in state["vms"].values() if vm["power"] == "deallocated"}
    assert deallocated == {"data-dev-01", "erp-test-01"}
    live = [i for i in state["items"].values() if not i.get("soft_deleted")
            and i["state"] not in ("ProtectionStopped", "BackupsSuspended")]
    with_point = len([i for i in live if i.get("last_recovery_point")])
    totals = dict(counts(expected.values()), vms=len(expected), agent_not_ready=len(AGENT_NOT_READY - deallocated),
                  deallocated=2, rpo_ok=with_point, rpo_never=len(live) - with_point, rpo_breached=0, rpo_unknown=0)
    assert document["totals"] == totals and with_point and len(live) > with_point
    # the arrangement gave one VM of every coverage at least
    assert all(document["totals"][c] for c in COVERAGE)
    for region in document["regions"]:
        mine = [v for v in expected.values() if v[0] == region["location"]]
        assert {c: region[c] for c in COVERAGE} == counts(mine) and region["vms"] == len(mine)
        assert region["agent_not_ready"] == len([n for n in AGENT_NOT_READY - deallocated
                                                 if expected[n][0] == region["location"]])
    assert {r["location"]: [v["name"] for v in r["vaults"]] for r in document["regions"]} == {
        "eastus": ["rsv-cov-eastus"], "southeastasia": [], "westeurope": ["rsv-cov-westeurope"]}
    weu = next(r for r in document["regions"] if r["location"] == "westeurope")
    # Azure bills the stopped item whose data is kept
    assert weu["vaults"][0]["protected_instances"] == 3 and weu["vaults"][0]["storage_redundancy"] == "GeoRedundant"
    assert [n["name"] for n in document["needs_action"]] == [r["name"] for r in document["vms"] if r["reasons"]]


def test_rows_say_why_in_plain_words(emulator, arranged, playbook):
    rows = {row["name"]: row for row in playbook("backup_coverage_info.yml").task(TASK)["coverage"]["vms"]}
    web = rows["shop-web-01"]
    assert web["coverage"] == "protected" and web["reasons"] == []
    assert web["vault"] == "rsv-cov-westeurope" and web["vault_resource_group"] == "rg-cov-backup"
    assert web["policy"] == "DefaultPolicy" and web["protection_state"] == "Protected"
    assert web["last_backup_status"] == "Completed" and web["last_backup_time"] and web["next_backup_time"]
    assert web["tags"] == {"app": "shop", "env": "prod"} and web["os_type"] == "Linux"
    assert [r["code"] for r in rows["shop-web-02"]["reasons"]] == ["InitialBackupPending"]
    failed = rows["legacy-win-02"]
    assert failed["coverage"] == "last_backup_failed" and failed["last_backup_status"] == "Failed"
    assert [r["code"] for r in failed["reasons"]] == ["LastBackupFailed", "AgentNotReady"]
    assert failed["reasons"][0]["azure_code"] == "UserErrorGuestAgentStatusUnavailable"
    stopped = rows["shop-db-01"]
    assert stopped["protection_state"] == "ProtectionStopped" and stopped["next_backup_time"] is None
    assert stopped["reasons"][0]["code"] == "ProtectionStopped" and "rsv-cov-westeurope" in stopped[
        "reasons"][0]["message"]
    assert rows["erp-app-01"]["reasons"] == [{"code": "NotProtected", "message": (
        "No vault protects it; vault rsv-cov-westeurope in its region can (backupops.azure.vm_protection).")}]
    assert [r["code"] for r in rows["data-dev-01"]["reasons"]] == ["NoVaultInRegion", "VmDeallocated"]
    assert [r["code"] for r in rows["legacy-lnx-01"]["reasons"]] == ["NotProtected", "AgentNotInstalled"]
    assert [r["code"] for r in rows["data-etl-01"]["reasons"]] == ["NoVaultInRegion", "AgentOutdated"]


def test_filters_and_reader(emulator, arranged, playbook):
    emulator.clear_log()
    run = playbook("backup_coverage_info.yml", extra_vars={"locations": ["East US"], "next_backup_time": False},
                   principal="backupops-auditor")
    assert run.rc == 0, run.stdout
    document = run.task(TASK)["coverage"]
    assert [r["location"] for r in document["regions"]] == ["eastus"] and document["totals"]["vms"] == 6
    assert all(v["next_backup_time"] is None for v in document["vms"])
    paths = [e["path"].lower() for e in emulator.arm_requests()]
    assert not [p for p in paths if "rsv-cov-westeurope" in p or "backuppolicies" in p]
    by_group = playbook("backup_coverage_info.yml", extra_vars={"resource_groups": ["rg-shop-weu", "RG-DATA-SEA"]})
    assert sorted({v["resource_group"] for v in by_group.task(TASK)["coverage"]["vms"]}) == [
        "rg-data-sea", "rg-shop-weu"]


def arm_calls(emulator):
    return sorted("%s %s" % (e["method"], e["path"].lower()) for e in emulator.arm_requests())


@pytest.fixture
def own_emulator(snapshot, tmp_path):
    """An emulator from the arranged state for one test that adds VMs to it."""
    yield from serve(snapshot.start(str(tmp_path / "emulator")))


def test_requests_do_not_grow_with_the_number_of_vms(own_emulator, tmp_path):
    emulator = own_emulator

    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    emulator.clear_log()
    before = playbook("backup_coverage_info.yml").task(TASK)["coverage"]["totals"]["vms"]
    first = arm_calls(emulator)
    # two VM lists, the vault list, a read (its list body has no redundancy) and the items of each of the two
    # vaults, the policies of the two vaults in use, one filtered job list per vault
    assert len(first) == 11 and all(c.startswith("GET ") for c in first), first
    assert len([c for c in first if c.endswith("/backupjobs")]) == 2
    for i in range(40):
        emulator.admin("POST", "vms", json={"resource_group": ("rg-shop-weu", "rg-data-sea")[i % 2],
                                            "name": "extra-%02d" % i, "os": "Linux"})
    emulator.clear_log()
    after = playbook("backup_coverage_info.yml").task(TASK)["coverage"]["totals"]
    assert after["vms"] == before + 40 and after["unprotected"] >= 40
    assert arm_calls(emulator) == first


def test_rpo_breaches_when_the_clock_passes_the_schedule(own_emulator, tmp_path):
    """The default policy backs up daily: 26 hours after the arrangement's backups every protected VM's
    point is too old (the emulator runs no scheduled backup), and the verdicts say so, per region too."""
    emulator = own_emulator

    def rpo_of(document):
        return {row["name"]: (row["rpo"] or {}).get("verdict") for row in document["vms"]}
    before = run_playbook(emulator, "backup_coverage_info.yml", tmp_path).task(TASK)["coverage"]
    verdicts = rpo_of(before)
    assert verdicts["shop-web-01"] == "ok" and verdicts["shop-web-02"] == "never"
    assert verdicts["erp-app-01"] is None and verdicts["shop-db-01"] is None     # not protected; stopped
    web = next(r for r in before["vms"] if r["name"] == "shop-web-01")["rpo"]
    assert web["allowed_age_seconds"] == 26 * 3600 and 0 <= web["age_seconds"] < 3600
    emulator.admin("POST", "clock", json={"advance": 27 * 3600})
    after = run_playbook(emulator, "backup_coverage_info.yml", tmp_path).task(TASK)["coverage"]
    moved = rpo_of(after)
    assert moved["shop-web-01"] == "breached" and moved["shop-web-02"] == "never"
    assert {n for n, v in moved.items() if v == "breached"} == {n for n, v in verdicts.items() if v == "ok"}
    assert after["totals"]["rpo_breached"] == before["totals"]["rpo_ok"] and after["totals"]["rpo_ok"] == 0
    assert sum(r["rpo_breached"] for r in after["regions"]) == after["totals"]["rpo_breached"]


def test_failed_jobs_grouped_by_azure_code(emulator, arranged, playbook):
    """The failed jobs of the last 24 hours, grouped by Azure's error code, equal the emulator's jobs."""
    emulator.clear_log()
    document = playbook("backup_coverage_info.yml").task(TASK)["coverage"]
    jobs = document["jobs"]
    state = emulator.admin("GET", "state")
    failed = [j for j in state["jobs"].values() if j["status"] == "Failed"]
    assert failed and jobs["failed_jobs"] == len(failed) and jobs["hours"] == 24
    assert sum(g["count"] for g in jobs["failed"]) == len(failed)
    by_code = {g["code"]: g for g in jobs["failed"]}
    agent = by_code["UserErrorGuestAgentStatusUnavailable"]
    assert "rg-migrated-eus/legacy-win-02" in [v.lower() for v in agent["vms"]]
    assert agent["recommendations"] and "rsv-cov-eastus" in agent["vaults"]
    assert sum(v["failed"] for v in jobs["vaults"]) == len(failed)
    assert len([e for e in emulator.arm_requests() if e["path"].lower().endswith("/backupjobs")]) == len(
        jobs["vaults"])     # one filtered list per vault
    # job_hours: 0 reads no job
    emulator.clear_log()
    none = playbook("backup_coverage_info.yml", extra_vars={"job_hours": 0}).task(TASK)["coverage"]
    assert "jobs" not in none and not [e for e in emulator.arm_requests() if "backupjobs" in e["path"].lower()]
