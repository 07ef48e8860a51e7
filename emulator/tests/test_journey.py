"""The guide's whole journey, driven through the REAL Azure SDK clients.

create vault -> set redundancy -> create policy -> refresh -> list protectable VMs ->
enable protection -> back up now -> follow the job to Completed -> stop (retain data)
-> delete data (soft delete) -> undelete.
"""

import datetime

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicesbackup import models as bm

from .conftest import wait_until
from .helpers import FABRIC, container, create_vault, headers_of, item, op_id, status_of
from .helpers import wait_job as _wait_job
from .helpers import wait_operation as _wait_operation

RG = "rg-shop-weu"
VM_RG = "rg-shop-weu"
VM = "shop-web-01"


def wait_operation(backup, vault, op):
    return _wait_operation(backup, RG, vault, op)


def wait_job(backup, vault, job_id):
    return _wait_job(backup, RG, vault, job_id)


def test_whole_journey(emulator):
    vault = create_vault(emulator, "rsv-journey")
    assert vault.properties.provisioning_state == "Succeeded"
    assert vault.properties.redundancy_settings.standard_tier_storage_redundancy == "GeoRedundant"
    backup = emulator.backup()

    # Storage redundancy: GeoRedundant by default, changed BEFORE anything is protected.
    cfg = backup.backup_resource_storage_configs_non_crr.get("rsv-journey", RG)
    assert cfg.properties.storage_model_type == "GeoRedundant"
    assert cfg.properties.storage_type_state == "Unlocked"
    cfg = backup.backup_resource_storage_configs_non_crr.update(
        "rsv-journey", RG, bm.BackupResourceConfigResource(
            properties=bm.BackupResourceConfig(storage_model_type="LocallyRedundant")))
    assert cfg.properties.storage_model_type == "LocallyRedundant"
    vault = emulator.vaults().vaults.get(RG, "rsv-journey")
    assert vault.properties.redundancy_settings.standard_tier_storage_redundancy == "LocallyRedundant"

    # A daily V1 policy.
    run = "2026-11-26T23:00:00Z"
    policy = backup.protection_policies.create_or_update(
        "rsv-journey", RG, "daily-23h", bm.ProtectionPolicyResource(
            properties=bm.AzureIaaSVMProtectionPolicy(
                schedule_policy=bm.SimpleSchedulePolicy(schedule_run_frequency="Daily",
                                                        schedule_run_times=[run]),
                retention_policy=bm.LongTermRetentionPolicy(daily_schedule=bm.DailyRetentionSchedule(
                    retention_times=[run],
                    retention_duration=bm.RetentionDuration(count=14, duration_type="Days"))),
                instant_rp_retention_range_in_days=2, time_zone="UTC")))
    assert isinstance(policy.properties, bm.AzureIaaSVMProtectionPolicy)
    assert policy.properties.protected_items_count == 0

    # Discovery: refresh (202 + Location, polled 202 then 204), then protectable items.
    headers = backup.protection_containers.refresh("rsv-journey", RG, FABRIC, cls=headers_of)
    refresh_op = headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    assert headers["Retry-After"] == "1"
    wait_until(lambda: backup.protection_container_refresh_operation_results.get(
        "rsv-journey", RG, FABRIC, refresh_op, cls=status_of) == 204)
    protectable = list(backup.backup_protectable_items.list(
        "rsv-journey", RG, filter="backupManagementType eq 'AzureIaasVM'"))
    # SDK 11's hybrid models resolve one discriminator level only, so IaaS VM
    # fields are read by their wire names (as on real Azure).
    names = {p.properties["friendlyName"] for p in protectable}
    assert VM in names and "shop-db-01" in names
    assert "shop-web-03" not in names          # eastus VM: other region
    assert all(p.properties["protectableItemType"] == "Microsoft.Compute/virtualMachines"
               for p in protectable)

    # Enable protection (an LRO in SDK 11: operationsStatus, then a final GET of the item).
    vm_id = emulator.compute().virtual_machines.get(VM_RG, VM).id
    poller = backup.protected_items.begin_create_or_update(
        "rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM),
        bm.ProtectedItemResource(properties=bm.AzureIaaSComputeVMProtectedItem(
            source_resource_id=vm_id, policy_id=policy.id)))
    protected = poller.result()
    assert protected.properties["protectionState"] == "IRPending"
    assert protected.properties["policyName"] == "daily-23h"
    cfg = backup.backup_resource_storage_configs_non_crr.get("rsv-journey", RG)
    assert cfg.properties.storage_type_state == "Locked"
    jobs = list(backup.backup_jobs.list("rsv-journey", RG, filter="operation eq 'ConfigureBackup'"))
    assert len(jobs) == 1 and jobs[0].properties.entity_friendly_name == VM

    # Back up now with a retain-until date; the job id comes from the operation status.
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=45)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    headers = backup.backups.trigger(
        "rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM),
        bm.BackupRequestResource(properties=bm.IaasVMBackupRequest(
            recovery_point_expiry_time_in_utc=until)), cls=headers_of)
    status = wait_operation(backup, "rsv-journey", op_id(headers))
    assert status.status == "Succeeded"
    job_id = status.properties.job_id
    running = backup.job_details.get("rsv-journey", RG, job_id)
    assert running.properties.operation == "Backup"
    assert [t.task_id for t in running.properties.extended_info.tasks_list] == [
        "Take Snapshot", "Transfer data to vault"]
    finished = wait_job(backup, "rsv-journey", job_id)
    assert finished.properties.status == "Completed"
    assert finished.properties.duration.total_seconds() > 0
    assert "Backup Size" in finished.properties.extended_info.property_bag
    protected = backup.protected_items.get("rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM))
    assert protected.properties["protectionState"] == "Protected"
    assert protected.properties["lastBackupStatus"] == "Completed"
    # The backup extension appears on the VM once the first backup succeeded.
    exts = emulator.compute().virtual_machines.get(VM_RG, VM, expand="instanceView").instance_view.extensions
    assert [e.type for e in exts] == ["Microsoft.Azure.RecoveryServices.VMSnapshotLinux"]
    rps = list(backup.recovery_points.list("rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM)))
    assert len(rps) == 1

    # backupStatus (what `az backup protection check-vm` calls) names the vault.
    status = backup.backup_status.get("westeurope", bm.BackupStatusRequest(
        resource_type="VM", resource_id=vm_id))
    assert status.protection_status == "Protected" and status.vault_id.endswith("/rsv-journey")

    # Stop protection, keep the data.
    poller = backup.protected_items.begin_create_or_update(
        "rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM),
        bm.ProtectedItemResource(properties=bm.AzureIaaSComputeVMProtectedItem(
            source_resource_id=vm_id, protection_state="ProtectionStopped")))
    assert poller.result().properties["protectionState"] == "ProtectionStopped"

    # Delete the data: 202 on vault-level operation URLs, item soft-deleted.
    headers = backup.protected_items.delete(
        "rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM), cls=headers_of)
    assert "/backupOperations/" in headers["Azure-AsyncOperation"]
    assert wait_operation(backup, "rsv-journey", op_id(headers)).status == "Succeeded"
    gone = backup.protected_items.get("rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM))
    assert gone.properties["isScheduledForDeferredDelete"] is True
    # A vault holding soft-deleted items cannot be deleted.
    with pytest.raises(HttpResponseError) as err:
        emulator.vaults().vaults.begin_delete(RG, "rsv-journey").result()
    assert err.value.error.code == "ServiceResourceNotEmptyWithBackendMessage"

    # Undelete: back to ProtectionStopped with the data.
    poller = backup.protected_items.begin_create_or_update(
        "rsv-journey", RG, FABRIC, container(VM_RG, VM), item(VM_RG, VM),
        bm.ProtectedItemResource(properties=bm.AzureIaaSComputeVMProtectedItem(
            source_resource_id=vm_id, protection_state="ProtectionStopped", is_rehydrate=True)))
    undeleted = poller.result()
    assert undeleted.properties["protectionState"] == "ProtectionStopped"
    assert not undeleted.properties.get("isScheduledForDeferredDelete")
    ops = {j.properties.operation for j in backup.backup_jobs.list("rsv-journey", RG)}
    assert ops == {"ConfigureBackup", "Backup", "DisableBackup", "DeleteBackupData", "Undelete"}
