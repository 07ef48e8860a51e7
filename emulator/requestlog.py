"""Reading the emulator's request log (GET /_emulator/requests): which entries are writes.

The integration tests, `make demo` and `make bench` count writes with this one rule, so that
"zero writes" means the same everywhere.
"""

# POSTs that only read (they count as writes for ARM throttling, not for state).
READ_ONLY_POSTS = ("/checknameavailability", "/backupstatus")


def is_write(entry):
    """Whether a log entry is an ARM request that can change state."""
    if entry.get("kind") != "arm":
        return False
    if entry["method"] == "POST":
        return not entry["path"].lower().endswith(READ_ONLY_POSTS)
    return entry["method"] in ("PUT", "PATCH", "DELETE")
