# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/restore_drill.yml (role restore_drill, module restore_drill_environment) against the emulator.

On the default seed, after protect_regions.yml (its initial backups waited for): the drill restores one VM
per region as a new VM into its own tagged drill group, waits for it to run with its agent Ready, reports
RPO and RTO, deletes the drill groups, and writes its results; the re-run finds every recovery point
drilled and writes nothing in Azure; backup_report.yml's page, rendered by chromium, shows the drills.
The environment module alone: idempotent, check mode, and a group without the drill tag never used or deleted.
"""

import json
import os
import re

import pytest

from conftest import PLAYBOOKS, REPO, Emulator, run_playbook
from test_backup_report import chromium, parse_dom
# The VMs protect_regions.yml protects on the default seed, per region.
from test_protect_regions import PROTECTED

PROTECT = os.path.relpath(os.path.join(REPO, "playbooks", "protect_regions.yml"), PLAYBOOKS)
DRILL = os.path.relpath(os.path.join(REPO, "playbooks", "restore_drill.yml"), PLAYBOOKS)
REPORT = os.path.relpath(os.path.join(REPO, "playbooks", "backup_report.yml"), PLAYBOOKS)
REGIONS = ("eastus", "southeastasia", "westeurope")
DRILL_TAG = "backupops-drill"
RESOURCE_KINDS = ("vms", "disks", "nics", "publicips", "vnets", "storageaccounts")


def results_of(directory):
    """{file name: document} of the drill results in ``directory``."""
    return {name: json.loads((directory / name).read_text()) for name in sorted(os.listdir(directory))
            if re.match(r"^restore-drill-\d{8}T\d{6}Z\.json$", name)}


def drill_groups(state):
    return [g for g in state["resourcegroups"].values() if g["name"].lower().startswith("rg-backupops-drill-")]


def parse_time(text):
    from datetime import datetime, timezone
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$", text)
    assert match, text
    when = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return when.timestamp() + float("0" + (match.group(2) or ""))


@pytest.fixture(scope="module")
def drilled(tmp_path_factory):
    """protect_regions.yml, then the drill, its re-run and the report; what each wrote and the emulator's state."""
    tmp = tmp_path_factory.mktemp("restore-drill")
    emulator = Emulator(str(tmp / "emulator"))
    out = {"dir": tmp / "results", "report": tmp / "report"}
    try:
        run = run_playbook(emulator, PROTECT, tmp, extra_vars={"vm_backup_wait": True})
        assert run.rc == 0, run.stdout[-4000:]
        items = emulator.admin("GET", "state")["items"]
        out["points"] = {("%s/%s" % (i["vm_rg"], i["vm_name"])).lower(): i.get("recovery_points", [])
                         for i in items.values()}
        for key in ("check", "first", "again"):
            emulator.clear_log()
            run = run_playbook(emulator, DRILL, tmp, extra_vars={"restore_drill_results_dir": str(out["dir"])},
                               check=key == "check")
            out[key] = {"run": run, "writes": emulator.writes(), "log": emulator.arm_requests(),
                        "state": emulator.admin("GET", "state"),
                        "files": results_of(out["dir"]) if out["dir"].exists() else {}}
        emulator.clear_log()
        out["report_run"] = run_playbook(emulator, REPORT, tmp, extra_vars={
            "backup_report_dir": str(out["report"]), "backup_report_drill_dir": str(out["dir"])})
        out["report_writes"] = emulator.writes()
    finally:
        emulator.stop()
    assert not emulator.tracebacks(), emulator.tracebacks()
    return out


def duration(seconds):
    """A number of seconds as the report's page shows it."""
    for limit, unit, scale in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600)):
        if seconds < limit:
            return "%.1f %s" % (seconds / scale, unit)
    return "%.1f days" % (seconds / 86400)


def newest(files):
    return files[sorted(files)[-1]]


def summaries(run):
    """{region: restore_drill_summary} from the role's set_fact on each region's host."""
    return {r["result"]["ansible_facts"]["restore_drill_summary"]["location"]:
            r["result"]["ansible_facts"]["restore_drill_summary"]
            for r in run.results if r["task"].split(" : ", 1)[-1] == "Sum up the region" and r["status"] == "ok"}


def test_check_mode_predicts_the_drill_and_writes_nothing(drilled):
    check = drilled["check"]
    assert check["run"].rc == 0, check["run"].stdout[-6000:]
    assert check["writes"] == [] and check["files"] == {}
    predicted, done = summaries(check["run"]), {s["location"]: s for s in newest(drilled["first"]["files"])["regions"]}
    assert sorted(predicted) == list(REGIONS)
    for region, summary in predicted.items():
        assert summary["check_mode"] and summary["environment_created"] and not summary["failed"], summary
        assert [(r["vm"], r["recovery_point"]["name"], r["target_vm"], r["status"]) for r in summary["drills"]] == [
            (r["vm"], r["recovery_point"]["name"], r["target_vm"], "predicted") for r in done[region]["drills"]]


def test_the_drill_restores_one_vm_per_region_and_reports_rpo_and_rto(drilled):
    first = drilled["first"]
    assert first["run"].rc == 0, first["run"].stdout[-6000:]
    doc = newest(first["files"])
    assert len(first["files"]) == 1 and not doc["check_mode"] and doc["failed_regions"] == {}
    assert [s["location"] for s in doc["regions"]] == list(REGIONS)
    restores = [w for w in first["writes"] if w["method"] == "POST" and w["path"].endswith("/restore")]
    assert len(restores) == 3, [w["path"] for w in first["writes"]]
    for summary in doc["regions"]:
        region = summary["location"]
        assert summary["failed"] is False and summary["selected"] == 1 and summary["drilled"] == 1, summary
        assert summary["eligible"] == len(PROTECTED[region])
        assert summary["resource_group"] == "rg-backupops-drill-" + region and summary["environment_deleted"]
        (record,) = summary["drills"]
        # the first protected VM by resource group and name (sample size 1)
        assert record["vm"] == sorted(PROTECTED[region])[0], record
        assert record["status"] == "succeeded" and record["job_status"] == "Completed" and record["code"] is None
        assert record["target_vm_id"].lower().endswith(
            "/resourcegroups/rg-backupops-drill-%s/providers/microsoft.compute/virtualmachines/%s"
            % (region, record["target_vm"].lower()))
        # the latest recovery point of the VM when the drill ran
        points = drilled["points"][record["vm"].lower()]
        assert points and record["recovery_point"]["name"] == str(max(points, key=lambda p: p["time"])["id"])
        # RPO: the point's age when the restore started; RTO: trigger to running with the agent Ready
        triggered, running = parse_time(record["triggered_at"]), parse_time(record["running_at"])
        point_time = parse_time(record["recovery_point"]["time"])
        assert abs(record["rpo_seconds"] - (triggered - point_time)) <= 2, record
        assert record["rpo_seconds"] > 0
        assert record["rto_seconds"] == pytest.approx(running - triggered, abs=0.2) and record["rto_seconds"] > 0
        assert summary["max_rpo_seconds"] == record["rpo_seconds"]
        assert summary["max_rto_seconds"] == record["rto_seconds"]
    # the playbook's output names RPO and RTO per VM
    for summary in doc["regions"]:
        record = summary["drills"][0]
        assert "%s: %s @ %s: succeeded, RPO %s s, RTO %s s" % (
            summary["location"], record["vm"], record["recovery_point"]["name"], record["rpo_seconds"],
            record["rto_seconds"]) in first["run"].stdout


def test_each_restore_went_into_a_tagged_drill_group_that_is_gone(drilled):
    first = drilled["first"]
    for region in REGIONS:
        group = "/resourcegroups/rg-backupops-drill-%s" % region
        puts = [w for w in first["writes"] if w["method"] == "PUT" and w["path"].lower().endswith(group)]
        deletes = [w for w in first["writes"] if w["method"] == "DELETE" and w["path"].lower().endswith(group)]
        assert len(puts) == 1 and len(deletes) == 1
    # every write of the drill went into a drill group, or was a restore in a vault
    for write in first["writes"]:
        path = write["path"].lower()
        assert "/resourcegroups/rg-backupops-drill-" in path or (
            write["method"] == "POST" and path.endswith("/restore") and "/resourcegroups/rg-backup-" in path), path
    # nothing the drill created is left: no drill group, no resource in one, nothing carrying the drill tag
    state = first["state"]
    assert drill_groups(state) == []
    for kind in RESOURCE_KINDS:
        for doc in state.get(kind, {}).values():
            assert not doc["rg"].lower().startswith("rg-backupops-drill-"), (kind, doc["name"])
            assert DRILL_TAG not in {k.lower() for k in (doc.get("tags") or {})}, (kind, doc["name"])
    # the VMs that were restored are still there, as they were
    for region in REGIONS:
        vm_rg, vm_name = sorted(PROTECTED[region])[0].split("/")
        assert any(v["rg"] == vm_rg and v["name"] == vm_name for v in state["vms"].values())


def test_the_rerun_finds_every_recovery_point_drilled_and_writes_nothing(drilled):
    again = drilled["again"]
    assert again["run"].rc == 0, again["run"].stdout[-6000:]
    assert again["writes"] == []
    assert len(again["files"]) == 2
    first_doc, doc = newest(drilled["first"]["files"]), newest(again["files"])
    earlier = {s["location"]: s["drills"][0] for s in first_doc["regions"]}
    for summary in doc["regions"]:
        assert summary["drilled"] == 0 and summary["drills"] == [] and not summary["environment_created"]
        (record,) = summary["already_drilled"]
        assert record["status"] == "already_drilled" and record["drilled_by"] == earlier[summary["location"]]["drill_id"]
        assert record["rto_seconds"] == earlier[summary["location"]]["rto_seconds"]
    # reads only: the VMs, the protected items and the recovery points; no restore job read or started
    assert not [e for e in again["log"] if "/restore" in e["path"].lower() or "/resourcegroups/rg-backupops-drill-"
                in e["path"].lower()]


def test_the_report_page_shows_the_last_drill_per_region_and_per_vm(drilled):
    run = drilled["report_run"]
    assert run.rc == 0, run.stdout[-4000:]
    assert drilled["report_writes"] == []
    first = newest(drilled["first"]["files"])
    page = drilled["report"] / "coverage.html"
    assert "<script" not in page.read_text()
    dom = parse_dom(chromium(page, "--dump-dom")[0])
    assert dom.find("h2", id="drill-heading").content() == "Restore drills"
    rows = dom.find("table", id="drill-regions").find_all("tr", data_status="passed")
    assert sorted(r.attrs["data-location"] for r in rows) == list(REGIONS)
    for summary in first["regions"]:
        row = dom.find("table", id="drill-regions").find("tr", data_location=summary["location"])
        assert row.find("td", data_key="drilled").content() == "1"
        assert row.find("td", data_key="failed").content() == "0"
        assert float(row.find("td", data_key="max_rto_seconds").attrs["data-value"]) == summary["max_rto_seconds"]
        assert float(row.find("td", data_key="max_rpo_seconds").attrs["data-value"]) == summary["max_rpo_seconds"]
        assert summary["drill_id"] in row.content() and "deleted" in row.content()
        record = summary["drills"][0]
        vm_row = dom.find("table", id="drill-vms").find("tr", data_vm=record["vm"])
        assert vm_row.attrs["data-status"] == "succeeded" and vm_row.attrs["data-location"] == summary["location"]
        assert record["recovery_point"]["name"] in vm_row.content()
        assert "%s/%s" % (record["target_resource_group"], record["target_vm"]) in vm_row.content()
        assert float(vm_row.find("td", data_key="rto_seconds").attrs["data-value"]) == record["rto_seconds"]
        assert duration(record["rto_seconds"]) == vm_row.find("td", data_key="rto_seconds").content()


# -- the environment module alone ------------------------------------------------------------

def env(emulator, tmp_path, check=False, **params):
    emulator.clear_log()
    run = run_playbook(emulator, "restore_drill_environment.yml", tmp_path, extra_vars=params, check=check, diff=True)
    return run, run.task("Module under test"), emulator.writes()


def test_the_environment_is_created_idempotently_predicted_in_check_mode_and_deleted(fresh_emulator, tmp_path):
    want = {"resource_group": "rg-drill-envtest", "location": "West Europe", "drill_id": "d-1",
            "storage_account": "stdrillenvtest01", "tags": {"owner": "ops"}}
    run, predicted, writes = env(fresh_emulator, tmp_path, check=True, **want)
    assert run.rc == 0 and predicted["changed"] and writes == []
    run, made, writes = env(fresh_emulator, tmp_path, **want)
    assert run.rc == 0 and made["changed"], run.stdout[-3000:]
    assert [(w["method"], w["path"].rsplit("/", 2)[-2].lower()) for w in writes] == [
        ("PUT", "resourcegroups"), ("PUT", "virtualnetworks"), ("PUT", "storageaccounts")]
    envd = made["environment"]
    assert envd["drill_id"] == "d-1" and envd["resource_group"]["tags"] == {"owner": "ops", DRILL_TAG: "d-1"}
    assert envd["subnet"]["name"] == "restore" and envd["subnet"]["prefix"] == "10.250.0.0/24"
    assert envd["subnet"]["id"].endswith("/virtualNetworks/vnet-drill/subnets/restore")
    assert envd["storage_account"]["kind"] == "StorageV2" and envd["storage_account"]["sku"] == "Standard_LRS"
    for key in ("resource_group", "virtual_network", "subnet"):
        assert predicted["environment"][key]["name"] == envd[key]["name"]
    state = fresh_emulator.admin("GET", "state")
    vnet = next(v for v in state["vnets"].values() if v["rg"] == "rg-drill-envtest")
    assert vnet["location"] == "westeurope" and vnet["address_prefixes"] == ["10.250.0.0/16"]
    assert vnet["subnets"]["restore"]["prefix"] == "10.250.0.0/24" and vnet["tags"] == {DRILL_TAG: "d-1"}
    run, again, writes = env(fresh_emulator, tmp_path, **want)
    assert run.rc == 0 and again["changed"] is False and writes == []
    assert again["diff"]["before"] == again["diff"]["after"]
    # another drill's id: refused, nothing deleted
    run, refused, writes = env(fresh_emulator, tmp_path, resource_group="rg-drill-envtest", drill_id="d-2",
                               state="absent")
    assert run.rc != 0 and refused["error"]["code"] == "DrillIdMismatch" and writes == []
    run, gone, writes = env(fresh_emulator, tmp_path, check=True, resource_group="rg-drill-envtest", state="absent")
    assert run.rc == 0 and gone["changed"] and writes == []
    run, gone, writes = env(fresh_emulator, tmp_path, resource_group="rg-drill-envtest", drill_id="d-1",
                            state="absent")
    assert run.rc == 0 and gone["changed"] and gone["environment"] == {}
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes] == [("DELETE", "rg-drill-envtest")]
    state = fresh_emulator.admin("GET", "state")
    assert not [g for g in state["resourcegroups"].values() if g["name"] == "rg-drill-envtest"]
    for kind in RESOURCE_KINDS:
        assert not [d for d in state.get(kind, {}).values() if d["rg"] == "rg-drill-envtest"], kind
    run, absent, writes = env(fresh_emulator, tmp_path, resource_group="rg-drill-envtest", state="absent")
    assert run.rc == 0 and absent["changed"] is False and writes == []


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_group_without_the_drill_tag_is_never_used_or_deleted(fresh_emulator, tmp_path, state):
    before = fresh_emulator.admin("GET", "state")
    run, result, writes = env(fresh_emulator, tmp_path, resource_group="rg-shop-weu", state=state,
                              location="westeurope", drill_id="d-1")
    assert run.rc != 0 and writes == []
    assert result["error"]["code"] == "NotADrillResourceGroup"
    assert "rg-shop-weu" in result["msg"] and "backupops-drill" in result["msg"] and "Nothing was changed" in result["msg"]
    after = fresh_emulator.admin("GET", "state")
    for kind in ("resourcegroups",) + RESOURCE_KINDS:
        assert after.get(kind) == before.get(kind), kind


def test_bad_inputs_fail_before_any_request(fresh_emulator, tmp_path):
    for params, code in (({"resource_group": "rg-x", "location": "westeurope"}, "MissingParameter"),
                         ({"resource_group": "rg-x", "location": "westeurope", "drill_id": "d",
                           "subnet_prefix": "10.9.0.0/24"}, "InvalidAddressPrefix"),
                         ({"resource_group": "rg-x", "location": "westeurope", "drill_id": "d",
                           "storage_account": "Not_Valid"}, "AccountNameInvalid")):
        run, result, _writes = env(fresh_emulator, tmp_path, **params)
        assert run.rc != 0 and result["error"]["code"] == code, result
        assert fresh_emulator.arm_requests() == [], params
