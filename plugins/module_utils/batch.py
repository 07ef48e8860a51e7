# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bounded concurrency for batches of VMs: one VM's failure never stops the others.

FOR INTERNAL COLLECTION USE ONLY.
"""

from concurrent.futures import ThreadPoolExecutor

from .errors import AzureBackupError, from_azure

MAX_CONCURRENCY = 32

BATCH_ARGSPEC = {
    "concurrency": {"type": "int", "default": 8},
}


def validate_concurrency(value):
    if not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise AzureBackupError("concurrency must be between 1 and %d, got %r." % (MAX_CONCURRENCY, value),
                               code="InvalidParameters")
    return value


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
    try:
        return Outcome(item, value=func(item))
    except AzureBackupError as err:
        return Outcome(item, error=err)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        if not type(exc).__module__.startswith("azure."):
            raise       # a bug of ours: let it surface instead of hiding it per VM
        return Outcome(item, error=from_azure(exc, action))


def run_batch(items, func, concurrency=8, action="call Azure"):
    """func(item) for every item, at most ``concurrency`` at a time.  Returns one Outcome per
    item, in the order of ``items``.  Build the SDK clients before calling (module.client)."""
    items = list(items)
    if len(items) <= 1 or concurrency <= 1:
        return [_call(func, item, action) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(lambda item: _call(func, item, action), items))
