"""SDK-level steps shared by the emulator's tests."""

import datetime

from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import models as bm

from .conftest import wait_until

FABRIC = "Azure"


def headers_of(pipeline_response, deserialized, headers):
    return pipeline_response.http_response.headers


def status_of(pipeline_response, deserialized, headers):
    return pipeline_response.http_response.status_code


def container(rg, vm):
    return "iaasvmcontainer;iaasvmcontainerv2;%s;%s" % (rg, vm)


def item(rg, vm):
    return "vm;iaasvmcontainerv2;%s;%s" % (rg, vm)


def op_id(headers):
    return headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[-1]


def create_vault(emulator, name, location="westeurope", rg="rg-shop-weu"):
    poller = emulator.vaults().vaults.begin_create_or_update(
        rg, name, rsm.Vault(location=location, sku=rsm.Sku(name="Standard"),
                            properties=rsm.VaultProperties(public_network_access="Enabled")))
    return poller.result()


def wait_operation(backup, rg, vault, op):
    """Poll the vault-level operation status the way the az CLI does."""
    def done():
        status = backup.backup_operation_statuses.get(vault, rg, op)
        return status if status.status != "InProgress" else None
    return wait_until(done, timeout=30, interval=0.2)


def wait_job(backup, rg, vault, job_id, timeout=60):
    def done():
        job = backup.job_details.get(vault, rg, job_id)
        return job if job.properties.status not in ("InProgress", "Cancelling") else None
    return wait_until(done, timeout=timeout, interval=0.5)


def refresh(backup, rg, vault):
    headers = backup.protection_containers.refresh(vault, rg, FABRIC, cls=headers_of)
    op = headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    wait_until(lambda: backup.protection_container_refresh_operation_results.get(
        vault, rg, FABRIC, op, cls=status_of) == 204)


def protect(emulator, backup, rg, vault, vm_rg, vm, policy="DefaultPolicy"):
    vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        emulator.sub, vm_rg, vm)
    policy_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/%s" % (
        emulator.sub, rg, vault, policy)
    poller = backup.protected_items.begin_create_or_update(
        vault, rg, FABRIC, container(vm_rg, vm), item(vm_rg, vm),
        bm.ProtectedItemResource(properties=bm.AzureIaaSComputeVMProtectedItem(
            source_resource_id=vm_id, policy_id=policy_id)))
    return poller.result()


def backup_now(backup, rg, vault, vm_rg, vm, days=30):
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    headers = backup.backups.trigger(
        vault, rg, FABRIC, container(vm_rg, vm), item(vm_rg, vm),
        bm.BackupRequestResource(properties=bm.IaasVMBackupRequest(
            recovery_point_expiry_time_in_utc=until)), cls=headers_of)
    status = wait_operation(backup, rg, vault, op_id(headers))
    assert status.status == "Succeeded", status
    return status.properties.job_id


def get_item(backup, rg, vault, vm_rg, vm):
    return backup.protected_items.get(vault, rg, FABRIC, container(vm_rg, vm), item(vm_rg, vm))
