# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/decommission_vault.yml (module vault_decommission) against the emulator.

The estate, arranged once: vault rsv-decom (soft delete on, 14 days) protecting shop-web-01,
holding shop-db-01's data with its protection stopped, and shop-web-02's data soft-deleted. Each
test that changes it starts its own emulator from that snapshot. Soft delete's retention expires
on the emulator's clock (moved with its admin API), as Azure purges soft-deleted data on its own."""

import json
import os

import pytest

from conftest import PLAYBOOKS, REPO, Emulator, Snapshot, arranging, run_playbook, serve

PLAYBOOK = os.path.relpath(os.path.join(REPO, "playbooks", "decommission_vault.yml"), PLAYBOOKS)
RG = "rg-shop-weu"
VAULT = "rsv-decom"
HOLDING_DATA = ("shop-web-01", "shop-db-01")    # protected; stopped with its data kept
SOFT_DELETED = "shop-web-02"
DAY = 86400
STEPS = ["delete_backup_data", "soft_delete_report", "purge_soft_deleted", "unregister_containers", "delete_vault"]


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    with arranging(Emulator(str(tmp_path_factory.mktemp("decommission-estate")))) as emu:
        from azure.mgmt.recoveryservices import models as rsm
        emu.sdk("vaults").vaults.begin_create_or_update(RG, VAULT, rsm.Vault(
            location="westeurope", sku=rsm.Sku(name="Standard"),
            properties=rsm.VaultProperties(public_network_access="Enabled"))).result()
        for vm in HOLDING_DATA + (SOFT_DELETED,):
            emu.protect_vm(RG, VAULT, RG, vm)
        backup = emu.sdk("backup")
        from azure.mgmt.recoveryservicesbackup import models
        stopped = "iaasvmcontainerv2;%s;%s" % (RG, "shop-db-01")
        backup.protected_items.begin_create_or_update(
            VAULT, RG, "Azure", "iaasvmcontainer;" + stopped, "vm;" + stopped,
            models.ProtectedItemResource(properties=models.AzureIaaSComputeVMProtectedItem(
                protection_state="ProtectionStopped"))).result()
        name = "iaasvmcontainerv2;%s;%s" % (RG, SOFT_DELETED)
        backup.protected_items.delete(VAULT, RG, "Azure", "iaasvmcontainer;" + name, "vm;" + name)
        emu.admin("POST", "clock", json={"advance": 60})    # the deletion's operation ends
        assert items(emu)[SOFT_DELETED]["isScheduledForDeferredDelete"]
        assert items(emu)["shop-db-01"]["protectionState"] == "ProtectionStopped"
    return Snapshot(emu)


@pytest.fixture
def emulator(estate, tmp_path):
    yield from serve(estate.start(str(tmp_path / "emulator")))


def items(emu):
    backup = emu.sdk("backup")
    return {i.properties["friendlyName"]: i.properties for i in backup.backup_protected_items.list(VAULT, RG)}


def vault_exists(emu):
    return any(v.name == VAULT for v in emu.sdk("vaults").vaults.list_by_resource_group(RG))


def decommission(emu, tmp_path, check=False, diff=False, **extra):
    extra_vars = {"decommission_vault_name": VAULT, "decommission_resource_group": RG, "confirm": VAULT,
                  "decommission_results_dir": str(tmp_path / "reports")}
    extra_vars.update(extra)
    emu.clear_log()
    run = run_playbook(emu, PLAYBOOK, tmp_path, extra_vars=extra_vars, check=check, diff=diff)
    return run, run.task("Delete the backup data, report soft delete, purge it when asked, unregister, "
                         "delete the vault")


def statuses(result):
    assert [s["name"] for s in result["steps"]] == STEPS
    return {s["name"]: s["status"] for s in result["steps"]}


def reports(tmp_path):
    folder = tmp_path / "reports"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("confirm", [None, "", "rsv-decom-typo", VAULT.upper()])
def test_refused_without_the_vault_name_confirmed(emulator, tmp_path, confirm):
    extra = {"decommission_vault_name": VAULT, "decommission_resource_group": RG}
    if confirm is not None:
        extra["confirm"] = confirm
    emulator.clear_log()
    run = run_playbook(emulator, PLAYBOOK, tmp_path, extra_vars=extra)
    assert run.rc != 0
    assert "Refusing to decommission vault rsv-decom" in run.stdout and "Nothing was read or changed" in run.stdout
    assert emulator.arm_requests() == []            # not even a read
    assert vault_exists(emulator) and set(items(emulator)) == set(HOLDING_DATA) | {SOFT_DELETED}


def test_the_module_alone_refuses_a_wrong_confirm_before_any_request(emulator, tmp_path):
    emulator.clear_log()
    run = run_playbook(emulator, "vault_decommission.yml", tmp_path, extra_vars={
        "vault_name": VAULT, "resource_group": RG, "confirm": "rsv-other"})
    result = run.task("Module under test")
    assert run.rc != 0 and result["error"]["code"] == "ConfirmationRequired", result
    assert "confirm is 'rsv-other', not the vault's name" in result["msg"]
    assert emulator.arm_requests() == []


def test_check_mode_lists_every_step_and_writes_nothing(emulator, tmp_path):
    run, result = decommission(emulator, tmp_path, check=True, diff=True, decommission_purge_soft_deleted=True)
    assert run.rc == 0, run.stdout + run.stderr
    assert result["diff"] == {"before": {"vault": VAULT, "exists": True}, "after": {"vault": VAULT, "exists": False}}
    assert result["changed"] is True and result["complete"] is True
    assert statuses(result) == {"delete_backup_data": "planned", "soft_delete_report": "reported",
                                "purge_soft_deleted": "planned", "unregister_containers": "nothing_to_do",
                                "delete_vault": "planned"}
    steps = {s["name"]: s for s in result["steps"]}
    assert steps["delete_backup_data"]["targets"] == sorted("%s/%s" % (RG, vm) for vm in HOLDING_DATA)
    assert "disable soft delete, undelete 3 item(s), delete them again" in steps["purge_soft_deleted"]["message"]
    # what soft delete would keep: the one soft-deleted now, and the two the run would delete
    assert sorted(k["vm"] for k in result["soft_deleted"]) == sorted("%s/%s" % (RG, vm) for vm in HOLDING_DATA + (
        SOFT_DELETED,))
    assert emulator.writes() == []
    assert vault_exists(emulator) and not items(emulator)["shop-web-01"].get("isScheduledForDeferredDelete")
    assert "1. stop protection and delete the backup data, item by item: planned" in run.stdout
    assert reports(tmp_path) == []                  # check mode writes no report either


def test_check_mode_without_purge_predicts_the_work_left_undone(emulator, tmp_path):
    run, result = decommission(emulator, tmp_path, check=True)
    assert run.rc != 0
    assert statuses(result)["purge_soft_deleted"] == "blocked" and statuses(result)["delete_vault"] == "blocked"
    assert "decommission_purge_soft_deleted" not in result["msg"] and "purge_soft_deleted: true" in result["msg"]
    assert emulator.writes() == []


def test_purge_takes_the_vault_to_deleted_and_a_rerun_does_nothing(emulator, tmp_path):
    run, result = decommission(emulator, tmp_path, decommission_purge_soft_deleted=True)
    assert run.rc == 0, run.stdout + run.stderr
    assert statuses(result) == {"delete_backup_data": "done", "soft_delete_report": "reported",
                                "purge_soft_deleted": "done", "unregister_containers": "nothing_to_do",
                                "delete_vault": "done"}
    assert result["vault"]["deleted"] is True and result["complete"] is True
    assert not vault_exists(emulator)
    paths = [e["path"].lower() for e in emulator.writes()]
    assert sum(p.endswith("/backupconfig/vaultconfig") for p in paths) == 1         # soft delete disabled once
    assert sum("/protecteditems/" in p for p in paths) == 2 + 3 + 3   # 2 deletes, 3 undeletes, 3 deletes
    assert paths[-1].endswith("/vaults/" + VAULT)                                   # the vault last
    # the report
    written = reports(tmp_path)
    assert len(written) == 1
    document = json.loads(written[0].read_text())
    assert [s["status"] for s in document["steps"]] == ["done", "reported", "done", "nothing_to_do", "done"]
    assert document["complete"] is True and document["vault"]["deleted"] is True
    # again: the vault is gone, nothing to do
    run, result = decommission(emulator, tmp_path, decommission_purge_soft_deleted=True)
    assert run.rc == 0 and result["changed"] is False
    assert set(statuses(result).values()) == {"nothing_to_do"}
    assert emulator.writes() == []


def test_without_purge_the_vault_goes_once_soft_delete_expires(emulator, tmp_path):
    run, result = decommission(emulator, tmp_path)
    assert run.rc != 0
    assert statuses(result) == {"delete_backup_data": "done", "soft_delete_report": "reported",
                                "purge_soft_deleted": "blocked", "unregister_containers": "nothing_to_do",
                                "delete_vault": "blocked"}
    kept = {k["vm"]: k["purge_at"] for k in result["soft_deleted"]}
    assert sorted(kept) == sorted("%s/%s" % (RG, vm) for vm in HOLDING_DATA + (SOFT_DELETED,))
    last = max(kept.values())
    assert result["error"]["code"] == "SoftDeleteRetentionPending"
    assert last in result["msg"] and "shop-db-01" in result["msg"] and "purge_soft_deleted: true" in result["msg"]
    assert last in run.stdout                                      # the summary names the date too
    assert vault_exists(emulator) and all(p["isScheduledForDeferredDelete"] for p in items(emulator).values())
    assert not any(e["path"].lower().endswith("/backupconfig/vaultconfig") for e in emulator.writes())
    assert json.loads(reports(tmp_path)[0].read_text())["complete"] is False
    # a re-run before the retention ends changes nothing
    run, result = decommission(emulator, tmp_path)
    assert run.rc != 0 and result["changed"] is False and emulator.writes() == []
    # Azure purges the soft-deleted data 14 days after its deletion: then the vault goes
    emulator.admin("POST", "clock", json={"advance": 15 * DAY})
    run, result = decommission(emulator, tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    assert statuses(result)["delete_vault"] == "done" and result["soft_deleted"] == []
    assert [e["method"] for e in emulator.writes()] == ["DELETE"] and not vault_exists(emulator)


def test_always_on_soft_delete_is_waited_out_even_with_purge(emulator, tmp_path):
    from azure.mgmt.recoveryservicesbackup import models
    emulator.sdk("backup").backup_resource_vault_configs.update(VAULT, RG, models.BackupResourceVaultConfigResource(
        properties=models.BackupResourceVaultConfig(soft_delete_feature_state="AlwaysON")))
    run, result = decommission(emulator, tmp_path, decommission_purge_soft_deleted=True)
    assert run.rc != 0
    assert statuses(result)["purge_soft_deleted"] == "blocked" and result["vault"]["soft_delete_state"] == "AlwaysON"
    last = max(k["purge_at"] for k in result["soft_deleted"])
    assert "AlwaysON" in result["msg"] and last in result["msg"] and "shop-web-02" in result["msg"]
    # the data was deleted item by item; soft delete was not touched (it cannot be)
    paths = [e["path"].lower() for e in emulator.writes()]
    assert len(paths) == 2 and all("/protecteditems/" in p for p in paths)
    emulator.admin("POST", "clock", json={"advance": 15 * DAY})
    run, result = decommission(emulator, tmp_path, decommission_purge_soft_deleted=True)
    assert run.rc == 0 and result["vault"]["deleted"] is True and not vault_exists(emulator)
