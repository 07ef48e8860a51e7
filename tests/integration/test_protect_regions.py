# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/protect_regions.yml (roles regional_vault and vm_backup) against the emulator.

On the default seed: check mode on the fresh estate, the real run (waiting for the initial
backups), the converged re-run and check mode again, each asserted on the playbook's results and
on the emulator's state and request log. On generated estates: the converged re-run's ARM
requests per region are the same with 4 and with 103 VMs per region (the 103 spread over two
policies, Azure's 100 VMs per policy); only the subscription's one VM list grows, by a page of
200 VMs. Each region lists its vault's protected items once, so past 200 items a vault costs one
more request per page of 200 (make bench-regions measures 250 VMs per region)."""

import json
import os
from collections import Counter

import pytest

from conftest import PLAYBOOKS, REPO, Emulator, run_playbook

PLAYBOOK = os.path.relpath(os.path.join(REPO, "playbooks", "protect_regions.yml"), PLAYBOOKS)
REGIONS = ("eastus", "southeastasia", "westeurope")
# The default seed, region by region: what is protected, what is not and why.
PROTECTED = {
    "westeurope": {"rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-shop-weu/shop-db-01",
                   "rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01", "rg-erp-weu/erp-test-01"},
    "eastus": {"rg-shop-eus/shop-web-03", "rg-shop-eus/shop-batch-01"},
    "southeastasia": {"rg-data-sea/data-lake-01", "rg-data-sea/data-etl-01", "rg-data-sea/data-api-01",
                      "rg-data-sea/data-dev-01"},
}
INELIGIBLE = {"eastus": {"rg-migrated-eus/legacy-app-01": "AgentNotInstalled",
                         "rg-migrated-eus/legacy-lnx-01": "AgentNotInstalled",
                         "rg-migrated-eus/legacy-lnx-02": "AgentNotInstalled",
                         "rg-migrated-eus/legacy-win-02": "AgentNotReady"}}
WARNINGS = {"westeurope": {("rg-erp-weu/erp-sql-01", "EncryptedVm"), ("rg-erp-weu/erp-test-01", "VmNotRunning")},
            "eastus": set(),
            "southeastasia": {("rg-data-sea/data-lake-01", "EncryptedVm"), ("rg-data-sea/data-etl-01", "AgentOutdated"),
                              ("rg-data-sea/data-dev-01", "VmNotRunning")}}
SUMMARY_TASK = "Sum up the region"


def summaries(run):
    """{region: vm_backup_summary} from the role's last set_fact on each region's host."""
    found = {}
    for record in run.results:
        if record["task"].split(" : ", 1)[-1] == SUMMARY_TASK and record["status"] == "ok":
            summary = record["result"]["ansible_facts"]["vm_backup_summary"]
            found[summary["location"]] = summary
    return found


def changed(run):
    return [(r["host"], r["task"]) for r in run.results if r["status"] == "ok" and r["result"].get("changed")]


def per_region(requests, regions):
    """ARM requests per region (those naming the region's vault resource group) and the rest."""
    counts = Counter()
    for entry in requests:
        path = entry["path"].lower()
        counts[next((r for r in regions if "/resourcegroups/rg-backup-%s/" % r in path), "subscription")] += 1
    return dict(counts)


def items_by_vault(emulator):
    """{vault name: {resource_group/vm name}} of the protected items, from the emulator's state."""
    state = emulator.admin("GET", "state")
    vaults = {(v.get("doc") or v)["name"]: (v.get("doc") or v) for v in state.get("vaults", {}).values()}
    found = {name: set() for name in vaults}
    for item in state.get("items", {}).values():
        doc = item.get("doc") or item
        vault = next(name for name in vaults if doc["vault"].lower().endswith("/" + name.lower()))
        found[vault].add("%s/%s" % (doc["vm_rg"], doc["vm_name"]))
    return vaults, found


@pytest.fixture(scope="module")
def runs(emulator, tmp_path_factory):
    """Check mode on the fresh estate, the real run (waiting for the initial backups), the converged
    re-run and check mode on the converged estate; the writes and ARM requests of each."""
    tmp = tmp_path_factory.mktemp("protect-regions")
    out = {}
    for name, extra, check in (("check", None, True), ("first", {"vm_backup_wait": True}, False),
                               ("again", None, False), ("check_again", None, True)):
        emulator.clear_log()
        run = run_playbook(emulator, PLAYBOOK, tmp, extra_vars=extra, check=check)
        out[name] = (run, emulator.writes(), emulator.arm_requests())
    return out


def test_check_mode_on_the_fresh_estate_predicts_and_writes_nothing(runs):
    run, writes, requests = runs["check"]
    assert run.rc == 0, run.stdout[-4000:]
    assert writes == []
    predicted = summaries(run)
    assert sorted(predicted) == list(REGIONS)
    for region in REGIONS:
        summary = predicted[region]
        assert summary["check_mode"] and summary["vault"]["name"] == "rsv-backup-" + region
        assert set(summary["protected_vms"]) == PROTECTED[region]
        assert summary["initial_backups"]["started"] == len(PROTECTED[region])       # would start
        assert {v["vm"]: v["code"] for v in summary["ineligible"]} == INELIGIBLE.get(region, {})
    # the vaults do not exist yet: nothing is read in them (only the vault GET that finds them missing);
    # the pre-flight verdicts still are (who protects the VMs: the backup status or other vaults' items)
    assert not [r for r in requests if "/vaults/rsv-backup-" in r["path"].lower()
                and not r["path"].lower().rstrip("/").endswith(tuple("/vaults/rsv-backup-" + g for g in REGIONS))]
    assert [r for r in requests if r["path"].lower().endswith("/backupstatus")]


def test_every_eligible_vm_is_protected_in_one_vault_per_region(runs, emulator):
    run, writes, _requests = runs["first"]
    assert run.rc == 0, run.stdout[-4000:]
    vaults, items = items_by_vault(emulator)
    assert {name: doc["location"] for name, doc in vaults.items()} == {"rsv-backup-" + r: r for r in REGIONS}
    assert {name: doc["rg"] for name, doc in vaults.items()} == {"rsv-backup-" + r: "rg-backup-" + r for r in REGIONS}
    for region in REGIONS:
        assert {i.lower() for i in items["rsv-backup-" + region]} == {v.lower() for v in PROTECTED[region]}
    # the storage redundancy was in the vault's creation request, before any item existed
    puts = [w for w in writes if w["method"] == "PUT"]
    for region in REGIONS:
        vault = [i for i, w in enumerate(puts) if w["path"].lower().endswith("/vaults/rsv-backup-" + region)]
        items_put = [i for i, w in enumerate(puts) if "/rsv-backup-%s/" % region in w["path"].lower()
                     and "/protecteditems/" in w["path"].lower()]
        assert len(vault) == 1 and items_put and vault[0] < min(items_put)
    summary = summaries(run)
    for region in REGIONS:
        assert set(summary[region]["protected_vms"]) == PROTECTED[region]
        assert summary[region]["changed"] == len(PROTECTED[region])


def test_ineligible_vms_are_reported_with_their_reason_and_do_not_fail(runs):
    run, _writes, _requests = runs["first"]
    summary = summaries(run)
    for region in REGIONS:
        ineligible = {v["vm"]: v for v in summary[region]["ineligible"]}
        assert {vm: v["code"] for vm, v in ineligible.items()} == INELIGIBLE.get(region, {})
        assert {(w["vm"], w["code"]) for w in summary[region]["warnings"]} == WARNINGS[region]
    eastus = {v["vm"]: v["reason"] for v in summary["eastus"]["ineligible"]}
    assert "agent is missing" in eastus["rg-migrated-eus/legacy-lnx-01"]
    assert "waagent on Debian" in eastus["rg-migrated-eus/legacy-lnx-01"]        # the remediation
    assert "WaAppAgent.exe" in eastus["rg-migrated-eus/legacy-app-01"]
    assert "not Ready (Not Ready)" in eastus["rg-migrated-eus/legacy-win-02"]
    # the initial backups were waited for: all completed but the encrypted VM whose Key Vault
    # does not grant Backup access, which failed and is reported with Azure's error
    jobs = {j["vm"]: j["status"] for r in REGIONS for j in summary[r]["jobs"]}
    assert jobs == {vm: ("Failed" if vm == "rg-data-sea/data-lake-01" else "Completed")
                    for region in REGIONS for vm in PROTECTED[region]}
    failed = summary["southeastasia"]["backup_failed"]
    assert [(f["vm"], f["code"]) for f in failed] == [("rg-data-sea/data-lake-01",
                                                      "UserErrorKeyvaultPermissionsNotConfigured")]
    assert "key vault" in failed[0]["reason"].lower()
    lines = run.task("Show one line per region and the VMs that need action, with the reason")["msg"]
    assert len([line for line in lines if ": vault rsv-backup-" in line]) == 3
    assert any(line.startswith("eastus: not protected rg-migrated-eus/legacy-win-02: AgentNotReady") for line in lines)
    assert any(line.startswith("southeastasia: initial backup failed rg-data-sea/data-lake-01: "
                               "UserErrorKeyvaultPermissionsNotConfigured") for line in lines)


def test_the_converged_rerun_changes_nothing_and_writes_nothing(runs):
    run, writes, requests = runs["again"]
    assert run.rc == 0, run.stdout[-4000:]
    assert changed(run) == []
    assert writes == []
    summary = summaries(run)
    for region in REGIONS:
        assert summary[region]["changed"] == 0 and summary[region]["protected"] == len(PROTECTED[region])
        assert summary[region]["initial_backups"]["started"] == 0 and summary[region]["jobs"] == []
    # the failed initial backup is reported again, from vm_protection's items, and not retried
    assert [f["vm"] for f in summary["southeastasia"]["backup_failed"]] == ["rg-data-sea/data-lake-01"]
    counts = per_region(requests, REGIONS)
    print("protect_regions.yml converged re-run, ARM requests: %s" % json.dumps(counts, sort_keys=True))
    # one VM list for the subscription; per region the same handful of reads, and no VM read
    assert counts["subscription"] == 1
    # (the vault twice, its storage config, its policies, its protected items: 6 measured)
    assert len({counts[r] for r in REGIONS}) == 1 and counts["westeurope"] <= 6, counts
    assert not [r for r in requests if "/virtualmachines/" in r["path"].lower()]


def test_check_mode_on_the_converged_estate_writes_nothing(runs):
    run, writes, _requests = runs["check_again"]
    assert run.rc == 0, run.stdout[-4000:]
    assert writes == [] and changed(run) == []


def test_check_mode_with_new_policies_in_existing_vaults_predicts_and_writes_nothing(runs, emulator, tmp_path):
    # The vaults exist (after the runs above); the policies the VMs should move to do not yet.
    policy = {"schedule_run_time": "22:00", "retention_policy": {"daily_schedule": {"count": 14}}}
    extra = {"regional_vault_policies": [dict(policy, name="nightly-1")], "vm_backup_policies": ["nightly-1"]}
    emulator.clear_log()
    run = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars=extra, check=True)
    assert run.rc == 0, run.stdout[-4000:]
    assert emulator.writes() == []
    predicted = summaries(run)
    for region in REGIONS:
        assert predicted[region]["check_mode"]
        assert set(predicted[region]["protected_vms"]) == PROTECTED[region]
    policy_runs = [r for r in run.results if r["task"].endswith("Create or update the team's backup policies")]
    assert policy_runs and all(r["result"]["changed"] for r in policy_runs)


def test_protect_regions_locations_limits_the_run_to_those_regions(emulator, tmp_path):
    # written as a user may write it: Azure's display name
    emulator.clear_log()
    run = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars={"protect_regions_locations": ["West Europe"]},
                       check=True)
    assert run.rc == 0, run.stdout[-4000:]
    assert sorted(summaries(run)) == ["westeurope"]
    assert set(summaries(run)["westeurope"]["protected_vms"]) == PROTECTED["westeurope"]
    assert emulator.writes() == []


def converged_requests(tmp_path, generate, extra):
    """Run protect_regions.yml twice on a generated estate; the second run's requests per region."""
    emulator = Emulator(str(tmp_path / "emulator"), "--generate", generate)
    try:
        first = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars=extra)
        assert first.rc == 0, first.stdout[-4000:]
        emulator.clear_log()
        again = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars=extra)
        assert again.rc == 0 and changed(again) == [] and emulator.writes() == []
        requests = emulator.arm_requests()
        _vaults, items = items_by_vault(emulator)
        spread = Counter(((i.get("doc") or i)["vault"].rsplit("/", 1)[-1], (i.get("doc") or i)["policy"])
                         for i in emulator.admin("GET", "state")["items"].values())
        return summaries(first), per_region(requests, ("westeurope", "eastus")), items, spread
    finally:
        emulator.stop()
        assert not emulator.tracebacks(), emulator.tracebacks()


def test_requests_per_region_do_not_grow_with_the_number_of_vms(tmp_path):
    # Two identical daily policies per vault, the VMs spread over them: 103 VMs in a region do not
    # fit in one policy (Azure documents 100 VMs per policy).
    policy = {"schedule_run_time": "23:00", "retention_policy": {"daily_schedule": {"count": 30}}}
    extra = {"regional_vault_policies": [dict(policy, name="daily-1"), dict(policy, name="daily-2")],
             "vm_backup_policies": ["daily-1", "daily-2"], "vm_backup_concurrency": 32}
    _small, small_counts, small_items, _small_spread = converged_requests(tmp_path / "small",
                                                                          "vms=8,regions=2,mix=clean", extra)
    large, large_counts, large_items, spread = converged_requests(tmp_path / "large", "vms=206,regions=2,mix=clean",
                                                                  extra)
    print("converged re-run, ARM requests per region: 4 VMs/region %s, 103 VMs/region %s"
          % (json.dumps(small_counts, sort_keys=True), json.dumps(large_counts, sort_keys=True)))
    assert [len(v) for v in small_items.values()] == [4, 4] and [len(v) for v in large_items.values()] == [103, 103]
    assert {s["protected"] for s in large.values()} == {103}
    assert sorted(spread) == [(vault, policy) for vault in ("rsv-backup-eastus", "rsv-backup-westeurope")
                              for policy in ("daily-1", "daily-2")]
    assert max(spread.values()) <= 100 and sum(spread.values()) == 206
    regions = ("westeurope", "eastus")
    assert {r: small_counts[r] for r in regions} == {r: large_counts[r] for r in regions}
    # outside the regions, the subscription's one VM list: one page of 200 VMs (Azure's page) per 200
    assert small_counts["subscription"] == 1 and large_counts["subscription"] == 2


def test_the_first_run_counts_an_initial_backup_that_failed_during_it(tmp_path):
    """Without waiting (the default), the encrypted VM's initial backup fails within minutes (its Key Vault does
    not grant Backup access): the first run's summary already counts it, from one more job list of the vault."""
    emulator = Emulator(str(tmp_path / "emulator"))
    try:
        run = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars={"protect_regions_locations": ["southeastasia"]})
        assert run.rc == 0, run.stdout[-4000:]
        summary = summaries(run)["southeastasia"]
        assert [(f["vm"], f["code"]) for f in summary["backup_failed"]] == [
            ("rg-data-sea/data-lake-01", "UserErrorKeyvaultPermissionsNotConfigured")]
        assert summary["initial_backups"]["failed"] == 1
        lines = run.task("Show one line per region and the VMs that need action, with the reason")["msg"]
        assert any("1 failed" in line for line in lines if line.startswith("southeastasia: vault"))
        jobs_reads = [e for e in emulator.arm_requests() if e["path"].lower().endswith("/backupjobs")]
        assert len(jobs_reads) <= 2     # the role's one list of the started jobs (and backup_now's check)
    finally:
        emulator.stop()
        assert not emulator.tracebacks(), emulator.tracebacks()
