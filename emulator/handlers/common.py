"""What the handler modules share that is not a handler: route prefixes, ids, ARM errors,
input checks, the lookups that answer 404, and the Backup service's operation endpoints.

Store keys and reads are in ../queries.py, shared document changes in ../model.py.
"""

from datetime import timedelta

from .. import regions
from ..arm import ArmError, Response, SENTINEL_TIME, gateway_error, iso, iso_duration, page, parse_iso
from ..model import BACKUP_RETRY_AFTER, OP_ACK_SECONDS
from ..queries import (get_storage_account, get_vault, get_vm, get_vnet, in_group, item_key, job_key,
                       jobs_of_vault, live_points, op_key, parse_id, res_key, vault_key, vm_of_item)

V = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.recoveryservices/vaults/<vault>"
FABRIC = V + "/backupfabrics/<fabric>"
P = FABRIC + "/protectioncontainers/<container>/protecteditems/<item>"
VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
ITEM_TYPE = "Microsoft.Compute/virtualMachines"

# Azure's documented tag limits (Learn, "Use tags to organize your Azure resources": 50 tag
# name/value pairs per resource or resource group, names up to 512 characters, values up to 256).
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256


def rg_id(sub, rg):
    return "/subscriptions/%s/resourceGroups/%s" % (sub, rg)


def vault_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        sub, rg, name)


def vm_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        sub, rg, name)


def parse_vm_id(resource_id):
    """(sub, rg, name) of a VM ARM id, or None if it is not one."""
    if not isinstance(resource_id, str):
        return None
    segs = [s for s in resource_id.split("/") if s]
    low = [s.lower() for s in segs]
    if (len(segs) == 8 and low[0] == "subscriptions" and low[2] == "resourcegroups"
            and low[4] == "providers" and low[5] == "microsoft.compute"
            and low[6] == "virtualmachines"):
        return segs[1], segs[3], segs[7]
    return None


def not_found(rtype, name, rg):
    return gateway_error(
        404, "ResourceNotFound",
        "The Resource '%s/%s' under resource group '%s' was not found. For more details please "
        "go to https://aka.ms/ARMResourceNotFoundFix" % (rtype, name, rg))


def bad_request(code, message, target=None):
    return ArmError(400, code, message, target=target)


def norm_location(value):
    """ARM normalises 'West Europe' to 'westeurope'."""
    return regions.normalize(value)


def require_rg_location(location):
    """ARM refuses a resource group in a region it does not offer resource groups in.

    Real body (400, ARM itself): cloud-barista/cb-spider#527, Azure/azure-cli#16368,
    MicrosoftDocs/executable-docs#74; the location is echoed as sent ('Canada' in azure-cli#16368).
    """
    region = regions.known(location)
    if region is None or not region.resource_groups:
        raise gateway_error(
            400, "LocationNotAvailableForResourceGroup",
            "The provided location '%s' is not available for resource group. List of available "
            "regions is '%s'." % (location, ",".join(regions.RESOURCE_GROUP_REGIONS)))
    return region.name


def require_type_location(location, rtype):
    """ARM refuses a resource in a location its resource type is not offered in.

    Real body (400, ARM itself): Azure/azure-rest-api-specs#8577 (a recorded
    Microsoft.Storage/storageAccounts answer), Azure/azure-dev#305 (Microsoft.Web/staticSites).
    The emulator offers its resource types in every region of regions.REGIONS.
    """
    region = regions.known(location)
    if region is None:
        raise gateway_error(
            400, "LocationNotAvailableForResourceType",
            "The provided location '%s' is not available for resource type '%s'. List of available "
            "regions for the resource type is '%s'." % (
                location, rtype, ",".join(r.name for r in regions.REGIONS)))
    return region.name


def tags_of(body):
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise gateway_error(400, "InvalidRequestContent",
                            "The request content was invalid and could not be deserialized: "
                            "'tags must be an object of strings'.")
    # ARM's own answers, checked in this order (all 400, bare envelope). InvalidTagValueLength
    # is a real wire body (Azure-Samples/azure-search-openai-demo#1997, two spaces after
    # "large."). InvalidTags and InvalidTagName are the texts Microsoft's Az.Migrate module
    # (Azure/azure-powershell,
    # src/Migrate/Migrate.Autorest/custom/New-AzMigrateServerReplication.ps1) reproduces for the same checks;
    # the name message takes the value message's two spaces. Tag names longer than the limit are
    # all listed, joined with ', ', as Az.Migrate does.
    if len(tags) > MAX_TAGS:
        raise gateway_error(400, "InvalidTags",
                            "Too many tags specified. Requested tag count - '%d'. Maximum number of "
                            "tags allowed - '%d'." % (len(tags), MAX_TAGS))
    long_names = [name for name in tags if len(name) > MAX_TAG_NAME]
    if long_names:
        raise gateway_error(400, "InvalidTagName",
                            "Tag key too large.  Following tag name '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag name - '%d' characters." % (
                                ", ".join(long_names), MAX_TAG_NAME))
    long_values = [value for value in tags.values() if len(value) > MAX_TAG_VALUE]
    if long_values:
        raise gateway_error(400, "InvalidTagValueLength",
                            "Tag value too large.  Following tag value '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag value - '%d' characters." % (
                                ", ".join(long_values), MAX_TAG_VALUE))
    return tags


def vault_not_empty(items):
    """Why a vault holding these items cannot be deleted (an ArmError), or None.

    The Backup service's answers to a vault DELETE (vaults.py), also the reason a resource group
    holding the vault cannot be deleted (resources.py)."""
    soft = [i for i in items if i.get("soft_deleted")]
    live = [i for i in items if not i.get("soft_deleted")]
    if live:
        return ArmError(
            400, "ServiceResourceNotEmptyWithContainerDetails",
            "Vault cannot be deleted as there are existing resources within the vault. Please "
            "ensure there are no backup items, protected servers or backup management servers "
            "associated with this vault. Unregister the following containers associated with "
            "this vault before proceeding for deletion : %s" % ",".join(
                sorted(i["vm_name"] for i in live)))
    if soft:
        return ArmError(
            400, "ServiceResourceNotEmptyWithBackendMessage",
            "Recovery Services vault cannot be deleted as there are backup items still present "
            "in soft delete state. Visit the following link for the steps to permanently delete "
            "soft deleted items: https://aka.ms/undeletesoftdeleteditems.  : %s. Please ensure "
            "all containers have been unregistered from the vault and all private endpoints "
            "associated with the vault have been deleted, and retry operation. For more details, "
            "see https://aka.ms/AB-AA4ecq5" % ",".join(sorted(i["vm_name"] for i in soft)))
    return None


# -- lookups that answer 404 -------------------------------------------------------------

def require_resource(store, kind, rtype, sub, rg, name):
    """A resource group's resource document of ``kind`` (res_key), else ARM's ResourceNotFound."""
    doc = store.get(kind, res_key(sub, rg, name))
    if doc is None:
        raise not_found(rtype, name, rg)
    return doc


def list_answer(ctx, kind, render, sub, rg=None):
    """A subscription's (or a group's) documents of ``kind``, rendered and paged as ARM lists."""
    items = [render(d) for d in in_group(ctx.store, kind, sub, rg)]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


def require_vault(store, sub, rg, name):
    doc = get_vault(store, sub, rg, name)
    if doc is None:
        raise not_found(VAULT_TYPE, name, rg)
    return doc


# -- protection containers and protected items ----------------------------------------------

def item_path(vault, item):
    return "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s" % (
        vault_id(vault["sub"], vault["rg"], vault["name"]), item["container"], item["container"])


def parse_container(container):
    """(rg, vm) from 'iaasvmcontainer;iaasvmcontainerv2;rg;vm' (case-insensitive)."""
    parts = container.split(";")
    low = [p.lower() for p in parts]
    if len(parts) == 4 and low[0] == "iaasvmcontainer" and low[1] == "iaasvmcontainerv2":
        return parts[2], parts[3]
    if len(parts) == 3 and low[0] == "iaasvmcontainerv2":
        return parts[1], parts[2]
    return None


def parse_item(name):
    parts = name.split(";")
    low = [p.lower() for p in parts]
    if len(parts) == 4 and low[0] == "vm" and low[1] == "iaasvmcontainerv2":
        return parts[2], parts[3]
    if len(parts) == 3 and low[0] == "vm":
        return parts[1], parts[2]
    return None


def check_fabric(fabric):
    if fabric.lower() != "azure":
        raise ArmError(404, "BMSUserErrorFabricNotFound",
                       "The fabric '%s' was not found. The only fabric for Azure VMs is 'Azure'." % fabric)


def item_not_found():
    return ArmError(404, "BMSUserErrorDataSourceObjectNotFound",
                    "Item not found. Selected item might have been deleted. Please check if item is "
                    "registered to the vault.")


def resolve_item(ctx, sub, rg, vault, fabric, container, item):
    """(vault, (rg, vm), item key, item or None) named by a protected item's route."""
    check_fabric(fabric)
    doc = require_vault(ctx.store, sub, rg, vault)
    parsed_c = parse_container(container)
    parsed_i = parse_item(item)
    if parsed_c is None or parsed_i is None or [p.lower() for p in parsed_c] != [
            p.lower() for p in parsed_i]:
        raise ArmError(400, "BMSUserErrorInvalidConfigureProtectionRequest",
                       "Input for configure protection is not in proper format\r\nPlease ensure "
                       "that container exists and other parameters are in valid format")
    key = item_key(vault_key(doc["sub"], doc["rg"], doc["name"]), *parsed_c)
    return doc, parsed_c, key, ctx.store.get("items", key)


def require_item(ctx, sub, rg, vault, fabric, container, item):
    """(vault, item key, item) of an existing protected item's route, else item_not_found."""
    doc, _, key, found = resolve_item(ctx, sub, rg, vault, fabric, container, item)
    if found is None:
        raise item_not_found()
    return doc, key, found


# -- jobs as the Backup service renders them (jobs.py, crr.py) ----------------------------------

def _task_list(job, now):
    """Task states of a backup job at ``now`` (Take Snapshot, then Transfer data to vault)."""
    out = []
    start = parse_iso(job["start"])
    for task in job.get("tasks", []):
        t_start = start + timedelta(seconds=task["from"])
        t_end = start + timedelta(seconds=task["to"])
        entry = {"taskId": task["name"], "taskType": "Normal"}
        if job["status"] in ("Cancelled", "Failed") and now >= t_start and task.get("fails"):
            entry.update(startTime=iso(t_start), endTime=iso(parse_iso(job["end"])),
                         duration=iso_duration((parse_iso(job["end"]) - t_start).total_seconds()),
                         status=job["status"])
        elif now >= t_end and (job["status"] != "Failed" or not task.get("after_failure")):
            entry.update(startTime=iso(t_start), endTime=iso(t_end),
                         duration=iso_duration((t_end - t_start).total_seconds()), status="Completed")
        elif now >= t_start and job["status"] in ("InProgress", "Cancelling"):
            entry.update(startTime=iso(t_start), endTime=SENTINEL_TIME,
                         duration=iso_duration((now - t_start).total_seconds()), status="InProgress")
        else:
            entry.update(startTime=SENTINEL_TIME, endTime=SENTINEL_TIME, duration="PT0S",
                         status="Cancelled" if job["status"] == "Cancelled" else "NotStarted")
        out.append(entry)
    return out


def job_body(ctx_or_emu, job, detail, now):
    vault_path = _vault_path_of(job["vault"], ctx_or_emu)
    start = parse_iso(job["start"])
    props = {"jobType": "AzureIaaSVMJob"}
    # Real backup jobs keep actionsInfo once Completed (recordings test_backup_job, Learn capture);
    # so do restore jobs (test_backup_job #145 InProgress, test_backup_crr #189 Completed).
    if job["status"] in ("InProgress", "Completed") and job["operation"] in (
            "Backup", "Restore", "CrossRegionRestore"):
        props["actionsInfo"] = ["Cancellable"]
    props["containerName"] = job["container"]
    # Durations follow the (wall-clock) start and end times the job reports.
    finished = parse_iso(job.get("ended", job["end"])) if job["status"] not in (
        "InProgress", "Cancelling") else now
    props["duration"] = iso_duration((finished - start).total_seconds())
    props["virtualMachineVersion"] = "Compute"
    if detail and job.get("restore"):
        props["extendedInfo"] = _restore_extended(job, now)
    elif detail:
        extended = {"tasksList": _task_list(job, now), "propertyBag": job["property_bag"]}
        if job["operation"] == "Backup":
            extended["internalPropertyBag"] = {"IsInstantRpJob": "True"}
        if job["status"] == "Failed" and job.get("error"):
            extended["dynamicErrorMessage"] = job["error"]["message"]
        props["extendedInfo"] = extended
    props.update({"entityFriendlyName": job["entity"], "backupManagementType": "AzureIaasVM",
                  "operation": job["operation"], "status": job["status"],
                  "startTime": job["start"]})
    if job["status"] not in ("InProgress", "Cancelling"):
        props["endTime"] = job.get("ended", job["end"])
    props["activityId"] = job["activity_id"]
    if job["status"] == "Failed" and job.get("error"):
        err = job["error"]
        props["errorDetails"] = [{"errorCode": err.get("number", 400000),
                                  "errorString": err["message"], "errorTitle": err["code"],
                                  "recommendations": err.get("recommendations", [])}]
    if job.get("crr"):
        # test_backup_crr #148: a secondary-region job's id is under the location.
        vault_path = "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/%s" % (
            job["vault"].split("/", 1)[0], job["crr"])
    return {"id": vault_path + "/backupJobs/" + job["id"], "name": job["id"],
            "type": "Microsoft.RecoveryServices/vaults/backupJobs", "properties": props}


def _vault_path_of(vkey, emu_like):
    emu = getattr(emu_like, "emu", emu_like)
    vault = emu.store.get("vaults", vkey)
    if vault is not None:
        return vault_id(vault["sub"], vault["rg"], vault["name"])
    sub, rg, name = vkey.split("/", 2)
    return vault_id(sub, rg, name)




def _gb(value):
    return ("%.2f" % value).rstrip("0").rstrip(".")


def _restore_extended(job, now):
    """A restore job's extendedInfo (test_backup_job #145, test_backup_scenario #146, test_backup_crr
    #148-#189): one task "Transfer data from vault" with duration PT0S and no times, the property
    bag, the internal property bag, progressPercentage from 1.0 to 100.0, dynamicErrorMessage ""
    while it runs (absent once Completed), estimatedRemainingDuration on cross-region jobs."""
    restore = job["restore"]
    running = job["status"] in ("InProgress", "Cancelling")
    status = {"InProgress": "InProgress", "Cancelling": "InProgress"}.get(job["status"], job["status"])
    extended = {"tasksList": [{"taskId": "Transfer data from vault", "duration": "PT0S",
                               "status": status, "taskType": "Normal"}],
                "propertyBag": job["property_bag"],
                "internalPropertyBag": restore["internal"]}
    start, end = parse_iso(job["start"]), parse_iso(job["end"])
    span = max((end - start).total_seconds(), 1e-6)
    elapsed = (now - start).total_seconds() / span
    if running:
        done = min(elapsed, 0.99) if elapsed >= RESTORE_DETAILS_AFTER else 0.0
        extended["progressPercentage"] = max(1.0, float(round(done * 100)))
    else:
        extended["progressPercentage"] = 100.0 if job["status"] == "Completed" else 1.0
    # Once the transfer is under way Azure reports the bytes moved and the time left (test_backup_crr
    # #179 onwards, test_backup_scenario #218; not in the first seconds, #145-#148).
    if elapsed >= RESTORE_DETAILS_AFTER or not running:
        total = sum(d["size_gb"] for d in (restore.get("disks") or {}).get("disks", [])) or 30
        moved = total * (min(elapsed, 1.0) if running else 1.0)
        extended["tasksList"][0]["taskExecutionDetails"] = "%s GBs / %s GBs Transferred" % (
            _gb(moved), _gb(total))
        left = (end - now).total_seconds() if running else 0
        if running and elapsed >= RESTORE_TRANSFER_DONE:
            extended["tasksList"][0]["status"] = "Completed"
            extended["tasksList"][0]["taskExecutionDetails"] = "%s GBs / %s GBs Transferred" % (
                _gb(total), _gb(total))
            extended["progressPercentage"] = 99.0
            left = 120
        extended["estimatedRemainingDuration"] = iso_duration(max(0, left))
    if running or job["status"] == "Failed":
        extended["dynamicErrorMessage"] = job["error"]["message"] if job.get("error") else ""
    return extended


# -- the Backup service's asynchronous operations (item, vault and job level) ----------------

def op_headers(ctx, vault, op, item_path=None):
    """Azure-AsyncOperation / Location / Retry-After for a 202."""
    v = vault_id(vault["sub"], vault["rg"], vault["name"])
    if item_path:
        status = item_path + "/operationsStatus/" + op["id"]
        result = item_path + "/operationResults/" + op["id"]
    else:
        status = v + "/backupOperations/" + op["id"]
        result = v + "/backupOperationResults/" + op["id"]
    return dict({"Azure-AsyncOperation": ctx.url(status), "Location": ctx.url(result)},
                **ctx.emu.clock.retry_header(OP_ACK_SECONDS, BACKUP_RETRY_AFTER))


def op_status_body(op):
    body = {"id": op["id"], "name": op["id"], "status": op["status"], "startTime": op["start"]}
    if op["status"] == "InProgress":
        body["endTime"] = SENTINEL_TIME
        return body
    body["endTime"] = op["end"]
    if op["status"] == "Failed" and op.get("error"):
        body["error"] = {"code": op["error"]["code"], "message": op["error"]["message"]}
    elif op.get("job"):
        body["properties"] = {"objectType": "OperationStatusJobExtendedInfo", "jobId": op["job"]}
    return body


def _find_op(ctx, sub, rg, vault, op):
    doc = ctx.store.get("ops", op_key(vault_key(sub, rg, vault), op))
    if doc is None:
        raise ArmError(404, "BMSUserErrorOperationNotFound",
                       "The operation '%s' was not found. Please check the operation id." % op)
    return doc


def op_status(ctx, sub, rg, vault, op):
    require_vault(ctx.store, sub, rg, vault)
    doc = _find_op(ctx, sub, rg, vault, op)
    headers = {}
    if doc["status"] == "InProgress":
        # No source shows Azure's operation status answer with a Retry-After.
        headers.update(ctx.emu.clock.retry_header(OP_ACK_SECONDS))
    return Response(200, op_status_body(doc), headers)


def op_result(ctx, sub, rg, vault, op, self_path, item_body=None):
    require_vault(ctx.store, sub, rg, vault)
    doc = _find_op(ctx, sub, rg, vault, op)
    if doc["status"] == "InProgress":
        headers = dict({"Location": ctx.url(self_path)},
                       **ctx.emu.clock.retry_header(OP_ACK_SECONDS, BACKUP_RETRY_AFTER))
        # The 202 also names the status URL of the same operation (spec examples
        # ProtectedItemOperationResults, ProtectedItem_Delete_OperationResult).
        head, _, last = self_path.rstrip("/").rpartition("/")
        base, _, kind = head.rpartition("/")
        status = {"operationresults": "operationsStatus",
                  "backupoperationresults": "backupOperations"}.get(kind.lower())
        if status:
            headers["Azure-AsyncOperation"] = ctx.url("%s/%s/%s" % (base, status, last))
        return Response(202, None, headers)
    if doc["status"] == "Failed":
        err = doc["error"]
        raise ArmError(400, err["code"], err["message"])
    if item_body is not None:
        body = item_body(doc)
        if body is not None:
            return Response(200, body)
    return Response(204, None)


# -- restores: the checks Azure makes before it accepts one, and the job (restores.py, crr.py) ----
#
# Sources: the request model is the spec's IaasVMRestoreRequest (bms.json 2024-04-01); the job's
# shape the recordings (test_backup_job #145, test_backup_scenario #146, test_backup_crr #148-#189).
# No recording holds a refused restore. Where Learn names Azure Backup's code for the condition it is
# used (UserErrorStorageAccountNotFound: "Troubleshoot Azure file share backup"; UserErrorUnsupported-
# StorageAccountType: "Troubleshoot Azure Blob backup"; UserErrorKeyvaultPermissionsNotConfigured and
# UserErrorBackupOperationInProgress: "Troubleshoot backup failures on Azure VMs"); every other code
# below is the emulator's choice, in Azure Backup's UserError*/BMSUserError* style, and says so.

RESTORE_TYPES = ("RestoreDisks", "AlternateLocation", "OriginalLocation")
RESTORE_OBJECT_TYPES = ("IaasVMRestoreRequest", "IaasVMRestoreWithRehydrationRequest")
# Durations: test_backup_crr #189, a cross-region restore of 127 GB done in 19 minutes: 120 s + 8 s
# a GB. test_backup_scenario #169, a restore in the primary region of the same 127 GB reporting
# half done after 10m53s: 100 s + 6.2 s a GB (887 s). The transfer's details (bytes moved, time
# left) appear once ~72 % of the time has passed (absent at 70.8 %, present at 73.5 % of the
# cross-region job: test_backup_crr #176/#177; present at 73.6 % of the primary one, #169).
RESTORE_SECONDS = {"primary": (100, 6.2), "crr": (120, 8)}
RESTORE_DETAILS_AFTER = 0.72
# The transfer task ends before the job (it then finalises: progress 99, "PT2M" left): InProgress at
# 95.3 %, Completed at 98 % of the cross-region job (test_backup_crr #185/#186).
RESTORE_TRANSFER_DONE = 0.97
STAGING_KINDS = ("StorageV2", "Storage")


def _restore_error(code, message, status=400):
    return ArmError(status, code, message)


def _id_parts(value, what, provider, rtype):
    parts = parse_id(value)
    if (parts is None or (parts["provider"] or "").lower() != provider.lower()
            or (parts["type"] or "").lower() != rtype.lower() or parts["child_type"]):
        raise _restore_error("BMSUserErrorInvalidInput",
                             "%s '%s' is not a valid %s/%s resource id." % (what, value, provider, rtype))
    return parts


def restore_point(item, rp_name, now, secondary=False):
    """The live recovery point named ``rp_name`` (primary or secondary copy), else 404."""
    for rp in live_points(item, iso(now), secondary):
        if rp["id"] == rp_name:
            return rp
    # The same code as a GET of an unknown point (backups.py; the emulator's choice).
    raise ArmError(404, "BMSUserErrorRecoveryPointNotFound",
                   "The recovery point '%s' was not found. It may have expired or not been "
                   "replicated yet; list the item's recovery points and pick an existing one." % rp_name)


def check_restore(store, vault, item, rp, props, now, region, secondary=False):
    """Validate an IaasVMRestoreRequest; return the restore description the job keeps."""
    if props.get("objectType") not in RESTORE_OBJECT_TYPES:
        raise _restore_error("BMSUserErrorInvalidInput",
                             "The restore request objectType must be one of %s." % ", ".join(
                                 RESTORE_OBJECT_TYPES))
    kind = props.get("recoveryType")
    if kind not in RESTORE_TYPES:
        raise _restore_error("BMSUserErrorInvalidInput",
                             "recoveryType '%s' is not supported for Azure virtual machines. Allowed "
                             "values: %s." % (kind, ", ".join(RESTORE_TYPES)))
    if secondary and kind == "OriginalLocation":
        raise _restore_error("BMSUserErrorInvalidInput",
                             "Cross Region Restore supports RestoreDisks and AlternateLocation only.")
    source = props.get("sourceResourceId")
    if not isinstance(source, str) or source.lower() != item["vm_id"].lower():
        raise _restore_error("BMSUserErrorInvalidInput",
                             "sourceResourceId '%s' is not the virtual machine protected by this "
                             "item (%s)." % (source, item["vm_id"]))
    if props.get("recoveryPointId") not in (None, rp["id"]):
        raise _restore_error("BMSUserErrorInvalidInput",
                             "recoveryPointId '%s' does not match the recovery point in the path "
                             "'%s'." % (props.get("recoveryPointId"), rp["id"]))
    if regions.normalize(props.get("region")) != region:
        raise _restore_error("BMSUserErrorInvalidInput",
                             "region '%s' is not the region this restore runs in ('%s')." % (
                                 props.get("region"), region))
    if rp.get("archived") and props.get("objectType") != "IaasVMRestoreWithRehydrationRequest":
        raise _restore_error("UserErrorRecoveryPointInArchiveTier",          # emulator's choice
                             "The recovery point '%s' is in the archive tier. Rehydrate it first: "
                             "send an IaasVMRestoreWithRehydrationRequest with "
                             "recoveryPointRehydrationInfo (rehydrationPriority Standard or High, "
                             "rehydrationRetentionDuration), then restore." % rp["id"])
    # The staging storage account: required for every type (the portal and az ask for it).
    if not props.get("storageAccountId"):
        raise _restore_error("BMSUserErrorInvalidInput",
                             "storageAccountId (the staging storage account) is required.")
    sa = _id_parts(props["storageAccountId"], "storageAccountId", "Microsoft.Storage", "storageAccounts")
    account = get_storage_account(store, sa["sub"], sa["rg"], sa["name"])
    if account is None:
        raise _restore_error("UserErrorStorageAccountNotFound",
                             "Operation failed as the specified storage account '%s' does not "
                             "exist." % sa["name"])
    if regions.normalize(account.get("location")) != region:
        raise _restore_error("UserErrorStorageAccountInDifferentRegion",     # emulator's choice
                             "The staging storage account '%s' is in '%s'; it must be in the "
                             "restore's region '%s'." % (sa["name"], account.get("location"), region))
    if account.get("kind") not in STAGING_KINDS or str(account.get("sku", "")).startswith("Premium"):
        raise _restore_error("UserErrorUnsupportedStorageAccountType",
                             "The storage account type is not supported for restore: '%s' (%s, %s). "
                             "Use a general-purpose v2 account with standard performance." % (
                                 sa["name"], account.get("kind"), account.get("sku")))
    out = {"type": kind, "region": region, "rp": rp["id"], "rp_time": rp["time"],
           "staging": account["name"], "source_vm_id": item["vm_id"],
           "source_sub": item["vm_sub"], "source_rg": item["vm_rg"], "source_vm": item["vm_name"],
           "vm_size": rp.get("vm_size"), "os_type": rp.get("os_type"), "zones": rp.get("zones") or [],
           "disks": rp.get("disks")}
    target_rg = None
    if props.get("targetResourceGroupId"):
        parts = _id_parts_rg(props["targetResourceGroupId"])
        group = _in_region(  # both codes the emulator's choice
            store.get("resourcegroups", ("%s/%s" % (parts["sub"], parts["rg"])).lower()), region,
            ("UserErrorTargetResourceGroupNotFound",
             "The target resource group '%s' does not exist." % parts["rg"]),
            ("UserErrorTargetResourceGroupInDifferentRegion",
             "The target resource group '%s' is in '%%s'; restore into a resource group of '%%s'."
             % parts["rg"]))
        target_rg = group
        out.update(target_sub=group["sub"], target_rg=group["name"])
    if kind == "AlternateLocation":
        if target_rg is None:
            raise _restore_error("BMSUserErrorInvalidInput",
                                 "targetResourceGroupId is required to restore a new virtual machine.")
        vm_parts = _id_parts(props.get("targetVirtualMachineId"), "targetVirtualMachineId",
                             "Microsoft.Compute", "virtualMachines")
        if get_vm(store, vm_parts["sub"], vm_parts["rg"], vm_parts["name"]) is not None:
            raise _restore_error("UserErrorVmNameAlreadyExists",            # emulator's choice
                                 "A virtual machine named '%s' already exists in resource group "
                                 "'%s'. Choose another name." % (vm_parts["name"], vm_parts["rg"]))
        net = _id_parts(props.get("virtualNetworkId"), "virtualNetworkId", "Microsoft.Network",
                        "virtualNetworks")
        vnet = _in_region(  # both codes the emulator's choice
            get_vnet(store, net["sub"], net["rg"], net["name"]), region,
            ("UserErrorVirtualNetworkNotFound", "The virtual network '%s' was not found." % net["name"]),
            ("UserErrorVirtualNetworkInDifferentRegion",
             "The virtual network '%s' is in '%%s'; the new virtual machine is created in '%%s'."
             % net["name"]))
        subnet = parse_id(props.get("subnetId") or "")
        if (subnet is None or (subnet["child_type"] or "").lower() != "subnets"
                or (subnet["name"] or "").lower() != vnet["name"].lower()
                or (subnet["rg"] or "").lower() != vnet["rg"].lower()
                or subnet["child_name"].lower() not in vnet.get("subnets", {})):
            raise _restore_error("UserErrorSubnetNotFound",                   # emulator's choice
                                 "The subnet '%s' was not found in the virtual network '%s'." % (
                                     (subnet or {}).get("child_name") or props.get("subnetId"),
                                     vnet["name"]))
        out.update(target_vm=vm_parts["name"], subnet_id=props["subnetId"],
                   vnet_id=props["virtualNetworkId"])
    if kind == "OriginalLocation":
        vm = vm_of_item(store, item)
        if vm is None:
            raise _restore_error("UserErrorVmNotFoundV2",
                                 "The virtual machine doesn't exist anymore. Restore it as a new "
                                 "virtual machine or restore its disks instead.")
        running = [j for j in jobs_of_vault(store, item["vault"])
                   if j["item"] == item["key"] and j["status"] in ("InProgress", "Cancelling")]
        if running:
            raise _restore_error("UserErrorBackupOperationInProgress",
                                 "Unable to replace the disks of '%s' while a %s job (%s) is in "
                                 "progress for it. Wait for it to finish, then retry." % (
                                     item["vm_name"], running[0]["operation"], running[0]["id"]))
        out.update(target_vm=item["vm_name"])
    if rp.get("encrypted"):
        vm = vm_of_item(store, item)
        if vm is not None and not vm.get("key_vault_access", True):
            raise _restore_error("UserErrorKeyvaultPermissionsNotConfigured",
                                 "Backup doesn't have sufficient permissions to the key vault to "
                                 "restore this encrypted virtual machine. Grant the Backup Management "
                                 "Service get/list on the key vault's keys and secrets, then retry.")
    return out


def _in_region(doc, region, missing, elsewhere):
    """``doc`` if it exists in ``region``; else the (code, message) refusal (a message's two %s:
    the document's region and the restore's)."""
    if doc is None:
        raise _restore_error(*missing)
    if regions.normalize(doc.get("location")) != region:
        raise _restore_error(elsewhere[0], elsewhere[1] % (doc.get("location"), region))
    return doc


def _id_parts_rg(value):
    parts = parse_id(value)
    if parts is None or parts["rg"] is None or parts["provider"] is not None:
        raise _restore_error("BMSUserErrorInvalidInput",
                             "targetResourceGroupId '%s' is not a resource group id." % value)
    return parts


def rp_time_text(rp_time):
    """'5/13/2024 10:18:09 AM', as the job's "Recovery point time " shows it (test_backup_job #145)."""
    return parse_iso(rp_time).strftime("%-m/%-d/%Y %-I:%M:%S %p")


# propertyBag "Job Type": "Recover disks" is recorded (test_backup_job #145); the other two are
# the emulator's choice (the portal's names for the restore options).
JOB_TYPES = {"RestoreDisks": "Recover disks", "AlternateLocation": "Create new virtual machine",
             "OriginalLocation": "Replace existing disks"}


def start_restore(emu, vault, item, restore, now, crr_region=None):
    """The Restore (or CrossRegionRestore) job: property bags as recorded, completion event."""
    from .. import model
    bag = {"Job Type": JOB_TYPES[restore["type"]],
           # test_backup_job #145: restore-disks reports the literal "vmName"
           "Target VM Name": restore.get("target_vm") if restore["type"] != "RestoreDisks" else "vmName",
           "Target Storage Account Name": restore["staging"],
           "Recovery point time ": rp_time_text(restore["rp_time"])}
    if restore.get("target_rg"):
        bag["Target resource group"] = restore["target_rg"]
    internal = {"restoreLocationType": restore["type"]}
    if crr_region:
        bag.update({"Subscription Id of the vault": vault["sub"],
                    "Resource Group Name of the vault": vault["rg"], "Vault name": vault["name"]})
        internal = {"AdHoc": "AdHoc", "restoreLocationType": restore["type"]}
    size = sum(d["size_gb"] for d in (restore.get("disks") or {}).get("disks", [])) or 30
    base, per_gb = RESTORE_SECONDS["crr" if crr_region else "primary"]
    seconds = base + per_gb * size
    job = model.new_job(emu, vault, "CrossRegionRestore" if crr_region else "Restore", item,
                        seconds=seconds, property_bag=bag, now=now)
    job["restore"] = dict(restore, internal=internal)
    if crr_region:
        job["crr"] = crr_region
    emu.store.put("jobs", job_key_of(vault, job["id"]), job)
    return job


def job_key_of(vault, job_id):
    return job_key(vault_key(vault["sub"], vault["rg"], vault["name"]), job_id)


def restore_done(emu, job, when):
    """A restore job's end (JOB_DONE): the blobs Azure reports for restore-disks (test_backup_crr
    #189: Config Blob Name / Container Name / Uri, Template Blob Uri), then the resources."""
    from .. import model
    restore = job["restore"]
    if job["status"] == "Completed" and restore["type"] == "RestoreDisks":
        container = "%s-%s" % (restore["source_vm"].lower().replace("-", "")[:14], job["id"].replace("-", ""))
        base = "https://%s.blob.core.windows.net/%s/" % (restore["staging"], container)
        config = "config-%s-%s.json" % (restore["source_vm"].lower(), job["id"])
        job["property_bag"].update({
            "Config Blob Name": config, "Config Blob Container Name": container,
            "Config Blob Uri": base + config,
            "Template Blob Uri": base + "azuredeploy%s.json" % job["id"]})
        emu.store.put("jobs", job_key_of_vkey(job), job)
    model.complete_restore(emu, job, when)


def job_key_of_vkey(job):
    return job_key(job["vault"], job["id"])
