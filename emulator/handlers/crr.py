"""Cross-region restore: the secondary (paired) region's endpoints, api-version 2021-11-15.

The az CLI's --use-secondary-region flow, recorded in test_backup_crr.yaml (#135-#189):
the secondary copy of the recovery points (backups.py answers the vault paths at 2021-11-15),
GET locations/{region}/backupAadProperties, POST .../recoveryPoints/{rp}/accessToken (a
CrrAccessToken), POST locations/{region}/backupCrossRegionRestore (202; Azure-AsyncOperation at
backupCrrOperationsStatus/{id}, Location at backupCrrOperationResults/{id}), the operation status
naming the CrossRegionRestore job, and that job read with POST locations/{region}/backupCrrJob
({resourceId: vault id, jobName}) or listed with POST locations/{region}/backupCrrJobs.

Only a GeoRedundant vault with crossRegionRestore on may do this, and only into its paired region
(emulator/regions.py, Azure's published pairs).
"""

import base64
import json
import uuid

from .. import model, regions
from ..arm import ArmError, Response, load_json_body, obj, page, parse_iso
from ..queries import jobs_of_vault, op_key, parse_id, vault_key
from ..routing import arm
from .common import (P, check_restore, job_body, op_status_body, require_item, require_vault,
                     restore_done, restore_point, rp_time_text, start_restore)
from .odata import filter_time, parse_filter

LOC = "/subscriptions/<sub>/providers/microsoft.recoveryservices/locations/<loc>"


def _loc_path(sub, loc):
    return "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/%s" % (sub, loc)


def _paired(vault):
    region = regions.known(vault["location"])
    return region.paired[0] if region and region.paired else None


def _require_crr(vault, loc=None):
    """Cross-region restore on, and ``loc`` the vault's paired region. The codes are the
    emulator's choice (no recording shows these refusals); the vault's own PATCH refusal is
    BMSUserErrorCrossRegionRestoreNotSupportedForStorageType (model.set_redundancy)."""
    storage = vault["storage"]
    if storage["type"] != "GeoRedundant" or not storage.get("crr"):
        raise ArmError(400, "BMSUserErrorCrossRegionRestoreNotEnabled",
                       "Cross Region Restore is not enabled on the vault '%s' (storage %s, "
                       "crossRegionRestore %s). Enable it on a GeoRedundant vault first." % (
                           vault["name"], storage["type"], "Enabled" if storage.get("crr") else "Disabled"))
    paired = _paired(vault)
    if loc is not None and regions.normalize(loc) != paired:
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "'%s' is not the secondary region of the vault '%s' (in '%s'); its paired "
                       "region is '%s'." % (loc, vault["name"], vault["location"], paired))
    return paired


def _vault_of_id(ctx, resource_id):
    parts = parse_id(resource_id)
    if parts is None or (parts["type"] or "").lower() != "vaults" or parts["rg"] is None:
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "resourceId '%s' is not a Recovery Services vault id." % resource_id)
    return require_vault(ctx.store, parts["sub"], parts["rg"], parts["name"])


@arm("GET", LOC + "/backupaadproperties")
def aad_properties(ctx, sub, loc):
    """test_backup_crr #144: the tenant, the audience and the Backup service principal."""
    return Response(200, {"properties": {
        "tenantId": ctx.emu.identity.tenant_id,
        "audience": "https://RecoveryServices/IaasCoord/aadmgmt/%s" % regions.normalize(loc),
        "servicePrincipalObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, "backup-sp/" + sub.lower()))}})


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _token(vault, item, rp):
    """A JWT-shaped token, as Azure's (test_backup_crr #145); its claims name the point (unsigned:
    the emulator only reads them back)."""
    return "%s.%s.%s" % (_b64({"alg": "none", "typ": "JWT"}), _b64({
        "v": vault_key(vault["sub"], vault["rg"], vault["name"]), "i": item["key"], "rp": rp["id"]}),
        _b64({"emulator": True}))


@arm("POST", P + "/recoverypoints/<rp>/accesstoken")
def access_token(ctx, sub, rg, vault, fabric, container, item, rp):
    """test_backup_crr #145: the CrrAccessToken the secondary region's restore takes."""
    doc, _, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    _require_crr(doc)
    point = restore_point(found, rp, ctx.now, secondary=True)
    stamp = str(int(uuid.uuid5(uuid.NAMESPACE_URL, found["key"]).int % 10 ** 15))
    return Response(200, {"properties": {
        "objectType": "CrrAccessToken", "accessTokenString": _token(doc, found, point),
        "subscriptionId": doc["sub"], "resourceGroupName": doc["rg"], "resourceName": doc["name"],
        "resourceId": str(uuid.uuid5(uuid.NAMESPACE_URL, vault_key(doc["sub"], doc["rg"], doc["name"])).int % 10 ** 19),
        "protectionContainerId": int(stamp[:7]), "recoveryPointId": point["id"],
        "recoveryPointTime": rp_time_text(point["time"]),
        "containerName": found["container"], "containerType": "IaasVMContainer",
        "backupManagementType": "AzureIaasVM", "datasourceType": "VM",
        "datasourceName": found["vm_name"], "datasourceId": stamp,
        "datasourceContainerName": found["container"],
        "coordinatorServiceStampUri": "https://pod01-coord1.%s.backup.windowsazure.com" % doc["location"],
        "protectionServiceStampId": str(uuid.uuid5(uuid.NAMESPACE_URL, doc["location"])),
        "protectionServiceStampUri": "https://pod01-prot1.%s.backup.windowsazure.com" % doc["location"],
        "tokenExtendedInformation": "",
        "rpTierInformation": {"InstantRP": "Valid", "HardenedRP": "Valid"},
        "rpOriginalSAOption": False, "rpIsManagedVirtualMachine": True,
        "rpVMSizeDescription": point.get("vm_size") or "", "bMSActiveRegion": doc["location"]}})


def _from_token(ctx, details):
    try:
        claims = str(details.get("accessTokenString", "")).split(".")[1]
        data = json.loads(base64.urlsafe_b64decode((claims + "=" * (-len(claims) % 4)).encode()))
        vkey, ikey, rp = data["v"], data["i"], data["rp"]
    except (ValueError, KeyError, TypeError, IndexError):
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "crossRegionRestoreAccessDetails.accessTokenString is not a valid access token; "
                       "get one from the recovery point's accessToken call.") from None
    vault = ctx.store.get("vaults", vkey)
    item = ctx.store.get("items", ikey)
    if vault is None or item is None:
        raise ArmError(404, "BMSUserErrorDataSourceObjectNotFound",
                       "The vault or item the access token names no longer exists.")
    return vault, item, rp


@arm("POST", LOC + "/backupcrossregionrestore")
def cross_region_restore(ctx, sub, loc):
    body = load_json_body(ctx.request)
    details = obj(body.get("crossRegionRestoreAccessDetails"), "crossRegionRestoreAccessDetails")
    request = obj(body.get("restoreRequest"), "restoreRequest")
    vault, item, rp_name = _from_token(ctx, details)
    region = _require_crr(vault, loc)
    point = restore_point(item, rp_name, ctx.now, secondary=True)
    restore = check_restore(ctx.store, vault, item, point, request, ctx.now, region, secondary=True)
    job = start_restore(ctx.emu, vault, item, restore, ctx.now, crr_region=region)
    # test_backup_crr #146: the operation id is base64 of '<vault number>;<uuid>' (URL-safe
    # alphabet here: a '/' would split the path).
    op_id = base64.urlsafe_b64encode(("%d;%s" % (uuid.uuid5(uuid.NAMESPACE_URL, vault["name"]).int % 10 ** 19,
                                          uuid.uuid4())).encode()).decode()
    op = model.new_op(ctx.emu, vault, "crr", item, job, seconds=0, op_id=op_id)
    ctx.store.put("crrops", op_id, {"op": op_key(job["vault"], op["id"])})
    base = _loc_path(sub, loc)
    return Response(202, None, {
        "Azure-AsyncOperation": ctx.url(base + "/backupCrrOperationsStatus/" + op_id),
        "Location": ctx.url(base + "/backupCrrOperationResults/" + op_id),
        **ctx.emu.clock.retry_header(model.OP_ACK_SECONDS, model.BACKUP_RETRY_AFTER)})


def _crr_op(ctx, op_id):
    ref = ctx.store.get("crrops", op_id)
    doc = ctx.store.get("ops", ref["op"]) if ref else None
    if doc is None:
        raise ArmError(404, "BMSUserErrorOperationNotFound",
                       "The operation '%s' was not found. Please check the operation id." % op_id)
    return doc


@arm("GET", LOC + "/backupcrroperationsstatus/<op>")
def crr_operation_status(ctx, sub, loc, op):
    """test_backup_crr #147: the status body with the full id under the location."""
    doc = _crr_op(ctx, op)
    body = op_status_body(doc)
    body["id"] = _loc_path(sub, loc) + "/backupCrrOperationsStatus/" + op
    return Response(200, body)


@arm("GET", LOC + "/backupcrroperationresults/<op>")
def crr_operation_result(ctx, sub, loc, op):
    doc = _crr_op(ctx, op)
    if doc["status"] == "InProgress":
        return Response(202, None, {"Location": ctx.url(ctx.request.path)})
    if doc["status"] == "Failed":
        raise ArmError(400, doc["error"]["code"], doc["error"]["message"])
    return Response(200, None)


def _crr_jobs(ctx, vault):
    return [j for j in jobs_of_vault(ctx.store, vault_key(vault["sub"], vault["rg"], vault["name"]))
            if j.get("crr")]


@arm("POST", LOC + "/backupcrrjob")
def crr_job(ctx, sub, loc):
    """test_backup_crr #148-#189: POST {resourceId, jobName} -> the job, id under the location."""
    body = load_json_body(ctx.request)
    vault = _vault_of_id(ctx, body.get("resourceId"))
    _require_crr(vault, loc)
    name = str(body.get("jobName") or "")
    for job in _crr_jobs(ctx, vault):
        if job["id"].lower() == name.lower():
            return Response(200, job_body(ctx, job, True, ctx.now))
    raise ArmError(404, "BMSUserErrorJobNotFound",
                   "Job with the given id '%s' was not found in the secondary region." % name)


@arm("POST", LOC + "/backupcrrjobs")
def crr_jobs(ctx, sub, loc):
    """POST {resourceId} (spec CrrJobs_List): the vault's cross-region restore jobs, newest first;
    $filter on status, operation, startTime, endTime as the vault's job list."""
    body = load_json_body(ctx.request)
    vault = _vault_of_id(ctx, body.get("resourceId"))
    _require_crr(vault, loc)
    jobs = _crr_jobs(ctx, vault)
    for key, _op, value in parse_filter(ctx.request.args.get("$filter"), allowed={
            "status", "operation", "backupmanagementtype", "starttime", "endtime"}):
        if key == "status":
            jobs = [j for j in jobs if j["status"] == value]
        elif key == "operation":
            jobs = [j for j in jobs if j["operation"] == value]
        elif key in ("starttime", "endtime"):
            when = filter_time(value)       # the vault's job filter's times (the az CLI's format)
            jobs = [j for j in jobs if (parse_iso(j["start"]) >= when if key == "starttime"
                                        else parse_iso(j["start"]) <= when)]
    jobs.sort(key=lambda j: j["start"], reverse=True)
    now = ctx.now
    return Response(200, page([job_body(ctx, j, False, now) for j in jobs], ctx.request,
                              ctx.base_url, ctx.emu.page_size))


def register_events(emu):
    model.JOB_DONE["CrossRegionRestore"] = restore_done
