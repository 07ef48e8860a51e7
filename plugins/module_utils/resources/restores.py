# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Restores of Azure VMs: the IaasVMRestoreRequest body, its trigger (primary region through the SDK,
secondary region through core/arm.py), the secondary region's jobs, and the readers of a restore's
targets (virtual network and subnet, staging storage account, disks).

The body is built as the az CLI builds it (azure-cli backup/custom.py ``_get_trigger_restore_properties``
and ``_set_trigger_restore_properties``; recorded in test_backup_job.yaml and test_backup_crr.yaml):
``objectType`` IaasVMRestoreRequest, ``recoveryType`` RestoreDisks (disks into a target resource
group), AlternateLocation (a new VM: ``targetVirtualMachineId``, ``virtualNetworkId``, ``subnetId``) or
OriginalLocation (the VM's disks replaced), ``sourceResourceId``, ``storageAccountId`` (the staging
account), ``region`` (the vault's; the secondary region for a cross-region restore),
``createNewCloudService`` false and ``originalStorageAccountOption`` false.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import arm, waiting
from ..core.errors import AzureBackupError
from ..core.transform import as_dict, parse_id, parse_time, resource_type_of
from . import recovery_points, vms

RECOVERY_TYPES = {"restore_disks": "RestoreDisks", "new_vm": "AlternateLocation", "replace_disks": "OriginalLocation"}
# Cross-region restore: azure-mgmt-recoveryservicesbackup 11.x has no passive-stamp client (the az CLI
# uses azure.mgmt.recoveryservicesbackup.passivestamp), so these calls go through core/arm.py at the
# api-version test_backup_crr.yaml recorded for them.
CRR_API = recovery_points.CRR_API
OPERATION_WAIT = 300        # seconds Azure takes to name a restore's job (seconds in the recordings)


def restore_body(restore_type, point_name, source_vm_id, region, storage_account_id, target_group_id=None,
                 target_vm_name=None, vnet_id=None, subnet_id=None):
    """The IaasVMRestoreRequest properties of a restore (a wire dict)."""
    body = {"objectType": "IaasVMRestoreRequest", "recoveryPointId": point_name,
            "recoveryType": RECOVERY_TYPES[restore_type], "sourceResourceId": source_vm_id,
            "storageAccountId": storage_account_id, "region": region,
            "createNewCloudService": False, "originalStorageAccountOption": False}
    if restore_type in ("restore_disks", "new_vm"):
        body["targetResourceGroupId"] = target_group_id
    if restore_type == "new_vm":
        # the az CLI: target resource group + the source id's provider/type + the new name
        body["targetVirtualMachineId"] = "%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            target_group_id, target_vm_name)
        body["virtualNetworkId"] = vnet_id
        body["subnetId"] = subnet_id
    return body


def group_id(subscription, resource_group):
    return "/subscriptions/%s/resourceGroups/%s" % (subscription, resource_group)


def trigger(module, resource_group, vault_name, ref, point_name, body):
    """POST .../recoveryPoints/{rp}/restore (202); the operation id Azure names."""
    client = module.client("backup")
    container, item = recovery_points.item_path(ref)
    headers = module.azure_call(
        "start the restore of VM %s" % ref.label, client.restores.begin_trigger, vault_name, resource_group,
        vms.FABRIC, container, item, point_name, {"properties": body}, polling=False,
        cls=lambda response, _des, _h: response.http_response.headers)
    if hasattr(headers, "result"):     # an LROPoller: its initial answer's headers
        headers = headers.result()
    return waiting.operation_id(headers)


def _locations(module, region):
    return "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/%s" % (module.subscription_id, region)


def trigger_crr(module, region, access_details, body, label):
    """POST backupCrossRegionRestore in the secondary region (202); the operation id Azure names."""
    action = "start the cross-region restore of VM %s" % label
    response = arm.request(module, "POST", _locations(module, region) + "/backupCrossRegionRestore", CRR_API, action,
                           {"crossRegionRestoreAccessDetails": access_details, "restoreRequest": body})
    arm.raise_for(response, action)
    return waiting.operation_id(response.headers)


def crr_job_of_operation(module, region, op_id, label, sleep=None, clock=None):
    """The job id of a cross-region restore's operation (GET backupCrrOperationsStatus/{id})."""
    action = "read the cross-region restore operation of VM %s" % label

    def read():
        response = arm.request(module, "GET", "%s/backupCrrOperationsStatus/%s" % (_locations(module, region), op_id),
                               CRR_API, action)
        arm.raise_for(response, action)
        return response.json()
    status, ended = waiting.poll(read, lambda s: waiting.outcome(s.get("status")) != "running",
                                 waiting.Deadline(OPERATION_WAIT, clock), waiting.backoff(1.0, 2.0, 10.0), sleep)
    if not ended or waiting.outcome(status.get("status")) == "failed":
        error = status.get("error") or {}
        raise AzureBackupError("Azure did not start the cross-region restore of VM %s: %s: %s" % (
            label, error.get("code") or status.get("status"), error.get("message", "")),
            code=error.get("code") or "OperationFailed")
    return (status.get("properties") or {}).get("jobId")


def crr_job(module, region, vault_id, job_name):
    """A secondary-region job with its details (POST backupCrrJob), or None when unknown."""
    action = "read cross-region job %s" % job_name
    response = arm.request(module, "POST", _locations(module, region) + "/backupCrrJob", CRR_API, action,
                           {"resourceId": vault_id, "jobName": job_name})
    if response.status_code == 404:
        return None
    arm.raise_for(response, action)
    return response.json()


def crr_jobs(module, region, vault_id, odata_filter=None):
    """The vault's secondary-region jobs (POST backupCrrJobs), filtered as the vault's jobs are."""
    return arm.list_all(module, _locations(module, region) + "/backupCrrJobs", CRR_API,
                        "list the cross-region jobs of the vault", {"$filter": odata_filter} if odata_filter else None,
                        method="POST", body={"resourceId": vault_id})


# -- targets -------------------------------------------------------------------------------------

def parse_target(value, subscription, kind, option):
    """(subscription, resource group, name) of an ARM id of ``kind`` (Microsoft.Network/virtualNetworks...)
    or of 'resource_group/name'."""
    text = (value or "").strip()
    parts = [p for p in text.split("/") if p]
    if text.startswith("/"):
        found = parse_id(text)
        if found.get("name") and not found.get("children") and resource_type_of(found).lower() == kind.lower():
            return found["subscription"], found["resource_group"], found["name"]
    elif len(parts) == 2:
        return subscription, parts[0], parts[1]
    raise AzureBackupError("%s %r is neither 'resource_group/name' nor the ARM id of a %s." % (option, value, kind),
                           code="InvalidParameters")


def _missing_is_none(module, action, func, *args):
    try:
        return as_dict(module.azure_call(action, func, *args))
    except AzureBackupError as err:
        if err.status == 404:
            return None
        raise


def get_vnet(module, resource_group, name):
    """The virtual network (wire dict with its subnets), or None."""
    client = module.client("network")
    return _missing_is_none(module, "read virtual network %s/%s" % (resource_group, name),
                            client.virtual_networks.get, resource_group, name)


def get_storage_account(module, resource_group, name):
    """The storage account (wire dict: location, kind, sku), or None."""
    client = module.client("storage")
    return _missing_is_none(module, "read storage account %s/%s" % (resource_group, name),
                            client.storage_accounts.get_properties, resource_group, name)


def disks_since(module, resource_group, since):
    """Ids of the managed disks of a resource group created at or after ``since`` (a restore's disks)."""
    client = module.client("compute")
    disks = module.azure_call("list the disks of %s" % resource_group,
                              lambda: [as_dict(d) for d in client.disks.list_by_resource_group(resource_group)])
    found = []
    for disk in disks:
        created = parse_time((disk.get("properties") or {}).get("timeCreated") or disk.get("time_created"))
        if since is None or (created is not None and created >= since):
            found.append(disk.get("id"))
    return sorted(found)
