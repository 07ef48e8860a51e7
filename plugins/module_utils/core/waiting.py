# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting: the deadline of a task, the one poll loop, the states that end an operation, the
operation id of an accepted request, and the SDK's own pollers.

Requests themselves are paced and retried in pacing.py; this module only waits for what Azure
does after it accepted one.  Every loop that waits for Azure (an operation's status, a discovery,
a batch of operations, the VM agents, the jobs) is poll() with its own next delay.

FOR INTERNAL COLLECTION USE ONLY.
"""

import time

from . import pacing
from .errors import AzureBackupError, translated

WAIT_ARGSPEC = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 900},
}

# The clock and sleep of every wait, looked up when a wait starts (tests replace them).
CLOCK = time.monotonic
SLEEP = time.sleep

# Azure's operation statuses (ARM's LRO statuses and Azure Backup's operation statuses), lower-cased.
SUCCEEDED = frozenset(["succeeded"])
FAILED = frozenset(["failed", "canceled", "cancelled", "invalid"])


def outcome(status):
    """'succeeded', 'failed' or 'running' for an operation's status text (any case)."""
    text = (status or "").lower()
    if text in SUCCEEDED:
        return "succeeded"
    if text in FAILED:
        return "failed"
    return "running"


def operation_id(headers):
    """The operation id an accepted request names (Azure-AsyncOperation, else Location), or None."""
    headers = headers or {}
    url = headers.get("Azure-AsyncOperation") or headers.get("Location") or ""
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or None


class Deadline:
    """``seconds`` from now on an injectable clock."""

    def __init__(self, seconds, clock=None):
        self.seconds = max(0, seconds)
        self.clock = clock or CLOCK
        self.at = self.clock() + self.seconds

    def remaining(self):
        return self.at - self.clock()

    def passed(self):
        return self.remaining() <= 0


def poll(read, done, deadline, next_delay, sleep=None, first_delay=None):
    """read() until done(value) or the deadline: returns (last value, True when done).

    ``next_delay(value, previous_delay)`` gives the seconds before the next read (Retry-After,
    back-off, a fixed interval...); no read starts once the deadline has passed, and the last
    sleep is cut to the deadline so that a final read sees the state at the deadline."""
    sleep = sleep or SLEEP
    if first_delay:
        sleep(min(first_delay, max(0.0, deadline.remaining())))
    value = read()
    delay = first_delay or 0.0
    while not done(value):
        remaining = deadline.remaining()
        if remaining <= 0:
            return value, False
        delay = next_delay(value, delay)
        sleep(min(delay, remaining))
        value = read()
    return value, True


def backoff(first=1.0, factor=2.0, cap=10.0):
    """next_delay for poll(): first, then factor times the previous, at most cap."""
    def next_delay(_value, previous):
        return min(cap, previous * factor) if previous else first
    return next_delay


def after_headers(headers_of, default=5.0, cap=30.0):
    """next_delay for poll(): the Retry-After of the last answer (headers_of(value)), at most cap."""
    def next_delay(value, _previous):
        return max(1.0, min(cap, pacing.retry_after(headers_of(value), default)))
    return next_delay


def timeout_error(timeout, action):
    return AzureBackupError(
        "Timed out after %d s waiting to %s; the operation continues in Azure. Run the task again (it is "
        "idempotent) or raise wait_timeout." % (timeout, action), code="Timeout")


def poll_kwargs(wait):
    """SDK keyword arguments for a begin_* call: no background polling when not waiting."""
    return {} if wait else {"polling": False}


def finish(poller, action, wait=True, timeout=900, deadline=None):
    """Return the SDK poller's result, or None when not waiting.  Raise on failure or timeout.
    The poller follows Azure's Retry-After between polls; its requests are paced (pacing.py)."""
    if not wait:
        return None
    deadline = deadline or Deadline(timeout)
    with translated(action):
        poller.wait(timeout=max(1.0, deadline.remaining()))
        if not poller.done():
            raise timeout_error(timeout, action)
        return poller.result()
