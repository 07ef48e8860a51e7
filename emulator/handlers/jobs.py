"""Backup jobs (list, get, cancel) and the vault-level operation endpoints.

Jobs and operations are started in model.py (new_job, new_op); the item-level operation
endpoints are in protecteditems.py, both answered by common.op_status / op_result.

An operation (the 202 of a PUT/POST/DELETE on a protected item) only
acknowledges the request and names its job; the job does the work.  Both are
timed in Azure seconds and scaled by --time-scale.  The same operation id is
answered at the item level (P/operationsStatus, P/operationResults) and at the
vault level (V/backupOperations, V/backupOperationResults), as the az CLI mixes
them.  Job reads count against Azure Backup's 150-per-hour limit.
"""

from datetime import timedelta

from ..arm import ArmError, Response, SENTINEL_TIME, gateway_error, iso, iso_duration, page, parse_iso
from ..model import BACKUP_RETRY_AFTER, OP_ACK_SECONDS, new_op
from ..queries import job_key, jobs_of_vault, vault_key
from ..routing import arm
from .common import V, op_result, op_status, require_vault, vault_id
from .odata import parse_filter

JOB_STATUSES = ("InProgress", "Completed", "Failed", "CompletedWithWarnings", "Cancelled",
                "Cancelling")
OPERATIONS = ("Register", "UnRegister", "ConfigureBackup", "Backup", "Restore", "DisableBackup",
              "DeleteBackupData", "CrossRegionRestore", "Undelete", "UpdateCustomerManagedKey")


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
    # Real backup jobs keep actionsInfo once Completed (recordings test_backup_job, Learn capture).
    if job["status"] in ("InProgress", "Completed") and job["operation"] == "Backup":
        props["actionsInfo"] = ["Cancellable"]
    props["containerName"] = job["container"]
    # Durations follow the (wall-clock) start and end times the job reports.
    finished = parse_iso(job.get("ended", job["end"])) if job["status"] not in (
        "InProgress", "Cancelling") else now
    props["duration"] = iso_duration((finished - start).total_seconds())
    props["virtualMachineVersion"] = "Compute"
    if detail:
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
    return {"id": vault_path + "/backupJobs/" + job["id"], "name": job["id"],
            "type": "Microsoft.RecoveryServices/vaults/backupJobs", "properties": props}


def _vault_path_of(vkey, emu_like):
    emu = getattr(emu_like, "emu", emu_like)
    vault = emu.store.get("vaults", vkey)
    if vault is not None:
        return vault_id(vault["sub"], vault["rg"], vault["name"])
    sub, rg, name = vkey.split("/", 2)
    return vault_id(sub, rg, name)


# -- operation endpoints (item level and vault level) ----------------------------


@arm("GET", V + "/backupoperations/<op>")
def vault_op_status(ctx, sub, rg, vault, op):
    return op_status(ctx, sub, rg, vault, op)


@arm("GET", V + "/backupoperationresults/<op>")
def vault_op_result(ctx, sub, rg, vault, op):
    return op_result(ctx, sub, rg, vault, op, ctx.request.path)


# -- jobs --------------------------------------------------------------------------

def _count_job_read(ctx, sub):
    allowed, retry = ctx.emu.faults.take_job_read(ctx.principal["client_id"], sub.lower())
    if not allowed:
        raise gateway_error(
            429, "ResourceRequestsThrottled",
            "Number of requests for action 'Microsoft.RecoveryServices/vaults/backupJobs/read' "
            "exceeded the limit of '%d' for time interval '01:00:00'. Please try again after '%d' "
            "seconds." % (ctx.emu.faults.job_reads_per_hour, retry),
            headers={"Retry-After": str(retry)})


def _parse_filter_time(text):
    from datetime import datetime, timezone
    for fmt in ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    # Hour 00 with AM/PM, as in the spec example ListJobsWithAllSupportedFilters
    # ('2016-01-01 00:00:00 AM'), which %I refuses: 00 AM is midnight, 00 PM noon.
    head, _, meridiem = text.rpartition(" ")
    if meridiem.upper() in ("AM", "PM"):
        try:
            when = datetime.strptime(head, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            when = None
        if when is not None and when.hour == 0:
            return when.replace(hour=12 if meridiem.upper() == "PM" else 0, tzinfo=timezone.utc)
    raise ArmError(400, "BMSUserErrorInvalidFilter",
                   "The time '%s' in the filter is not in a valid format." % text)


@arm("GET", V + "/backupjobs")
def list_jobs(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"), allowed={
        "status", "operation", "backupmanagementtype", "starttime", "endtime", "jobid"})
    _count_job_read(ctx, sub)
    jobs = jobs_of_vault(ctx.store, vault_key(doc["sub"], doc["rg"], doc["name"]))
    start = end = None
    for key, op, value in clauses:
        if key == "status":
            if value not in JOB_STATUSES:
                raise ArmError(400, "BMSUserErrorInvalidFilter",
                               "The job status '%s' in the filter is not valid." % value)
            jobs = [j for j in jobs if j["status"] == value]
        elif key == "operation":
            if value not in OPERATIONS:
                raise ArmError(400, "BMSUserErrorInvalidFilter",
                               "The operation '%s' in the filter is not valid." % value)
            jobs = [j for j in jobs if j["operation"] == value]
        elif key == "backupmanagementtype":
            jobs = [j for j in jobs if value == "AzureIaasVM"]
        elif key == "jobid":
            jobs = [j for j in jobs if j["id"].lower() == value.lower()]
        elif key == "starttime":
            start = _parse_filter_time(value)
        elif key == "endtime":
            end = _parse_filter_time(value)
    if start is not None:
        jobs = [j for j in jobs if parse_iso(j["start"]) >= start]
    if end is not None:
        jobs = [j for j in jobs if parse_iso(j["start"]) <= end]
    jobs.sort(key=lambda j: j["start"], reverse=True)
    now = ctx.now
    items = [job_body(ctx, j, False, now) for j in jobs]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


def _require_job(ctx, sub, rg, vault, job):
    doc = require_vault(ctx.store, sub, rg, vault)
    found = ctx.store.get("jobs", job_key(vault_key(doc["sub"], doc["rg"], doc["name"]), job))
    if found is None:
        raise ArmError(404, "BMSUserErrorJobNotFound",
                       "Job with the given id '%s' was not found in the vault." % job)
    return doc, found


@arm("GET", V + "/backupjobs/<job>")
def get_job(ctx, sub, rg, vault, job):
    _count_job_read(ctx, sub)
    _, found = _require_job(ctx, sub, rg, vault, job)
    return Response(200, job_body(ctx, found, True, ctx.now))


@arm("POST", V + "/backupjobs/<job>/cancel")
def cancel_job(ctx, sub, rg, vault, job):
    vault_doc, found = _require_job(ctx, sub, rg, vault, job)
    if found["status"] != "InProgress" or found["operation"] != "Backup":
        raise ArmError(400, "BMSUserErrorJobNotCancellable",
                       "The job cannot be cancelled in its current state (%s)." % found["status"])
    found["status"] = "Cancelling"
    ctx.store.put("jobs", job_key(vault_key(sub, rg, vault), job), found)
    op = new_op(ctx.emu, vault_doc, "cancel", job=found, seconds=OP_ACK_SECONDS)
    base = vault_id(vault_doc["sub"], vault_doc["rg"], vault_doc["name"]) + "/backupJobs/" + found["id"]
    return Response(202, None, {
        "Azure-AsyncOperation": ctx.url(base + "/operationsStatus/" + op["id"]),
        "Location": ctx.url(base + "/operationResults/" + op["id"]),
        **ctx.emu.clock.retry_header(OP_ACK_SECONDS, BACKUP_RETRY_AFTER)})


@arm("GET", V + "/backupjobs/<job>/operationsstatus/<op>")
def job_op_status(ctx, sub, rg, vault, job, op):
    return op_status(ctx, sub, rg, vault, op)


@arm("GET", V + "/backupjobs/<job>/operationresults/<op>")
def job_op_result(ctx, sub, rg, vault, job, op):
    return op_result(ctx, sub, rg, vault, op, ctx.request.path)
