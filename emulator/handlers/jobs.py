"""Backup jobs and the Backup service's asynchronous operations.

An operation (the 202 of a PUT/POST/DELETE on a protected item) only
acknowledges the request and names its job; the job does the work.  Both are
timed in Azure seconds and scaled by --time-scale.  The same operation id is
answered at the item level (P/operationsStatus, P/operationResults) and at the
vault level (V/backupOperations, V/backupOperationResults), as the az CLI mixes
them.  Job reads count against Azure Backup's 150-per-hour limit.
"""

import uuid
from datetime import timedelta

from ..arm import ArmError, Response, SENTINEL_TIME, gateway_error, iso, iso_duration, page, parse_iso
from ..routing import arm
from .common import vault_id
from .vaults import V, require_vault, vault_key

OP_ACK_SECONDS = 8
JOB_SECONDS = {"ConfigureBackup": 40, "DisableBackup": 30, "DeleteBackupData": 111,
               "Undelete": 35, "Register": 20}
SNAPSHOT_SECONDS = 455
TRANSFER_SECONDS = 2018
JOB_STATUSES = ("InProgress", "Completed", "Failed", "CompletedWithWarnings", "Cancelled",
                "Cancelling")
OPERATIONS = ("Register", "UnRegister", "ConfigureBackup", "Backup", "Restore", "DisableBackup",
              "DeleteBackupData", "CrossRegionRestore", "Undelete", "UpdateCustomerManagedKey")

# Called when a job ends: operation -> func(emu, job, when).
JOB_DONE = {}


def job_key(vkey, job_id):
    return "%s/%s" % (vkey, job_id.lower())


def op_key(vkey, op_id):
    return "%s/%s" % (vkey, op_id.lower())


def new_job(emu, vault, operation, item, outcome=None, seconds=None, property_bag=None,
            tasks=None, now=None):
    """Start a job; ``outcome`` says how it will end ({"status", "error"})."""
    now = now or emu.clock.now()
    vkey = vault_key(vault["sub"], vault["rg"], vault["name"])
    job_id = str(uuid.uuid4())
    if seconds is None:
        seconds = JOB_SECONDS.get(operation, 30)
    end = emu.clock.later(seconds)
    job = {
        "id": job_id, "vault": vkey, "operation": operation, "status": "InProgress",
        "entity": item["vm_name"], "container": item["container"], "item": item["key"],
        "vm_id": item["vm_id"], "start": iso(now), "end": iso(end),
        "azure_seconds": seconds, "outcome": outcome or {"status": "Completed"},
        "property_bag": property_bag or {"VM Name": item["vm_name"]},
        "tasks": tasks or [], "activity_id": str(uuid.uuid4()),
    }
    emu.store.put("jobs", job_key(vkey, job_id), job)
    emu.scheduler.at(end, "job_done", job=job_key(vkey, job_id))
    return job


def new_op(emu, vault, kind, item=None, job=None, error=None, seconds=OP_ACK_SECONDS, now=None):
    """Register an operation that succeeds (or fails with ``error``) after ``seconds``."""
    now = now or emu.clock.now()
    vkey = vault_key(vault["sub"], vault["rg"], vault["name"])
    op_id = str(uuid.uuid4())
    end = emu.clock.later(seconds) if seconds else now     # 0: done when it starts
    op = {"id": op_id, "vault": vkey, "kind": kind, "status": "InProgress", "start": iso(now),
          "end": iso(end), "job": job["id"] if job else None, "error": error,
          "item": item["key"] if item else None}
    emu.store.put("ops", op_key(vkey, op_id), op)
    emu.scheduler.at(end, "op_done", op=op_key(vkey, op_id))
    return op


def op_headers(ctx, vault, op, item_path=None):
    """Azure-AsyncOperation / Location / Retry-After for a 202."""
    v = vault_id(vault["sub"], vault["rg"], vault["name"])
    if item_path:
        status = item_path + "/operationsStatus/" + op["id"]
        result = item_path + "/operationResults/" + op["id"]
    else:
        status = v + "/backupOperations/" + op["id"]
        result = v + "/backupOperationResults/" + op["id"]
    return {"Azure-AsyncOperation": ctx.url(status), "Location": ctx.url(result),
            "Retry-After": ctx.emu.clock.retry_after(OP_ACK_SECONDS)}


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


def register_events(emu):
    def job_done(when, job):
        doc = emu.store.get("jobs", job)
        if doc is None or doc["status"] not in ("InProgress",):
            return
        outcome = doc.get("outcome") or {"status": "Completed"}
        doc["status"] = outcome["status"]
        doc["ended"] = iso(when)
        if outcome.get("error"):
            doc["error"] = outcome["error"]
        if outcome.get("property_bag"):
            doc["property_bag"].update(outcome["property_bag"])
        emu.store.put("jobs", job, doc)
        handler = JOB_DONE.get(doc["operation"])
        if handler is not None:
            handler(emu, doc, when)

    def op_done(when, op):
        doc = emu.store.get("ops", op)
        if doc is None or doc["status"] != "InProgress":
            return
        doc["status"] = "Failed" if doc.get("error") else "Succeeded"
        emu.store.put("ops", op, doc)
        if doc.get("kind") == "cancel" and doc.get("job"):
            job = emu.store.get("jobs", job_key(doc["vault"], doc["job"]))
            if job is not None and job["status"] == "Cancelling":
                job["status"] = "Cancelled"
                job["ended"] = iso(when)
                emu.store.put("jobs", job_key(doc["vault"], doc["job"]), job)

    emu.scheduler.on("job_done", job_done)
    emu.scheduler.on("op_done", op_done)


# -- operation endpoints (item level and vault level) ----------------------------

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
        headers["Retry-After"] = ctx.emu.clock.retry_after(OP_ACK_SECONDS)
    return Response(200, op_status_body(doc), headers)


def op_result(ctx, sub, rg, vault, op, self_path, item_body=None):
    require_vault(ctx.store, sub, rg, vault)
    doc = _find_op(ctx, sub, rg, vault, op)
    if doc["status"] == "InProgress":
        headers = {"Location": ctx.url(self_path),
                   "Retry-After": ctx.emu.clock.retry_after(OP_ACK_SECONDS)}
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


def jobs_of_vault(store, vkey):
    prefix = vkey + "/"
    return [j for k, j in store.items("jobs") if k.startswith(prefix)]


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
    from .odata import parse_filter
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
        "Retry-After": ctx.emu.clock.retry_after(OP_ACK_SECONDS)})


@arm("GET", V + "/backupjobs/<job>/operationsstatus/<op>")
def job_op_status(ctx, sub, rg, vault, job, op):
    return op_status(ctx, sub, rg, vault, op)


@arm("GET", V + "/backupjobs/<job>/operationresults/<op>")
def job_op_result(ctx, sub, rg, vault, job, op):
    return op_result(ctx, sub, rg, vault, op, ctx.request.path)
