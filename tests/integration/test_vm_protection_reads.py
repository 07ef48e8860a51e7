# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How vm_protection reads the VMs it must protect (default seed, its own emulator): a GET with
the instance view for one VM, the first page of the subscription's status list for a few (then a
GET for each VM not on it), the whole status list for more, none at all when converged; a missing
VM is VmNotFound every way.

The vault is made once (the fixture arranged); each test starts its own emulator from that state,
with small pages, and protects through the SDK the VMs it needs protected beforehand."""

import pytest

from conftest import Emulator, Snapshot, arranging, serve

TASK = "Module under test"
RG = "rg-it-reads"
VAULT = "rsv-it-reads"
WEU = ["rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-shop-weu/shop-db-01",
       "rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01", "rg-erp-weu/erp-test-01"]
GHOST = "rg-shop-weu/ghost-01"
SEED_VMS = 16
PAGE = 5  # small pages, so that the list's cost shows: 16 VMs are 4 pages
FIRST_PAGE_WEU = "rg-erp-weu/erp-app-01"    # the one VM of WEU on the first page of 5 (sorted by group, name)


def vm_reads(emulator):
    """(VM GETs with their query, pages of the subscription's VM list) of the logged requests."""
    gets, pages = [], []
    for entry in emulator.arm_requests():
        path = entry["path"].lower()
        if entry["method"] != "GET" or "/providers/microsoft.compute/" not in path:
            continue
        if path.endswith("/providers/microsoft.compute/virtualmachines"):
            pages.append(entry)
        elif "/virtualmachines/" in path:
            gets.append((path.rsplit("/", 1)[-1], entry["query"]))
    return gets, pages


def protect(playbook, **kw):
    check = kw.pop("check", False)
    return playbook("vm_protection.yml", extra_vars=dict({"vault_name": VAULT, "resource_group": RG}, **kw),
                    check=check)


@pytest.fixture(scope="module")
def arranged(tmp_path_factory):
    """The default seed with the vault (no VM protected in it), small pages."""
    from conftest import run_playbook
    with arranging(Emulator(str(tmp_path_factory.mktemp("reads-emulator")), "--page-size", str(PAGE))) as running:
        run = run_playbook(running, "rs_vault.yml", tmp_path_factory.mktemp("arrange"), extra_vars={
            "name": VAULT, "resource_group": RG, "location": "westeurope", "create_resource_group": True})
        assert run.rc == 0, run.stdout
    return Snapshot(running)


@pytest.fixture
def emulator(arranged, tmp_path):
    """This test's own emulator, from the arranged state."""
    yield from serve(arranged.start(str(tmp_path / "emulator")))


def protected_beforehand(emulator, vms):
    """Protect these VMs with the default policy through the SDK (not the module under test)."""
    for label in vms:
        vm_rg, vm = label.split("/")
        emulator.protect_vm(RG, VAULT, vm_rg, vm)


def test_one_vm_is_one_get_with_its_instance_view_and_no_list(emulator, playbook):
    emulator.clear_log()
    run = protect(playbook, vm=WEU[0])
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout
    gets, pages = vm_reads(emulator)
    assert pages == []
    assert len(gets) == 1 and gets[0][0] == "shop-web-01" and "$expand=instanceView" in gets[0][1], gets
    assert len([e for e in emulator.writes() if e["method"] == "PUT"]) == 1


def test_a_batch_above_the_threshold_takes_the_list(emulator, playbook):
    # six VMs to enable (check mode: nothing written, the reads are those of a real run)
    batch = WEU[1:] + ["rg-shop-eus/shop-web-03"]
    emulator.clear_log()
    run = protect(playbook, vms=batch, check=True)
    result = run.task(TASK)
    gets, pages = vm_reads(emulator)
    assert gets == [] and len(pages) == -(-SEED_VMS // PAGE)
    assert all("statusOnly=true" in p["query"] for p in pages)
    assert result["changed_count"] == 5 and emulator.writes() == []
    assert {r["vm"]: r["error"]["code"] for r in result["vms"] if r["error"]} == {
        "rg-shop-eus/shop-web-03": "VmInAnotherRegion"}


def test_at_the_threshold_the_first_page_then_a_get_for_each_vm_not_on_it(emulator, playbook):
    # six VMs given, one already protected as wanted: five to enable.  The first page of the status
    # list (5 of the 16 VMs, sorted by resource group and name: rg-data-sea's four, rg-erp-weu/erp-app-01)
    # holds erp-app-01; the four others are a GET each: 5 VM reads (5 GETs before; in a subscription of
    # one page, 1 request)
    protected_beforehand(emulator, WEU[:1])
    emulator.clear_log()
    run = protect(playbook, vms=WEU)
    result = run.task(TASK)
    assert run.rc == 0 and result["changed_count"] == 5, run.stdout
    gets, pages = vm_reads(emulator)
    assert len(pages) == 1 and "statusOnly=true" in pages[0]["query"] and "skiptoken" not in pages[0]["query"].lower()
    assert sorted(get[0] for get in gets) == sorted(vm.split("/")[1] for vm in WEU[1:] if vm != FIRST_PAGE_WEU)
    assert all("$expand=instanceView" in get[1] for get in gets)
    warnings = {r["vm"]: [v["code"] for v in r["verdicts"]] for r in result["vms"]}
    assert "EncryptedVm" in warnings["rg-erp-weu/erp-sql-01"] and "VmNotRunning" in warnings["rg-erp-weu/erp-test-01"]


def test_converged_reads_no_vm(emulator, playbook):
    protected_beforehand(emulator, WEU)
    emulator.clear_log()
    run = protect(playbook, vms=WEU)
    assert run.rc == 0 and not run.task(TASK)["changed"]
    assert vm_reads(emulator) == ([], []) and emulator.writes() == []


def test_a_missing_vm_is_vm_not_found_every_way(emulator, playbook):
    one = [GHOST]
    few = [GHOST, "rg-data-sea/data-lake-01"]      # data-lake-01 on the first page, the ghost on none
    many = [GHOST, "rg-shop-eus/shop-web-03", "rg-shop-eus/shop-batch-01", "rg-data-sea/data-lake-01",
            "rg-data-sea/data-etl-01", "rg-data-sea/data-dev-01"]
    verdicts = []
    # (VM GETs, list pages): one VM its GET; a few the first page and a GET of the ghost (more pages
    # follow, it may be on one); more the whole list, 4 pages
    for batch, got, listed in ((one, ["ghost-01"], 0), (few, ["ghost-01"], 1), (many, [], -(-SEED_VMS // PAGE))):
        emulator.clear_log()
        run = protect(playbook, vms=batch, check=True)
        row = {r["vm"]: r for r in run.task(TASK)["vms"]}[GHOST]
        gets, pages = vm_reads(emulator)
        assert run.rc != 0 and [get[0] for get in gets] == got and len(pages) == listed, (gets, pages)
        verdicts.append((row["error"], row["verdicts"], row["state"]))
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert verdicts[0][0]["code"] == "VmNotFound"
