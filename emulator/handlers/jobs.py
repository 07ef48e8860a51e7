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

from ..arm import ArmError, Response, gateway_error, page, parse_iso
from ..model import BACKUP_RETRY_AFTER, OP_ACK_SECONDS, new_op
from ..queries import job_key, jobs_of_vault, vault_key
from ..routing import arm
from .common import V, job_body, op_result, op_status, require_vault, vault_id
from .odata import filter_time, parse_filter

JOB_STATUSES = ("InProgress", "Completed", "Failed", "CompletedWithWarnings", "Cancelled",
                "Cancelling")
OPERATIONS = ("Register", "UnRegister", "ConfigureBackup", "Backup", "Restore", "DisableBackup",
              "DeleteBackupData", "CrossRegionRestore", "Undelete", "UpdateCustomerManagedKey")


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


@arm("GET", V + "/backupjobs")
def list_jobs(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"), allowed={
        "status", "operation", "backupmanagementtype", "starttime", "endtime", "jobid"})
    _count_job_read(ctx, sub)
    # Cross-region restore jobs run in the paired region: backupCrrJobs lists them (crr.py).
    jobs = [j for j in jobs_of_vault(ctx.store, vault_key(doc["sub"], doc["rg"], doc["name"]))
            if not j.get("crr")]
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
            start = filter_time(value)
        elif key == "endtime":
            end = filter_time(value)
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
    if found is None or found.get("crr"):
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
    if found["status"] != "InProgress" or found["operation"] not in ("Backup", "Restore"):
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
