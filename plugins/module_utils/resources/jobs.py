# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure Backup jobs: filtered lists, their facts, and waiting within Azure's read budget.

Azure Backup allows 150 ``Microsoft.RecoveryServices/vaults/backupJobs/read`` per hour (the real
429 ``ResourceRequestsThrottled`` recorded by the az CLI's tests); a GET of one job and each page
of a list both count.  So waiting never GETs each job: every poll round reads ONE list of the
vault's jobs, filtered to the start times (and the operation) of the jobs still running, its
pages followed.  Rounds start 2 s apart and the interval grows 1.5 times per round, and with the
age of the jobs, up to 60 s: about 67 reads for a whole hour of waiting, however many jobs (200
jobs fit in one page).  A 429 is waited out as its Retry-After says while the deadline allows.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re
from datetime import datetime, timedelta, timezone

from ..core import pacing, waiting
from ..core.errors import AzureBackupError, listed, of_sdk
from ..core.transform import as_dict, iso_utc, parse_duration, parse_time

OPERATIONS = ["Backup", "ConfigureBackup", "CrossRegionRestore", "DeleteBackupData", "DisableBackup",
              "Register", "Restore", "UnRegister", "Undelete", "UpdateCustomerManagedKey"]
STATUSES = ["Cancelled", "Cancelling", "Completed", "CompletedWithWarnings", "Failed", "InProgress"]
RUNNING = frozenset(["InProgress", "Cancelling"])
UNSUCCESSFUL = frozenset(["Failed", "Cancelled"])

FIRST_POLL = 2.0        # seconds before the first poll
GROWTH = 1.5            # each interval is 1.5 times the previous one...
AGE_FRACTION = 0.25     # ...and at least a quarter of the time the youngest job has run...
MAX_POLL = 60.0         # ...and at most a minute.
LOOKUP_GETS = 5         # up to this many job ids are read one by one; more are found in one list
LOOKUP_WINDOW = timedelta(hours=24)
CLOCK_SKEW = timedelta(seconds=60)
FILTER_TIME = "%Y-%m-%d %I:%M:%S %p"    # the service's (and the az CLI's) format for time filters
EXPIRY_KEY = "Recovery Point Expiry Time in UTC"


class Throttled(AzureBackupError):
    """A 429 that pacing.py did not wait out (its Retry-After is beyond the task's deadline)."""

    def __init__(self, error, retry_after):
        super().__init__(error.message, code=error.code, status=error.status, request_id=error.request_id,
                         remediation=error.remediation)
        self.retry_after = retry_after


def utcnow():
    return datetime.now(timezone.utc)


def parse_when(value, option):
    """A date (YYYY-MM-DD, 00:00 UTC) or ISO 8601 date and time given in ``option``; None when unset."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    when = None
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        try:
            when = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        except ValueError:
            when = None
    elif re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$", text):
        when = parse_time(text + ":00")
    else:
        when = parse_time(text)
    if when is None:
        raise AzureBackupError(
            "%s %r is not a date: give YYYY-MM-DD (00:00 UTC of that day) or an ISO 8601 date and time such as "
            "2030-01-31T18:00:00Z." % (option, text), code="InvalidParameters")
    return when


def duration_seconds(text):
    """Seconds of an ISO 8601 duration (PT41M16.2S) or a .NET time span (1.00:20:23.08)."""
    if not text:
        return None
    span = parse_duration(text)
    if span is not None:
        return round(span.total_seconds(), 3)
    # [d.]hh:mm:ss[.fffffff], .NET's TimeSpan text, which older job answers carry (a 2018 capture);
    # not ISO 8601, so no ISO library reads it.
    match = re.match(r"^(?:(\d+)\.)?(\d+):(\d+):([\d.]+)$", text)
    if not match:
        return None
    days, hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
    return round(days * 86400 + hours * 3600 + minutes * 60 + secs, 3)


def odata_filter(operation=None, status=None, start=None, end=None):
    """The service's $filter: ``a eq 'b'`` clauses joined by ``and``; times to the second."""
    clauses = []
    if operation:
        clauses.append("operation eq '%s'" % operation)
    if status:
        clauses.append("status eq '%s'" % status)
    if start is not None:
        clauses.append("startTime eq '%s'" % start.astimezone(timezone.utc).strftime(FILTER_TIME))
    if end is not None:
        clauses.append("endTime eq '%s'" % end.astimezone(timezone.utc).strftime(FILTER_TIME))
    return " and ".join(clauses) or None


def _read(action, func):
    """Call the SDK; a 429 becomes Throttled (with its Retry-After), anything else one clear error."""
    try:
        return func()
    except AzureBackupError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        error = of_sdk(exc, action)
        if error.status == 429:
            response = getattr(exc, "response", None)
            raise Throttled(error, pacing.retry_after(response.headers if response is not None else None)) from None
        raise error from None


def list_jobs(module, resource_group, vault_name, operation=None, status=None, start=None, end=None):
    """The vault's jobs (wire dicts), one filtered list with its pages followed."""
    client = module.client("backup")
    flt = odata_filter(operation, status, start, end)
    return _read("list the jobs of vault %s" % vault_name,
                 lambda: [as_dict(job) for job in client.backup_jobs.list(vault_name, resource_group, filter=flt)])


def get_job(module, resource_group, vault_name, job_id):
    """One job with its extended info (tasks, property bag), or None when the vault has no such job."""
    client = module.client("backup")
    try:
        return as_dict(_read("read job %s of vault %s" % (job_id, vault_name),
                             lambda: client.job_details.get(vault_name, resource_group, job_id)))
    except Throttled:
        raise
    except AzureBackupError as err:
        if err.status == 404:
            return None
        raise


# -- facts ------------------------------------------------------------------------------------

def props(job):
    return (job or {}).get("properties") or {}


def status_of(job):
    return props(job).get("status")


def job_key(job):
    return (job.get("name") or "").lower()


def vm_of(job):
    """'resource_group/name' of a VM job, from its container name (iaasvmcontainerv2;rg;vm)."""
    parts = (props(job).get("containerName") or "").split(";")
    low = [p.lower() for p in parts]
    if len(parts) == 3 and low[0] == "iaasvmcontainerv2":
        return "%s/%s" % (parts[1], parts[2])
    if len(parts) == 4 and low[:2] == ["iaasvmcontainer", "iaasvmcontainerv2"]:
        return "%s/%s" % (parts[2], parts[3])
    return None


def job_error(job):
    """Azure's error of a failed job: {code, message, recommendations}, or None."""
    details = props(job).get("errorDetails") or []
    if not details:
        return None
    first = details[0]
    code = first.get("errorTitle") or (str(first["errorCode"]) if first.get("errorCode") is not None else None)
    message = first.get("errorString") or props(job).get("extendedInfo", {}).get("dynamicErrorMessage") or ""
    return {"code": code or "JobFailed", "message": message.strip(),
            "recommendations": [r for r in first.get("recommendations") or [] if r]}


def _expiry(job):
    bag = (props(job).get("extendedInfo") or {}).get("propertyBag") or {}
    text = bag.get(EXPIRY_KEY)
    if not text:
        return None
    try:
        return iso_utc(datetime.strptime(text.strip(), "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=timezone.utc))
    except ValueError:
        return text


def job_facts(job):
    """snake_case facts of a job wire dict."""
    p = props(job)
    bag = (p.get("extendedInfo") or {}).get("propertyBag") or {}
    return {
        "job_id": job.get("name"),
        "id": job.get("id"),
        "operation": p.get("operation"),
        "status": p.get("status"),
        "vm": vm_of(job),
        "vm_name": p.get("entityFriendlyName"),
        "start_time": iso_utc(parse_time(p.get("startTime"))),
        "end_time": iso_utc(parse_time(p.get("endTime"))),
        "duration_seconds": duration_seconds(p.get("duration")),
        "error": job_error(job),
        "retain_until": _expiry(job),
        "backup_size": bag.get("Backup Size"),
    }


# -- waiting ----------------------------------------------------------------------------------

def next_delay(previous, age):
    """Seconds to the next poll round: grows with each round and with the jobs' age."""
    return min(MAX_POLL, max(FIRST_POLL, previous * GROWTH, age * AGE_FRACTION))


def _keep_details(old, new):
    """A listed job keeps the extended info (property bag) read earlier by id: lists do not carry it."""
    extended = props(old).get("extendedInfo")
    if extended and not props(new).get("extendedInfo"):
        new = dict(new, properties=dict(props(new), extendedInfo=extended))
    return new


class Waiter:
    """Reads the jobs of one vault, one list per round, and waits for them to end."""

    def __init__(self, module, resource_group, vault_name, operation=None, sleep=None,
                 monotonic=None, now=utcnow):
        self.module = module
        self.resource_group = resource_group
        self.vault_name = vault_name
        self.operation = operation
        self.sleep = sleep
        self.monotonic = monotonic
        self.now = now
        self.throttled = None
        self.reads = 0

    @staticmethod
    def pending(jobs):
        return [key for key, job in jobs.items() if job is None or status_of(job) in RUNNING]

    def _get(self, key):
        self.reads += 1
        job = get_job(self.module, self.resource_group, self.vault_name, key)
        if job is None:
            raise AzureBackupError("Job %s does not exist in vault %s." % (key, self.vault_name),
                                   code="BMSUserErrorJobNotFound",
                                   remediation="Check the job id and the vault (jobs are kept 180 days).")
        return job

    def refresh(self, jobs, since=None):
        """One poll round: update ``jobs`` ({lower-case id: wire dict or None}) in place."""
        pending = self.pending(jobs)
        if not pending:
            return
        unknown = [key for key in pending if jobs[key] is None]
        starts = [parse_time(props(jobs[key]).get("startTime")) for key in pending if jobs[key] is not None]
        starts = [s for s in starts if s is not None]
        if unknown and since is None and not starts and len(unknown) <= LOOKUP_GETS:
            for key in unknown:
                jobs[key] = self._get(key)
            return
        now = self.now()
        low, high = list(starts), list(starts)
        if unknown:
            low.append(since or now - LOOKUP_WINDOW)
            high.append(now + CLOCK_SKEW)
        start = min(low).replace(microsecond=0) - timedelta(seconds=1)
        end = max(high).replace(microsecond=0) + timedelta(seconds=2)
        operations = {props(jobs[key]).get("operation") for key in pending if jobs[key] is not None}
        operation = self.operation or (operations.pop() if len(operations) == 1 and not unknown else None)
        self.reads += 1
        found = {job_key(job): job for job in list_jobs(self.module, self.resource_group, self.vault_name,
                                                        operation=operation, start=start, end=end)}
        for key in pending:
            if key in found:
                jobs[key] = _keep_details(jobs[key], found[key])
            else:
                jobs[key] = self._get(key)

    def _round(self, jobs, since):
        """A poll round; False when Azure Backup throttled it beyond the deadline (pacing.py waits out
        any Retry-After that ends before the deadline)."""
        try:
            self.refresh(jobs, since)
            return True
        except Throttled as err:
            self.throttled = err
            return False

    def youngest_age(self, jobs):
        now = self.now()
        starts = [parse_time(props(jobs[key]).get("startTime")) for key in self.pending(jobs) if jobs[key]]
        ages = [(now - start).total_seconds() for start in starts if start is not None]
        return max(0.0, min(ages)) if ages else 0.0

    def wait(self, jobs, timeout, since=None, fresh=False):
        """Poll until no job of ``jobs`` runs or ``timeout`` seconds passed; the ids still running.
        With ``fresh`` the jobs were just read: the first round waits first."""
        state = {"read": True}

        def read():
            state["read"] = self._round(jobs, since)
            return jobs
        waiting.poll(read, lambda _jobs: not state["read"] or not self.pending(jobs),
                     waiting.Deadline(timeout, self.monotonic),
                     lambda _jobs, previous: next_delay(previous, self.youngest_age(jobs)), self.sleep,
                     first_delay=next_delay(0.0, self.youngest_age(jobs)) if fresh else None)
        return self.pending(jobs)


def timeout_error(vault_name, jobs, pending, timeout, throttled=None, labels=None):
    """The one clear failure when jobs still run at the deadline, naming each of them."""
    labels = labels or {}
    names = []
    for key in pending:
        job = jobs.get(key)
        what = labels.get(key) or vm_of(job) or props(job).get("entityFriendlyName") or "?"
        names.append("%s (job %s%s)" % (what, (job or {}).get("name") or key,
                                        ", %s" % props(job).get("operation") if job else ""))
    text = "Timed out after %d s waiting for %d job(s) of vault %s; still running: %s." % (
        timeout, len(pending), vault_name, listed(names, "; "))
    if throttled is not None:
        text += " Azure Backup throttled the job reads: %s" % throttled.message
    return AzureBackupError(text, code="JobsStillRunning", details={"still_running": [
        (jobs.get(key) or {}).get("name") or key for key in pending]},
        remediation="The jobs continue in Azure: wait again with backupops.azure.backup_job_info "
                    "(job_ids, wait: true) or raise wait_timeout.")
