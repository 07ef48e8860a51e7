# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup jobs of the last hours that need a look: failed ones grouped by Azure's error code
(with the VMs, the count and Azure's recommendation) and the ones still running after many hours.

Azure Backup allows 150 job reads an hour per vault: this costs one filtered job list per vault
(its pages followed), whatever the number of VMs or jobs.  ``summarize`` turns the lists into the
document (no Azure call), so it is the part to test with plain data.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import timedelta

from ..core.batch import run_batch
from ..core.transform import iso_utc, parse_time, resource_group_of
from ..resources import jobs

FAILED = ("Failed",)
RUNNING = ("InProgress", "Cancelling")


def read_lists(module, vault_list, hours, now, concurrency=8):
    """One Outcome per vault (core.batch): its jobs of the ``hours`` before ``now``, or the error."""
    start = now - timedelta(hours=hours)
    module.client("backup")     # built once, before the worker threads share it
    return run_batch(vault_list, lambda v: jobs.list_jobs(module, resource_group_of(v["id"]), v["name"],
                                                          start=start, end=now),
                     concurrency, "list the jobs")


def _group_key(error):
    return (error or {}).get("code") or "JobFailed"


def summarize(vault_jobs, now, hours, long_running_hours):
    """[(vault wire dict, [job wire dicts])] -> {hours, since, failed_jobs, failed (groups), long_running, vaults}."""
    groups, long_running, per_vault, failed_jobs = {}, [], [], 0
    for vault, listed in sorted(vault_jobs, key=lambda pair: pair[0]["name"].lower()):
        counts = {"failed": 0, "in_progress": 0, "completed": 0}
        for job in listed:
            facts = jobs.job_facts(job)
            vm = facts["vm"] or facts["vm_name"]
            if facts["status"] in FAILED:
                counts["failed"] += 1
                failed_jobs += 1
                error = facts["error"] or {}
                group = groups.setdefault(_group_key(error), {
                    "code": _group_key(error), "count": 0, "vms": [], "vaults": [], "operations": [],
                    "message": error.get("message") or "", "recommendations": error.get("recommendations") or []})
                group["count"] += 1
                for key, value in (("vms", vm), ("vaults", vault["name"]), ("operations", facts["operation"])):
                    if value and value not in group[key]:
                        group[key].append(value)
            elif facts["status"] in RUNNING:
                counts["in_progress"] += 1
                started = parse_time(facts["start_time"])
                running = (now - started).total_seconds() / 3600 if started else None
                if running is not None and running >= long_running_hours:
                    long_running.append({"vm": vm, "vault": vault["name"], "operation": facts["operation"],
                                         "job_id": facts["job_id"], "start_time": facts["start_time"],
                                         "running_hours": round(running, 1)})
            elif facts["status"] in ("Completed", "CompletedWithWarnings"):
                counts["completed"] += 1
        per_vault.append(dict(counts, name=vault["name"], resource_group=resource_group_of(vault["id"]),
                              location=vault.get("location")))
    failed = sorted(groups.values(), key=lambda g: (-g["count"], g["code"]))
    for group in failed:
        group["vms"].sort(key=str.lower)
    return {"hours": hours, "since": iso_utc(now - timedelta(hours=hours)), "failed_jobs": failed_jobs,
            "failed": failed, "long_running": sorted(long_running, key=lambda j: -j["running_hours"]),
            "vaults": per_vault}
