# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bounded concurrency for batches of VMs: one VM's failure never stops the others.

FOR INTERNAL COLLECTION USE ONLY.
"""

from concurrent.futures import ThreadPoolExecutor

from .errors import AzureBackupError, translated

# The range of O(concurrency), checked with every numeric option by AzureBackupModule (validation.py).
MAX_CONCURRENCY = 32

BATCH_ARGSPEC = {
    "concurrency": {"type": "int", "default": 8},
}


class Outcome:
    """What func(item) gave: a value, or the AzureBackupError it raised."""

    __slots__ = ("item", "value", "error")

    def __init__(self, item, value=None, error=None):
        self.item = item
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None


def _call(func, item, action):
    # An exception that is neither ours nor the SDK's is a bug: translated lets it surface
    # instead of hiding it per VM.
    try:
        with translated(action):
            return Outcome(item, value=func(item))
    except AzureBackupError as err:
        return Outcome(item, error=err)


def run_batch(items, func, concurrency=8, action="call Azure"):
    """func(item) for every item, at most ``concurrency`` at a time.  Returns one Outcome per
    item, in the order of ``items``.  Build the SDK clients before calling (module.client)."""
    items = list(items)
    if len(items) <= 1 or concurrency <= 1:
        return [_call(func, item, action) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(lambda item: _call(func, item, action), items))


def run_all(items, func, concurrency=8, action="call Azure"):
    """run_batch for reads that are all needed: the Outcomes, or the first error raised."""
    outcomes = run_batch(items, func, concurrency, action)
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return outcomes
