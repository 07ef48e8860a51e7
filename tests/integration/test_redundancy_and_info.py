# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_redundancy and rs_vault_info against the emulator."""

TASK = "Module under test"
RG = "rg-it-red"


def test_redundancy_check_mode_apply_idempotent(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-red", "resource_group": RG, "location": "eastus",
                                                "create_resource_group": True}).rc == 0
    args = {"vault_name": "rsv-red", "resource_group": RG, "storage_redundancy": "LocallyRedundant"}
    emulator.clear_log()
    run = playbook("backup_redundancy.yml", extra_vars=args, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and result["redundancy"]["storage_redundancy"] == "LocallyRedundant"
    assert result["diff"]["before"]["storage_redundancy"] == "GeoRedundant"
    assert emulator.writes() == []
    run = playbook("backup_redundancy.yml", extra_vars=args)
    assert run.task(TASK)["changed"] and run.task(TASK)["redundancy"] == {
        "storage_redundancy": "LocallyRedundant", "cross_region_restore": False, "locked": False}
    emulator.clear_log()
    assert not playbook("backup_redundancy.yml", extra_vars=args).task(TASK)["changed"]
    assert emulator.writes() == []
    # back to geo-redundant with cross-region restore, then protected: locked, same values still accepted
    both = dict(args, storage_redundancy="GeoRedundant", cross_region_restore=True)
    assert playbook("backup_redundancy.yml", extra_vars=both).task(TASK)["changed"]
    emulator.protect_vm(RG, "rsv-red", "rg-shop-eus", "shop-web-03")
    run = playbook("backup_redundancy.yml", extra_vars=both)
    assert run.rc == 0 and not run.task(TASK)["changed"] and run.task(TASK)["redundancy"]["locked"]
    # turning cross-region restore off after protection started is refused before any write
    emulator.clear_log()
    run = playbook("backup_redundancy.yml", extra_vars=dict(both, cross_region_restore=False))
    assert run.rc != 0 and run.task(TASK)["error"]["code"] == "CrossRegionRestoreNotReversible"
    assert emulator.writes() == []


def test_info_lists_filters_and_counts(emulator, playbook):
    for name, rg, location in (("rsv-info-a", "rg-it-info", "westeurope"), ("rsv-info-b", "rg-it-info", "eastus"),
                               ("rsv-info-c", "rg-it-info2", "westeurope")):
        assert playbook("rs_vault.yml", extra_vars={"name": name, "resource_group": rg, "location": location,
                                                    "create_resource_group": True}).rc == 0
    emulator.protect_vm("rg-it-info", "rsv-info-a", "rg-shop-weu", "shop-web-02")
    emulator.protect_vm("rg-it-info", "rsv-info-a", "rg-shop-weu", "shop-db-01")
    emulator.clear_log()
    run = playbook("rs_vault_info.yml", check=True)
    vaults = {v["name"]: v for v in run.task(TASK)["vaults"]}
    assert {"rsv-info-a", "rsv-info-b", "rsv-info-c"} <= set(vaults)
    assert vaults["rsv-info-a"]["protected_item_count"] == 2
    assert vaults["rsv-info-a"]["billed_instance_count"] == 2
    assert vaults["rsv-info-b"]["protected_item_count"] == 0
    assert vaults["rsv-info-a"]["storage_redundancy"] == "GeoRedundant"
    assert emulator.writes() == []
    by_rg = playbook("rs_vault_info.yml", extra_vars={"resource_group": "rg-it-info"}).task(TASK)["vaults"]
    assert sorted(v["name"] for v in by_rg) == ["rsv-info-a", "rsv-info-b"]
    by_region = playbook("rs_vault_info.yml", extra_vars={"location": "West Europe",
                                                          "include_item_counts": False}).task(TASK)["vaults"]
    assert {"rsv-info-a", "rsv-info-c"} <= {v["name"] for v in by_region}
    assert all(v["location"] == "westeurope" and "protected_item_count" not in v for v in by_region)
    one = playbook("rs_vault_info.yml", extra_vars={"name": "rsv-info-c", "resource_group": "rg-it-info2"})
    assert [v["name"] for v in one.task(TASK)["vaults"]] == ["rsv-info-c"]
    none = playbook("rs_vault_info.yml", extra_vars={"name": "rsv-missing", "resource_group": "rg-it-info2"})
    assert none.rc == 0 and none.task(TASK)["vaults"] == []


def test_reader_can_run_info(emulator, playbook):
    run = playbook("rs_vault_info.yml", principal="backupops-auditor")
    assert run.rc == 0, run.stdout
