# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Application-level retries, only for what azure-core treats as final but Azure
documents as transient: a 409 because another operation runs on the same resource.
(azure-core already retries 408, 429 and 5xx; that is not repeated here.)

FOR INTERNAL COLLECTION USE ONLY.
"""

import time

from .errors import AzureBackupError

TRANSIENT_CONFLICTS = frozenset(["AnotherOperationInProgress", "ConflictingOperationInProgress",
                                 "OperationInProgress"])


def is_transient_conflict(error):
    return isinstance(error, AzureBackupError) and error.status == 409 and error.code in TRANSIENT_CONFLICTS


def retry_conflicts(func, attempts=5, delay=2.0, backoff=2.0, max_delay=30.0, sleep=time.sleep):
    """Call func(); retry while it raises a transient 409 conflict, with exponential back-off."""
    wait = delay
    for attempt in range(1, attempts + 1):
        try:
            return func()
        except AzureBackupError as err:
            if not is_transient_conflict(err) or attempt == attempts:
                raise
            sleep(wait)
            wait = min(max_delay, wait * backoff)
    return None  # not reached
