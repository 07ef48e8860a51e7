# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/waiting.py: the SDK's pollers followed to their end or the deadline, the one poll loop, the states
that end an operation, and the operation id of an accepted request."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError

from ..fakes import VAULT, Clock


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


# -- the one poll loop, the states that end an operation, the operation id ---------------------------

def test_poll_until_done_with_the_delay_it_is_given():
    clock = Clock()
    values = iter([1, 2, 3])
    value, ended = waiting.poll(lambda: next(values), lambda v: v == 3, waiting.Deadline(60, clock),
                                waiting.backoff(2.0, 2.0, 10.0), clock.sleep)
    assert (value, ended) == (3, True) and clock.sleeps == [2.0, 4.0]


def test_poll_stops_at_the_deadline_after_a_last_read():
    clock = Clock()
    reads = []
    value, ended = waiting.poll(lambda: reads.append(clock()) or "running", lambda v: v == "done",
                                waiting.Deadline(25, clock), lambda v, p: 10, clock.sleep)
    assert not ended and value == "running" and reads == [1000.0, 1010.0, 1020.0, 1025.0]


def test_poll_honours_retry_after_of_each_answer():
    clock = Clock()
    answers = iter([({"Retry-After": "3"}, 202), ({"Retry-After": "50"}, 202), ({}, 204)])
    _value, ended = waiting.poll(lambda: next(answers), lambda a: a[1] != 202, waiting.Deadline(600, clock),
                                 waiting.after_headers(lambda a: a[0], default=5.0, cap=30.0), clock.sleep)
    assert ended and clock.sleeps == [3.0, 30.0]


@pytest.mark.parametrize("status, outcome", [
    ("Succeeded", "succeeded"), ("succeeded", "succeeded"), ("Failed", "failed"), ("Canceled", "failed"),
    ("Cancelled", "failed"), ("Invalid", "failed"), ("InProgress", "running"), (None, "running")])
def test_one_list_of_the_states_that_end_an_operation(status, outcome):
    assert waiting.outcome(status) == outcome


def test_operation_id_from_the_headers_of_an_accepted_request():
    assert waiting.operation_id({"Azure-AsyncOperation": VAULT + "/backupOperations/op-1?api-version=1",
                                 "Location": VAULT + "/backupOperationResults/op-2"}) == "op-1"
    assert waiting.operation_id({"Location": VAULT + "/operationResults/op-2/"}) == "op-2"
    assert waiting.operation_id({}) is None and waiting.operation_id(None) is None
