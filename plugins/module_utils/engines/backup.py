# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""On-demand backups of Azure VMs: the retain-until rules, the pre-checks, the trigger and its
job id, and the lost response.

Requests per run: ONE list of the vault's protected items and ONE list of its in-progress backup
jobs, whatever the number of VMs; then per VM the POST .../backup and one GET of the operation status
(vault level, as the az CLI's track_backup_job does) that names the job.  Right before each trigger
the VM's protected item is checked again (Recheck: a backup that ended since the plan, another
run's, is not taken twice) on a view of the vault's items at most FRESH_SECONDS old: the plan's list
while it is that fresh (a batch triggered at once costs nothing more), then ONE re-list of the
vault's items (one request per 200-item page) shared by every trigger of the next FRESH_SECONDS -
never a GET per VM.  A VM whose backup already runs is not triggered again: its running job is
returned.  A POST whose response is lost
(the connection dropped after Azure may have accepted it) is never repeated blindly: the vault's
backup jobs started since the trigger are listed first, and the POST is only repeated when none
belongs to that VM.

FOR INTERNAL COLLECTION USE ONLY.
"""

import threading
from datetime import timedelta, timezone

from ..core import waiting
from ..core.batch import run_batch
from ..core.errors import REMEDIATION, AzureBackupError, listed, of_sdk
from ..core.transform import as_dict, iso_utc, parse_id, parse_time
from ..resources import jobs, protection, vms

FABRIC = "Azure"
DEFAULT_RETENTION = timedelta(days=30)
# "Maximum expiry time for a recovery point: No limit (99 years)" (Azure VM backup support matrix,
# learn.microsoft.com/azure/backup/backup-support-matrix-iaas, "Backup frequency and retention").
MAX_RETENTION_DAYS = 99 * 365
OPERATION_WAIT = 300        # seconds Azure may take to acknowledge a trigger with its job id
STOPPED = ("ProtectionStopped", "BackupsSuspended")
POST_TOLERANCE = timedelta(seconds=1)   # a job that ended before the lost POST is not its job
BUSY = "UserErrorBackupOperationInProgress"
# How old (host seconds, monotonic: a duration, so the host's clock skew plays no part) a view of the
# vault's protected items may be when a VM's backup is started on it (Recheck).  Far shorter than any
# Azure VM backup from its start to its end (the shortest that ends, a failure, takes a minute or
# more; the emulator's Key Vault failure lasts 120 s of Azure time, 1.2 s at the time scale 0.01 of the
# concurrent-runs test): a backup missing from the view cannot have started AND ended before the trigger,
# and one still running makes Azure refuse the trigger (adopt_running).
FRESH_SECONDS = 1.0


def retain_until(value, now):
    """The recovery point's expiry (aware UTC datetime) from O(retain_until); validated, no Azure call."""
    if value is None or value == "":
        return now + DEFAULT_RETENTION
    text = str(value).strip()
    try:
        when = jobs.parse_when(text, "retain_until")
    except AzureBackupError:
        raise AzureBackupError(
            "retain_until %r is not a date: give YYYY-MM-DD (the recovery point is kept until 00:00 UTC of "
            "that day) or an ISO 8601 date and time such as 2030-01-31T18:00:00Z." % (text,),
            code="InvalidRetainUntil") from None
    if when <= now:
        raise AzureBackupError(
            "retain_until %s is not in the future (now is %s UTC): the recovery point would expire at once."
            % (text, now.strftime("%Y-%m-%d %H:%M")), code="InvalidRetainUntil")
    latest = now + timedelta(days=MAX_RETENTION_DAYS)
    if when > latest:
        raise AzureBackupError(
            "retain_until %s is beyond Azure's limit: a recovery point expires at most 99 years (%d days) "
            "from now, that is by %s." % (text, MAX_RETENTION_DAYS, latest.strftime("%Y-%m-%d")),
            code="InvalidRetainUntil")
    return when


def expiry_text(when):
    """The wire format the az CLI sends (2024-06-12T00:00:00.000Z)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Entry(vms.VmResult):
    """One VM of the run: its protected item, the job started or found, or its error."""

    __slots__ = ("item", "job_key", "retain_until", "lost", "skipped", "read_at")

    def __init__(self, ref):
        super().__init__(ref)
        self.read_at = None     # when (waiting.CLOCK) the list that gave ``item`` was answered
        self.skipped = None
        self.item = None
        self.job_key = None
        self.retain_until = None
        self.lost = None


def item_path(item):
    """(container, protected item) names from the protected item's id."""
    parts = parse_id(item.get("id"))
    names = {parts.get("child_type_%d" % n, "").lower(): parts.get("child_name_%d" % n)
             for n in range(1, (parts.get("last_child_num") or 0) + 1)}
    return names["protectioncontainers"], names["protecteditems"]


def _vault_missing(err, vault_name, resource_group):
    if err.status == 404 and err.code in ("ResourceNotFound", "ResourceGroupNotFound"):
        return AzureBackupError("Vault %s does not exist in resource group %s." % (vault_name, resource_group),
                                code="ResourceNotFound", remediation="Create it first with backupops.azure.rs_vault.")
    return err


def recovery_point_time(item):
    """When the item's latest recovery point was taken, or None when it has none yet."""
    props = item.get("properties") or {}
    count = (props.get("extendedInfo") or {}).get("recoveryPointCount") or 0
    return props.get("lastRecoveryPoint") or (props.get("lastBackupTime") if count else None)


def last_failed(item):
    """The time of the item's last backup when it failed, or None."""
    props = (item or {}).get("properties") or {}
    if props.get("lastBackupStatus") != "Failed":
        return None
    return iso_utc(parse_time(props.get("lastBackupTime"))) or "time unknown"


def plan(module, resource_group, vault_name, refs, initial_only=False, retry_failed=True):
    """Entries for the VMs, and the vault's running backup jobs ({lower-case id: job}), in two reads.
    With ``initial_only`` a VM that already has a recovery point is skipped (its initial backup is done),
    and without ``retry_failed`` one whose initial backup failed (its cause needs a fix first)."""
    try:
        by_vm = protection.protected_items(module, resource_group, vault_name)
    except AzureBackupError as err:
        raise _vault_missing(err, vault_name, resource_group) from None
    read_at = waiting.CLOCK()       # a view's age counts from its answer (Recheck says why)
    entries = [Entry(ref) for ref in refs]
    for entry in entries:
        entry.item, entry.read_at = by_vm.get(entry.ref.key), read_at
        entry.error = _not_ready(entry, vault_name)
        if initial_only and entry.error is None and recovery_point_time(entry.item):
            entry.skipped = "the initial backup is done: a recovery point exists (%s)" % recovery_point_time(entry.item)
        elif initial_only and not retry_failed and entry.error is None and last_failed(entry.item):
            entry.skipped = "the initial backup failed (%s) and is not tried again (retry_failed: false)" % (
                last_failed(entry.item))
    _not_found(module, entries)
    running = {}
    if any(e.error is None and not e.skipped for e in entries):
        found = jobs.list_jobs(module, resource_group, vault_name, operation="Backup", status="InProgress")
        by_vm_job = {}
        for job in found:
            vm = (jobs.vm_of(job) or "").lower()
            by_vm_job.setdefault(vm, job)
        for entry in entries:
            job = by_vm_job.get(entry.ref.label.lower()) if entry.error is None and not entry.skipped else None
            if job is not None:
                entry.job_key = jobs.job_key(job)
                running[entry.job_key] = job
    return entries, running


def _not_found(module, entries):
    """A VM the vault does not protect may not exist at all: VmNotFound then, not VmNotProtected (vms.existing:
    a GET for one VM, the first page of the subscription's VM list for a few, the whole list for more;
    nothing when every VM is protected)."""
    unprotected = [e for e in entries if e.item is None]
    if not unprotected:
        return
    found = vms.existing(module, [e.ref for e in unprotected])
    for entry in unprotected:
        if entry.ref not in found:
            entry.error = vms.not_found_error([entry.ref.label])


def _not_ready(entry, vault_name):
    label = entry.ref.label
    if entry.item is None:
        return AzureBackupError(
            "VM %s is not protected by vault %s: protect it first, then start its backup." % (label, vault_name),
            code="VmNotProtected", remediation="Enable its protection in vault %s with "
                                               "backupops.azure.vm_protection (or choose the vault that "
                                               "protects it)." % vault_name)
    props = entry.item.get("properties") or {}
    if props.get("isScheduledForDeferredDelete"):
        return AzureBackupError(
            "The backup item of VM %s in vault %s is soft-deleted: undelete it and resume protection "
            "before backing it up." % (label, vault_name), code="UserErrorOperationNotAllowedOnSoftDeletedItem")
    if props.get("protectionState") in STOPPED:
        return AzureBackupError(
            "Protection of VM %s is stopped in vault %s (%s): resume protection before backing it up."
            % (label, vault_name, props["protectionState"]), code="BMSUserErrorProtectionStopped")
    return None


# -- the trigger ------------------------------------------------------------------------------

class ResponseLost(Exception):
    """The trigger's answer is unknown: Azure may or may not have started the backup."""


# Answers to the trigger after which Azure may have started the backup (the POST is not repeated
# blindly: pacing.py does not repeat it, the vault's jobs say what happened).
UNCERTAIN_STATUS = frozenset([408, 500, 502, 503, 504])


def _post(module, resource_group, vault_name, entry, expiry):
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    client = module.client("backup")
    container, item = item_path(entry.item)
    body = {"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": expiry_text(expiry)}}
    action = "start the backup of VM %s" % entry.ref.label
    try:
        headers = client.backups.trigger(vault_name, resource_group, FABRIC, container, item, body,
                                         cls=lambda response, _body, _headers: response.http_response.headers)
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise ResponseLost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:  # pylint: disable=broad-exception-caught
        error = of_sdk(exc, action)
        if error.status in UNCERTAIN_STATUS:
            raise ResponseLost("%s (HTTP %s)" % (error.code, error.status)) from None
        raise error from None
    return waiting.operation_id(headers)


def job_of_operation(module, resource_group, vault_name, operation_id, label, sleep=None, clock=None, what="backup"):
    """The job id Azure names in the operation status (polled while the operation is in progress);
    ``what`` names the operation (backup, restore) in messages."""
    client = module.client("backup")

    def read():
        return as_dict(module.azure_call("read the %s operation of VM %s" % (what, label),
                                         client.backup_operation_statuses.get, vault_name, resource_group,
                                         operation_id))
    status, ended = waiting.poll(read, lambda s: waiting.outcome(s.get("status")) != "running",
                                 waiting.Deadline(OPERATION_WAIT, clock), waiting.backoff(1.0, 2.0, 10.0), sleep)
    if not ended:
        raise AzureBackupError("Azure did not name the job of the %s of VM %s within %d s (operation %s)."
                               % (what, label, OPERATION_WAIT, operation_id), code="OperationTimeout")
    if waiting.outcome(status.get("status")) == "failed":
        error = status.get("error") or {}
        code = error.get("code") or "OperationFailed"
        raise AzureBackupError("Azure refused the %s of VM %s: %s: %s"
                               % (what, label, code, error.get("message", "")), code=code,
                               remediation=REMEDIATION.get(code))
    job_id = (status.get("properties") or {}).get("jobId")
    if not job_id:
        raise AzureBackupError("Azure accepted the %s of VM %s but its operation %s names no job."
                               % (what, label, operation_id), code="JobIdMissing",
                               remediation="List the vault's jobs with backupops.azure.backup_job_info.")
    return job_id


class Recheck:
    """Right before a VM's backup is started, its protected item as Azure shows it then: a backup that
    ended since the task began - another run's, say - is not started a second time.  The plan's list
    of items is not enough by itself: under ARM's write budget a fleet's backups take minutes to start,
    and a backup may start and end meanwhile.

    Such a backup started after the plan's reads (one running then is in the plan's in-progress jobs and
    adopted, and Azure refuses a second backup while one runs: adopt_running), so it shows only on a
    view of the items read after it ended.  A view at most FRESH_SECONDS old at the trigger is enough:
    no backup starts and ends in that time.  The plan's list serves while it is that fresh; after it, one
    re-list of the vault's items (under a lock) serves every trigger of the next FRESH_SECONDS, and the
    triggers that waited for a re-list use it even when it took longer (it was answered after they
    needed it, as a GET of their own would have been).  A view's age counts from its answer, not from
    the request: the time before the request reaches Azure (a token to fetch, a connection to open, a
    busy host) is not Azure's, and counted, it made a batch re-list the items right after the plan's
    list on a loaded machine; the request's own round trip, which the answer's time leaves out, is a
    fraction of a second against a backup's minutes.  ``reads`` counts the re-lists."""

    def __init__(self, module, resource_group, vault_name, initial_only, clock=None):
        self.module = module
        self.resource_group = resource_group
        self.vault_name = vault_name
        self.initial_only = initial_only
        self.clock = clock or waiting.CLOCK
        self.reads = 0
        self._lock = threading.Lock()
        self._view, self._view_at = None, None

    def done_meanwhile(self, entry):
        """Why the VM's backup is not to be started any more, or None.  A backup ended since the plan read
        the items when the item's last backup is newer than it was then (Azure's times compared with
        Azure's: the host's clock plays no part)."""
        planned = parse_time(((entry.item or {}).get("properties") or {}).get("lastBackupTime"))
        if not self._fresh(entry.read_at, self.clock()):
            item, entry.read_at = self._item(entry)
            if item is not None:
                entry.item = item
        props = (entry.item or {}).get("properties") or {}
        last = parse_time(props.get("lastBackupTime"))
        if last is not None and (planned is None or last > planned):
            return "a backup of the VM ended (%s) at %s, since this task began" % (
                props.get("lastBackupStatus") or "status unknown", iso_utc(last))
        if self.initial_only and recovery_point_time(entry.item or {}):
            return "the initial backup is done: a recovery point exists (%s)" % recovery_point_time(entry.item)
        return None

    @staticmethod
    def _fresh(read_at, now):
        return read_at is not None and now - read_at <= FRESH_SECONDS

    def _item(self, entry):
        """The VM's item in a view of the vault's items fresh enough (re-listed when not), and the time
        that view was answered.  None when the vault no longer lists it (the plan's item serves)."""
        needed = self.clock()
        with self._lock:
            if self._view_at is None or not (self._view_at >= needed or self._fresh(self._view_at, self.clock())):
                self._view = protection.protected_items(self.module, self.resource_group, self.vault_name)
                self._view_at = self.clock()
                self.reads += 1
            return self._view.get(entry.ref.key), self._view_at


def trigger(module, resource_group, vault_name, entry, expiry, recheck=None):
    """Start one VM's backup; set entry.job_key.  A lost response is recorded, not raised."""
    skip = recheck.done_meanwhile(entry) if recheck is not None else None
    if skip:
        entry.skipped = skip
        return entry
    try:
        operation_id = _post(module, resource_group, vault_name, entry, expiry)
    except ResponseLost as lost:
        entry.lost = str(lost)
        return entry
    entry.job_key = job_of_operation(module, resource_group, vault_name, operation_id, entry.ref.label).lower()
    entry.changed = True
    return entry


def start(module, resource_group, vault_name, entries, expiry, concurrency, now=jobs.utcnow, deadline=None,
          initial_only=False, sleep=None):
    """Trigger the backups of ``entries`` concurrently, reconcile lost responses (each round, until the
    deadline: the VMs whose backup Azure did not start are triggered again); return the time (host
    clock, less the tolerated skew) from which the jobs started."""
    since = now() - jobs.CLOCK_SKEW
    deadline = deadline or waiting.Deadline(OPERATION_WAIT)
    recheck = Recheck(module, resource_group, vault_name, initial_only)
    attempt = 0
    while True:
        todo = [e for e in entries if e.error is None and e.job_key is None and not e.skipped]
        if not todo:
            break
        for entry in todo:
            entry.lost, entry.retain_until = None, expiry
        posted_at = now()
        for outcome in run_batch(todo, lambda e: trigger(module, resource_group, vault_name, e, expiry, recheck),
                                 concurrency=concurrency, action="start a backup"):
            if outcome.error is not None:
                outcome.item.error = outcome.error
        lost = [e for e in todo if e.lost and e.error is None]
        if not lost:
            break
        delay = min(30.0, 2.0 ** attempt)
        final = deadline.remaining() < delay
        _reconcile(module, resource_group, vault_name, lost, since, posted_at, final)
        if final:
            break
        attempt += 1
        (sleep or waiting.SLEEP)(delay)
    return since


def _reconcile(module, resource_group, vault_name, lost, since, posted_at, final):
    """After lost responses: adopt the backup jobs Azure did start; the others are retried (or, at the
    deadline, reported).  A VM's job is the one started since the checks (none ran then) that runs, or
    ended after the post."""
    try:
        started = jobs.list_jobs(module, resource_group, vault_name, operation="Backup", start=since,
                                 end=jobs.utcnow() + jobs.CLOCK_SKEW)
    except AzureBackupError as err:
        for entry in lost:
            entry.error = AzureBackupError(
                "The connection failed while starting the backup of VM %s (%s), and the vault's jobs could not be "
                "read to know whether Azure started it: %s" % (entry.ref.label, entry.lost, err.message),
                code="ResponseLost", remediation="Run the task again: it returns a backup that runs instead of "
                                                 "starting another.")
        return
    by_vm = {}
    for job in started:
        props = jobs.props(job)
        begun, ended = parse_time(props.get("startTime")), parse_time(props.get("endTime"))
        if begun is None or begun < since:
            continue
        if props.get("status") in jobs.RUNNING or (ended is not None and ended >= posted_at - POST_TOLERANCE):
            by_vm.setdefault((jobs.vm_of(job) or "").lower(), job)
    for entry in lost:
        job = by_vm.get(entry.ref.label.lower())
        if job is not None:
            entry.job_key, entry.changed, entry.lost = jobs.job_key(job), True, None
        elif final:
            entry.error = AzureBackupError(
                "The answer to the backup request of VM %s was lost until the task's deadline (%s), and Azure shows "
                "no backup job of it started since: no backup was started." % (entry.ref.label, entry.lost),
                code="ResponseLost", remediation="Check the network path to Azure Resource Manager and run the "
                                                 "task again: it starts only the backups that are missing.")


def refused_as_busy(job):
    """Whether the job is a backup Azure refused because another backup of the VM was running."""
    return jobs.status_of(job) in jobs.UNSUCCESSFUL and (jobs.job_error(job) or {}).get("code") == BUSY


def adopt_running(module, resource_group, vault_name, entries, known, since):
    """A backup Azure refused because another backup of the VM was running (another run's): that backup
    is the VM's, running or completed since the task began, and it is returned instead of the refusal.
    Two job lists, only when Azure refused one this way."""
    busy = [e for e in entries if refused_as_busy(known.get(e.job_key) if e.job_key else None)]
    if not busy:
        return
    found = {}
    for flt in ({"status": "InProgress"}, {"start": since, "end": jobs.utcnow() + jobs.CLOCK_SKEW}):
        for job in jobs.list_jobs(module, resource_group, vault_name, operation="Backup", **flt):
            if jobs.status_of(job) in jobs.RUNNING or jobs.status_of(job) in ("Completed", "CompletedWithWarnings"):
                found.setdefault((jobs.vm_of(job) or "").lower(), job)
    for entry in busy:
        job = found.get(entry.ref.label.lower())
        if job is not None and jobs.job_key(job) != entry.job_key:
            known.pop(entry.job_key, None)
            entry.job_key, entry.changed, entry.retain_until = jobs.job_key(job), False, None
            known[entry.job_key] = job


# -- results ----------------------------------------------------------------------------------

def error_dict(error):
    if error is None:
        return None
    if isinstance(error, dict):
        return error
    recommendations = [error.remediation] if error.remediation else []
    return {"code": error.code, "message": error.message, "recommendations": recommendations}


def vm_result(entry, job):
    facts = jobs.job_facts(job) if job else {}
    error = entry.error
    if error is None and facts.get("status") in jobs.UNSUCCESSFUL:
        error = facts.get("error") or {"code": "Job%s" % facts["status"], "message": "The backup job ended %s."
                                       % facts["status"], "recommendations": []}
    expiry = iso_utc(entry.retain_until) if entry.retain_until and entry.changed else facts.get("retain_until")
    return {
        "vm": entry.ref.label,
        "id": entry.ref.id,
        "changed": entry.changed,
        "job_id": facts.get("job_id") or entry.job_key,
        "job_status": facts.get("status"),
        "start_time": facts.get("start_time"),
        "end_time": facts.get("end_time"),
        "duration_seconds": facts.get("duration_seconds"),
        "retain_until": expiry,
        "skipped": entry.skipped,
        "error": error_dict(error),
    }


def counts(results, already_running):
    statuses = [r["job_status"] for r in results]
    return {
        "total": len(results),
        "started": sum(1 for r in results if r["changed"]),
        "already_running": already_running,
        "skipped": sum(1 for r in results if r["skipped"]),
        "completed": sum(1 for s in statuses if s in ("Completed", "CompletedWithWarnings")),
        "in_progress": sum(1 for s in statuses if s in jobs.RUNNING),
        "failed": sum(1 for r in results if r["error"] is not None),
    }


def failure(results, fail_on_job_failure):
    """One AzureBackupError summing up the VMs that fail the task, or None."""
    failed = [r for r in results if r["error"] is not None and (
        fail_on_job_failure or r["job_status"] not in jobs.UNSUCCESSFUL)]
    if not failed:
        return None

    def line(result):
        err = result["error"]
        text = "%s: %s" % (err["code"], err["message"].rstrip("."))
        if result["job_id"] and result["job_status"]:
            text += " (job %s, %s)" % (result["job_id"], result["job_status"])
        return text
    if len(results) == 1:
        err = failed[0]["error"]
        return AzureBackupError("The backup of VM %s failed: %s." % (failed[0]["vm"], line(failed[0])),
                                code=err["code"],
                                remediation=" ".join(err["recommendations"]) or REMEDIATION.get(err["code"]))
    codes = sorted({r["error"]["code"] for r in failed})
    return AzureBackupError("The backups of %d of %d VMs failed: %s." % (len(failed), len(results), listed(
        ["%s: %s" % (r["vm"], line(r)) for r in failed], "; ")), code=codes[0] if len(codes) == 1 else "BackupsFailed",
        remediation="See each VM's error and Azure's recommendations in vms.")
