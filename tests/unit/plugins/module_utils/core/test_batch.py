# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/batch.py: bounded concurrency, the order kept, one item's failure isolated."""

import threading
import time

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import batch
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError


def test_batch_keeps_order_isolates_failures_and_bounds_concurrency():
    running, peak, lock = [0], [0], threading.Lock()

    def work(n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        if n == 3:
            raise AzureBackupError("boom", code="X")
        return n * 10

    out = batch.run_batch(range(12), work, concurrency=4)
    assert [o.item for o in out] == list(range(12))
    assert [o.value for o in out if o.ok] == [n * 10 for n in range(12) if n != 3]
    assert out[3].error.code == "X"
    assert 2 <= peak[0] <= 4


def test_batch_lets_our_own_bugs_surface():
    with pytest.raises(ZeroDivisionError):
        batch.run_batch([1, 2], lambda n: n / 0, concurrency=2)


def test_run_all_gives_every_outcome_or_raises_the_first_error():
    assert [(o.item, o.value) for o in batch.run_all([1, 2, 3], lambda n: n * 2, concurrency=2)] == [
        (1, 2), (2, 4), (3, 6)]

    def work(n):
        if n > 1:
            raise AzureBackupError("failed %d" % n, code="E%d" % n)
        return n
    with pytest.raises(AzureBackupError) as raised:
        batch.run_all([1, 2, 3], work, concurrency=3)
    assert raised.value.code == "E2"
