# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting on long-running operations through the SDK's own pollers, with a deadline.

The pollers follow Azure's Retry-After between polls; this module only adds the
wait / wait_timeout contract and the message when the deadline passes.

FOR INTERNAL COLLECTION USE ONLY.
"""

from .errors import AzureBackupError, translated

WAIT_ARGSPEC = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 900},
}


def poll_kwargs(wait):
    """SDK keyword arguments for a begin_* call: no background polling when not waiting."""
    return {} if wait else {"polling": False}


def finish(poller, action, wait=True, timeout=900):
    """Return the poller's result, or None when not waiting.  Raise on failure or timeout."""
    if not wait:
        return None
    with translated(action):
        poller.wait(timeout=timeout)
        if not poller.done():
            raise AzureBackupError(
                "Timed out after %d s waiting to %s; the operation continues in Azure. Run the task "
                "again (it is idempotent) or raise wait_timeout." % (timeout, action), code="Timeout")
        return poller.result()
