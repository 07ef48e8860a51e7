"""Reading the emulator's request log (GET /_emulator/requests): which entries are writes.

The integration tests, `make demo` and `make bench` count writes with this one rule, so that
"zero writes" means the same everywhere.
"""

# POSTs that only read (they count as writes for ARM throttling, not for state).
# POSTs that only read: name checks, a VM's backup status, and the secondary region's reads of
# cross-region restore (a recovery point's access token, the jobs and a job: spec CrrJobs_List,
# CrrJobDetails_Get, RecoveryPoints_GetAccessToken).
READ_ONLY_POSTS = ("/checknameavailability", "/backupstatus", "/accesstoken", "/backupcrrjobs",
                   "/backupcrrjob")


def is_write(entry):
    """Whether a log entry is an ARM request that can change state."""
    if entry.get("kind") != "arm":
        return False
    if entry["method"] == "POST":
        return not entry["path"].lower().endswith(READ_ONLY_POSTS)
    return entry["method"] in ("PUT", "PATCH", "DELETE")
