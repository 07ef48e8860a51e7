"""Behaviour the Backup service enforces (issue point 6), through the real SDKs."""

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import models as bm

from .helpers import (FABRIC, backup_now, container, create_vault, get_item, headers_of, item,
                      protect, refresh, wait_job)

WEU, EUS, SEA = "rg-shop-weu", "rg-shop-eus", "rg-data-sea"


def error_code(exc_info):
    return exc_info.value.error.code


def test_vm_only_protected_by_a_vault_in_its_own_region(emulator):
    create_vault(emulator, "rsv-weu")
    backup = emulator.backup()
    with pytest.raises(HttpResponseError) as err:
        protect(emulator, backup, WEU, "rsv-weu", EUS, "shop-web-03")
    assert err.value.status_code == 400
    assert error_code(err) == "BMSUserErrorInvalidConfigureProtectionRequest"
    assert "eastus" in err.value.error.message and "westeurope" in err.value.error.message
    # and it is not offered as protectable
    refresh(backup, WEU, "rsv-weu")
    names = {p.properties["friendlyName"] for p in backup.backup_protectable_items.list("rsv-weu", WEU)}
    assert "shop-web-03" not in names and "shop-web-01" in names


def test_vm_protected_by_one_vault_at_a_time(emulator):
    create_vault(emulator, "rsv-a")
    create_vault(emulator, "rsv-b")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-a", WEU, "shop-web-02")
    with pytest.raises(HttpResponseError) as err:
        protect(emulator, backup, WEU, "rsv-b", WEU, "shop-web-02")
    assert err.value.status_code == 400 and "rsv-a" in err.value.error.message
    names = {p.properties["friendlyName"] for p in backup.backup_protectable_items.list("rsv-b", WEU)}
    assert "shop-web-02" not in names
    status = backup.backup_status.get("westeurope", bm.BackupStatusRequest(
        resource_type="VM", resource_id=get_item(backup, WEU, "rsv-a", WEU, "shop-web-02").properties[
            "sourceResourceId"]))
    assert status.vault_id.endswith("/rsv-a") and status.policy_name == "DefaultPolicy"


def test_vault_with_protected_items_cannot_be_deleted(emulator):
    create_vault(emulator, "rsv-del")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-del", WEU, "shop-db-01")
    with pytest.raises(HttpResponseError) as err:
        emulator.vaults().vaults.begin_delete(WEU, "rsv-del").result()
    assert error_code(err) == "ServiceResourceNotEmptyWithContainerDetails"
    assert "shop-db-01" in err.value.error.message
    assert emulator.vaults().vaults.get(WEU, "rsv-del").name == "rsv-del"
    # An empty vault goes: 202, operation Succeeded, then 404.
    create_vault(emulator, "rsv-empty")
    emulator.vaults().vaults.begin_delete(WEU, "rsv-empty").result()
    with pytest.raises(HttpResponseError) as err:
        emulator.vaults().vaults.get(WEU, "rsv-empty")
    assert err.value.status_code == 404 and error_code(err) == "ResourceNotFound"


def test_backup_of_running_vm_without_ready_agent_fails(emulator):
    create_vault(emulator, "rsv-eus", location="eastus", rg=EUS)
    backup = emulator.backup()
    for vm in ("legacy-win-02", "legacy-lnx-01"):      # agent Not Ready / no agent at all
        protect(emulator, backup, EUS, "rsv-eus", "rg-migrated-eus", vm)
        job = wait_job(backup, EUS, "rsv-eus", backup_now(backup, EUS, "rsv-eus", "rg-migrated-eus", vm))
        assert job.properties.status == "Failed"
        assert job.properties.error_details[0].error_title == "UserErrorGuestAgentStatusUnavailable"
        assert job.properties.error_details[0].error_string == "VM Agent unable to communicate with Azure Backup"
        found = get_item(backup, EUS, "rsv-eus", "rg-migrated-eus", vm)
        assert found.properties["protectionState"] == "IRPending"
        assert found.properties["lastBackupStatus"] == "Failed"
        assert found.properties["healthStatus"] == "ActionRequired"
    # Once the agent reports Ready (its heartbeat), the backup works.
    emulator.admin("POST", "vms/rg-migrated-eus/legacy-lnx-01/agent", json={"installed": True, "ready": True})
    job = wait_job(backup, EUS, "rsv-eus",
                   backup_now(backup, EUS, "rsv-eus", "rg-migrated-eus", "legacy-lnx-01"))
    assert job.properties.status == "Completed"
    assert get_item(backup, EUS, "rsv-eus", "rg-migrated-eus",
                    "legacy-lnx-01").properties["protectionState"] == "Protected"


def test_deallocated_vm_is_backed_up_crash_consistent(emulator):
    create_vault(emulator, "rsv-off")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-off", "rg-erp-weu", "erp-test-01")
    job = wait_job(backup, WEU, "rsv-off", backup_now(backup, WEU, "rsv-off", "rg-erp-weu", "erp-test-01"))
    assert job.properties.status == "Completed"
    rps = list(backup.recovery_points.list("rsv-off", WEU, FABRIC, container("rg-erp-weu", "erp-test-01"),
                                           item("rg-erp-weu", "erp-test-01")))
    assert rps[0].properties["recoveryPointType"] == "CrashConsistent"
    vm = emulator.compute().virtual_machines.get("rg-erp-weu", "erp-test-01", expand="instanceView")
    assert vm.instance_view.vm_agent is None          # not running: no agent, no extension
    assert [s.code for s in vm.instance_view.statuses][-1] == "PowerState/deallocated"


def test_encrypted_vm_without_key_vault_access_fails(emulator):
    create_vault(emulator, "rsv-sea", location="southeastasia", rg=SEA)
    backup = emulator.backup()
    protect(emulator, backup, SEA, "rsv-sea", SEA, "data-lake-01")
    job = wait_job(backup, SEA, "rsv-sea", backup_now(backup, SEA, "rsv-sea", SEA, "data-lake-01"))
    assert job.properties.status == "Failed"
    assert job.properties.error_details[0].error_title == "UserErrorKeyvaultPermissionsNotConfigured"
    emulator.admin("POST", "vms/%s/data-lake-01/keyvault-access" % SEA, json={"granted": True})
    job = wait_job(backup, SEA, "rsv-sea", backup_now(backup, SEA, "rsv-sea", SEA, "data-lake-01"))
    assert job.properties.status == "Completed"
    vm = emulator.compute().virtual_machines.get(SEA, "data-lake-01")
    assert vm.storage_profile.os_disk.encryption_settings.enabled is True


def test_first_backup_creates_restore_point_group_and_a_lock_on_it_fails_backups(emulator):
    create_vault(emulator, "rsv-lock")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-lock", WEU, "shop-web-01")
    assert wait_job(backup, WEU, "rsv-lock", backup_now(
        backup, WEU, "rsv-lock", WEU, "shop-web-01")).properties.status == "Completed"
    group = emulator.arm("GET", "/subscriptions/%s/resourcegroups/AzureBackupRG_westeurope_1"
                         "?api-version=2022-09-01" % emulator.sub)
    assert group.status_code == 200 and group.json()["location"] == "westeurope"
    lock = emulator.arm("PUT", "/subscriptions/%s/resourceGroups/AzureBackupRG_westeurope_1/providers/"
                        "Microsoft.Authorization/locks/no-delete?api-version=2016-09-01" % emulator.sub,
                        json={"properties": {"level": "CanNotDelete"}})
    assert lock.status_code == 201
    job = wait_job(backup, WEU, "rsv-lock", backup_now(backup, WEU, "rsv-lock", WEU, "shop-web-01"))
    assert job.properties.status == "Failed"
    assert job.properties.error_details[0].error_title == "UserErrorRpCollectionLimitReached"


def test_second_backup_while_one_runs_fails_and_daily_limit(emulator):
    create_vault(emulator, "rsv-twice")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-twice", WEU, "shop-web-02")
    first = backup_now(backup, WEU, "rsv-twice", WEU, "shop-web-02")
    second = wait_job(backup, WEU, "rsv-twice", backup_now(backup, WEU, "rsv-twice", WEU, "shop-web-02"))
    assert second.properties.status == "Failed"
    assert second.properties.error_details[0].error_title == "UserErrorBackupOperationInProgress"
    assert wait_job(backup, WEU, "rsv-twice", first).properties.status == "Completed"
    # Nine on-demand attempts per item per UTC day: the 10th fails at once.
    for _ in range(7):
        wait_job(backup, WEU, "rsv-twice", backup_now(backup, WEU, "rsv-twice", WEU, "shop-web-02"))
    tenth = wait_job(backup, WEU, "rsv-twice", backup_now(backup, WEU, "rsv-twice", WEU, "shop-web-02"))
    assert tenth.properties.error_details[0].error_title == "UserErrorMaxOnDemandBackupsPerDayReached"
    emulator.admin("POST", "clock", json={"advance": 86400})
    # The emulator's clock moved a day: tokens issued before have expired there.
    backup = emulator.backup()
    next_day = wait_job(backup, WEU, "rsv-twice", backup_now(backup, WEU, "rsv-twice", WEU, "shop-web-02"))
    assert next_day.properties.status == "Completed"


def test_backup_job_can_be_cancelled(emulator):
    create_vault(emulator, "rsv-cancel")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-cancel", WEU, "shop-db-01")
    job_id = backup_now(backup, WEU, "rsv-cancel", WEU, "shop-db-01")
    assert backup.job_details.get("rsv-cancel", WEU, job_id).properties.actions_info == ["Cancellable"]
    headers = backup.job_cancellations.trigger("rsv-cancel", WEU, job_id, cls=headers_of)
    assert "/backupJobs/%s/operationsStatus/" % job_id in headers["Azure-AsyncOperation"]
    assert wait_job(backup, WEU, "rsv-cancel", job_id).properties.status == "Cancelled"


def test_redundancy_locks_once_a_vm_is_protected(emulator):
    create_vault(emulator, "rsv-red")
    backup = emulator.backup()
    # CRR needs GeoRedundant.
    backup.backup_resource_storage_configs_non_crr.update("rsv-red", WEU, bm.BackupResourceConfigResource(
        properties=bm.BackupResourceConfig(storage_model_type="LocallyRedundant")))
    with pytest.raises(HttpResponseError) as err:
        backup.backup_resource_storage_configs_non_crr.update("rsv-red", WEU, bm.BackupResourceConfigResource(
            properties=bm.BackupResourceConfig(cross_region_restore_flag=True)))
    assert err.value.status_code == 400
    protect(emulator, backup, WEU, "rsv-red", WEU, "shop-web-01")
    cfg = backup.backup_resource_storage_configs_non_crr.get("rsv-red", WEU)
    assert cfg.properties.storage_type_state == "Locked"
    with pytest.raises(HttpResponseError) as err:
        backup.backup_resource_storage_configs_non_crr.update("rsv-red", WEU, bm.BackupResourceConfigResource(
            properties=bm.BackupResourceConfig(storage_model_type="GeoRedundant")))
    assert error_code(err) == "StorageModelModifyError"
    with pytest.raises(HttpResponseError) as err:
        emulator.vaults().vaults.begin_update(WEU, "rsv-red", rsm.PatchVault(properties=rsm.VaultProperties(
            redundancy_settings=rsm.VaultPropertiesRedundancySettings(
                standard_tier_storage_redundancy="ZoneRedundant")))).result()
    assert error_code(err) == "StorageModelModifyError"
    assert backup.backup_resource_storage_configs_non_crr.get(
        "rsv-red", WEU).properties.storage_model_type == "LocallyRedundant"
    # Writing the same value is accepted.
    backup.backup_resource_storage_configs_non_crr.update("rsv-red", WEU, bm.BackupResourceConfigResource(
        properties=bm.BackupResourceConfig(storage_model_type="LocallyRedundant")))


def test_undiscovered_vm_needs_a_refresh(emulator):
    create_vault(emulator, "rsv-disc", location="southeastasia", rg=SEA)
    backup = emulator.backup()
    names = {p.properties["friendlyName"] for p in backup.backup_protectable_items.list("rsv-disc", SEA)}
    assert "data-api-01" not in names and "data-etl-01" in names
    with pytest.raises(HttpResponseError) as err:
        protect(emulator, backup, SEA, "rsv-disc", SEA, "data-api-01")
    assert error_code(err) == "BMSUserErrorInvalidConfigureProtectionRequest"
    refresh(backup, SEA, "rsv-disc")
    protect(emulator, backup, SEA, "rsv-disc", SEA, "data-api-01")


def test_reader_principal_can_read_but_not_write(emulator):
    reader = next(p for p in emulator.ready["principals"] if p["name"] == "backupops-auditor")
    credential = emulator.credential(reader)
    vaults = emulator.vaults(credential=credential)
    assert list(vaults.vaults.list_by_subscription_id()) == []
    with pytest.raises(HttpResponseError) as err:
        vaults.vaults.begin_create_or_update("rg-shop-weu", "rsv-reader", rsm.Vault(
            location="westeurope", sku=rsm.Sku(name="Standard"))).result()
    assert err.value.status_code == 403 and error_code(err) == "AuthorizationFailed"
    assert "Microsoft.RecoveryServices/vaults/write" in err.value.error.message
    assert list(emulator.vaults().vaults.list_by_subscription_id()) == []


def test_vault_names_are_unique_per_subscription(emulator):
    create_vault(emulator, "rsv-unique")
    check = emulator.vaults().recovery_services.check_name_availability(
        "rg-erp-weu", "westeurope", rsm.CheckNameAvailabilityParameters(
            type="Microsoft.RecoveryServices/Vaults", name="rsv-unique"))
    assert check.name_available is False and check.reason == "AlreadyExists"
    with pytest.raises(HttpResponseError) as err:
        create_vault(emulator, "rsv-unique", rg="rg-erp-weu")
    assert err.value.status_code == 409
    free = emulator.vaults().recovery_services.check_name_availability(
        "rg-erp-weu", "westeurope", rsm.CheckNameAvailabilityParameters(
            type="Microsoft.RecoveryServices/Vaults", name="rsv-free"))
    assert free.name_available is True


@pytest.mark.parametrize("name", ["a", "x" * 51, "1vault", "my_vault", "vault-é"])
def test_invalid_vault_names_are_refused(shared_emulator, name):
    resp = shared_emulator.arm(
        "PUT", "/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.RecoveryServices/"
        "vaults/%s?api-version=2026-11-01" % (shared_emulator.sub, name),
        json={"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidResourceName"


def test_policy_rules(emulator):
    create_vault(emulator, "rsv-pol")
    backup = emulator.backup()
    run = "2026-01-01T22:00:00Z"
    good = bm.ProtectionPolicyResource(properties=bm.AzureIaaSVMProtectionPolicy(
        policy_type="V2",
        schedule_policy=bm.SimpleSchedulePolicyV2(schedule_run_frequency="Hourly", hourly_schedule=bm.HourlySchedule(
            interval=6, schedule_window_start_time=run, schedule_window_duration=12)),
        retention_policy=bm.LongTermRetentionPolicy(daily_schedule=bm.DailyRetentionSchedule(
            retention_times=[run], retention_duration=bm.RetentionDuration(count=30, duration_type="Days"))),
        instant_rp_retention_range_in_days=7, time_zone="W. Europe Standard Time"))
    created = backup.protection_policies.create_or_update("rsv-pol", WEU, "hourly-6h", good)
    assert created.properties.schedule_policy.hourly_schedule.interval == 6
    bad = bm.ProtectionPolicyResource(properties=bm.AzureIaaSVMProtectionPolicy(
        schedule_policy=bm.SimpleSchedulePolicy(schedule_run_frequency="Daily", schedule_run_times=[run]),
        retention_policy=bm.LongTermRetentionPolicy(daily_schedule=bm.DailyRetentionSchedule(
            retention_times=["2026-01-01T21:00:00Z"],
            retention_duration=bm.RetentionDuration(count=30, duration_type="Days")))))
    with pytest.raises(HttpResponseError) as err:
        backup.protection_policies.create_or_update("rsv-pol", WEU, "bad", bad)
    assert error_code(err) == "BMSUserErrorInvalidPolicyInput"
    assert err.value.error.target == "properties.retentionPolicy.dailySchedule.retentionTimes"
    # A policy in use cannot be deleted; the message names the items.
    protect(emulator, backup, WEU, "rsv-pol", WEU, "shop-web-01", policy="hourly-6h")
    with pytest.raises(HttpResponseError) as err:
        backup.protection_policies.begin_delete("rsv-pol", WEU, "hourly-6h").result()
    assert error_code(err) == "BMSUserErrorPolicyInUse" and "shop-web-01" in err.value.error.message
    # Changing the policy of a protected item runs a ConfigureBackup job.
    protect(emulator, backup, WEU, "rsv-pol", WEU, "shop-web-02")
    ops = [j.properties.operation for j in backup.backup_jobs.list("rsv-pol", WEU)]
    assert ops.count("ConfigureBackup") == 2


def test_job_reads_are_throttled_like_azure(emulator):
    create_vault(emulator, "rsv-jobs")
    backup = emulator.backup(retry_total=0)
    emulator.admin("PUT", "faults", json={"job_reads_per_hour": 3})
    for _ in range(3):
        list(backup.backup_jobs.list("rsv-jobs", WEU))
    with pytest.raises(HttpResponseError) as err:
        list(backup.backup_jobs.list("rsv-jobs", WEU))
    assert err.value.status_code == 429 and error_code(err) == "ResourceRequestsThrottled"
    assert "backupJobs/read" in err.value.error.message
    assert int(err.value.response.headers["Retry-After"]) > 3000


def test_lists_page_with_next_link(emulator):
    emulator.admin("PUT", "settings", json={"page_size": 5})
    vms = list(emulator.compute().virtual_machines.list_all())
    assert len(vms) == 16
    pages = [e for e in emulator.requests_log() if e["path"].endswith("/virtualMachines")]
    assert len(pages) == 4 and any("skipToken" in e["query"] for e in pages)
    create_vault(emulator, "rsv-page")
    backup = emulator.backup()
    for vm in ("shop-web-01", "shop-web-02", "shop-db-01"):
        protect(emulator, backup, WEU, "rsv-page", WEU, vm)
    emulator.admin("PUT", "settings", json={"page_size": 2})
    assert len(list(backup.backup_protected_items.list("rsv-page", WEU))) == 3
