# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/waiting.py: the SDK's pollers followed to their end or the deadline, the one poll loop, the states
that end an operation, and the operation id of an accepted request."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError


class FakePoller:
    def __init__(self, done, result=None, exc=None):
        self._done, self._result, self._exc = done, result, exc
        self.waited = None

    def wait(self, timeout=None):
        self.waited = timeout
        if self._exc:
            raise self._exc

    def done(self):
        return self._done

    def result(self):
        return self._result


def test_finish_waits_and_times_out():
    assert waiting.finish(FakePoller(True, "r"), "x", True, 5) == "r"
    assert waiting.finish(FakePoller(True, "r"), "x", False, 5) is None
    slow = FakePoller(False)
    with pytest.raises(AzureBackupError) as err:
        waiting.finish(slow, "create vault v", True, 7, deadline=waiting.Deadline(7, clock=lambda: 100.0))
    assert slow.waited == 7 and err.value.code == "Timeout" and "continues in Azure" in err.value.message
    assert waiting.poll_kwargs(False) == {"polling": False} and waiting.poll_kwargs(True) == {}
