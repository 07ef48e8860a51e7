# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/pacing.py on a fake clock: what is retried, for how long, and how requests are spaced."""

import json
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from ansible_collections.backupops.azure.plugins.module_utils.core import pacing

from ..fakes import VAULT, Clock


class Answer:
    def __init__(self, status, headers=None, body=None):
        self.status_code = status
        self.headers = headers or {}
        self._body = json.dumps(body) if body is not None else ""

    def read(self):
        """A streamed answer's body is loaded by read() before text() has it."""
        self.loaded = True
        return self._body.encode()

    def text(self):
        return self._body if getattr(self, "loaded", False) else ""


class Context:
    def __init__(self):
        self.options = {"retry_on_methods": ["POST"], "timeout": 30}


class Request:
    def __init__(self, method, url):
        self.http_request = type("HttpRequest", (), {"method": method, "url": url})()
        self.context = Context()


class PipelineResponse:
    def __init__(self, answer):
        self.http_response = answer


class Azure:
    """forward(): answers (or raises) from a script, and records when each request was sent."""

    def __init__(self, clock, script):
        self.clock = clock
        self.script = list(script)
        self.sent = []

    def __call__(self, request):
        self.sent.append(self.clock())
        step = self.script.pop(0) if self.script else Answer(200)
        if isinstance(step, Answer):
            return PipelineResponse(step)
        raise step  # pylint: disable=raising-non-exception  # the script's other steps are exceptions


def pacer(clock, timeout=600, rand=lambda: 0.0):
    return pacing.Pacer(clock=clock, sleep=clock.sleep, rand=rand, timeout=timeout)


TRIGGER = VAULT + "/backupFabrics/Azure/protectionContainers/c/protectedItems/i/backup?api-version=2026-10-01"


def throttled(seconds="3"):
    return Answer(429, {"Retry-After": seconds}, {"error": {"code": "SubscriptionRequestsThrottled"}})


# -- the one parser of Retry-After --------------------------------------------------------------

@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "1.5"}, 1.5),
    ({"retry-after-ms": "250"}, 0.25),
    ({"x-ms-retry-after-ms": "1200", "Retry-After": "9"}, 1.2),
    ({"Retry-After": "soon"}, None),
    ({"Retry-After": "-4"}, 0.0),
    ({}, None),
    (None, None),
])
def test_retry_after_in_its_forms(headers, expected):
    assert pacing.retry_after(headers) == expected


def test_retry_after_as_an_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    assert 100 < pacing.retry_after({"Retry-After": format_datetime(when, usegmt=True)}) <= 120
    assert pacing.retry_after({"Retry-After": "x"}, default=5) == 5


def test_kinds_holds_and_what_may_be_sent_again():
    assert [pacing.kind_of(m) for m in ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")] == [
        "reads", "reads", "writes", "writes", "writes", "deletes"]
    assert pacing.hold_key("reads", VAULT + "/backupJobs?api-version=1") == "jobs"
    assert pacing.hold_key("reads", VAULT + "/backupProtectedItems") == "reads"
    assert pacing.repeatable("PUT", VAULT) and pacing.repeatable("DELETE", VAULT)
    assert pacing.repeatable("POST", VAULT + "/backupFabrics/Azure/refreshContainers?$filter=x")
    assert pacing.repeatable("POST", "https://m/subscriptions/s/providers/Microsoft.RecoveryServices/locations/"
                                     "westeurope/backupStatus?api-version=1")
    assert not pacing.repeatable("POST", TRIGGER)


# -- retries until the deadline ------------------------------------------------------------------

def test_a_429_is_waited_out_as_retry_after_says_then_sent_again():
    clock = Clock()
    azure = Azure(clock, [throttled("3"), Answer(200)])
    response = pacer(clock).send(Request("PUT", VAULT), azure)
    assert response.http_response.status_code == 200
    assert azure.sent == [1000.0, 1003.0]


def test_throttling_is_retried_until_the_deadline_not_a_fixed_number_of_times():
    clock = Clock()
    azure = Azure(clock, [throttled("1")] * 500)
    paced = pacer(clock, timeout=120)
    response = paced.send(Request("GET", VAULT), azure)
    # retried (ever more slowly: the share of the budget halves) for the whole two minutes, far more
    # often than azure-core's 10 retries; then the 429 is the answer the SDK raises
    assert response.http_response.status_code == 429
    assert len(azure.sent) > 30 and 110 <= clock.now - 1000.0 <= 120
    assert paced.stats["throttled"] == len(azure.sent)


def test_a_retry_after_beyond_the_deadline_is_not_slept_through():
    clock = Clock()
    azure = Azure(clock, [Answer(429, {"Retry-After": "3000"}, {"error": {"code": "ResourceRequestsThrottled"}})])
    response = pacer(clock, timeout=900).send(Request("GET", VAULT + "/backupJobs/j"), azure)
    assert response.http_response.status_code == 429 and clock.sleeps == [] and len(azure.sent) == 1


def test_jitter_spreads_the_retries():
    clock = Clock()
    azure = Azure(clock, [Answer(503, {"Retry-After": "4"}), Answer(200)])
    pacer(clock, rand=lambda: 1.0).send(Request("GET", VAULT), azure)
    assert azure.sent == [1000.0, 1000.0 + 4 * (1 + pacing.JITTER)]


@pytest.mark.parametrize("method, url, answer, sent", [
    ("GET", VAULT, Answer(500), 2),
    ("PUT", VAULT, Answer(502), 2),
    ("GET", VAULT, Answer(503, {"Retry-After": "2"}), 2),
    ("POST", TRIGGER, Answer(500), 1),                   # may have started a backup: the caller finds out
    ("POST", TRIGGER, Answer(503, {"Retry-After": "2"}), 1),
    ("POST", TRIGGER, throttled("2"), 2),                 # ARM did not process a throttled request
    ("PUT", VAULT, Answer(409, body={"error": {"code": "AnotherOperationInProgress"}}), 2),
    ("PUT", VAULT, Answer(409, body={"error": {"code": "BMSUserErrorInvalidInput"}}), 1),
    ("GET", VAULT, Answer(404, body={"error": {"code": "ResourceNotFound"}}), 1),
    ("PUT", VAULT, Answer(400, body={"error": {"code": "InvalidTagNameLength"}}), 1),
])
def test_what_is_sent_again_after_an_answer(method, url, answer, sent):
    clock = Clock()
    azure = Azure(clock, [answer, Answer(200)])
    pacer(clock).send(Request(method, url), azure)
    assert len(azure.sent) == sent


@pytest.mark.parametrize("method, url, error, sent", [
    ("GET", VAULT, ServiceResponseError("Connection aborted"), 2),
    ("PUT", VAULT, ServiceResponseError("Connection aborted"), 2),
    ("POST", TRIGGER, ServiceResponseError("Connection aborted"), 1),     # the answer was lost: raised
    ("POST", TRIGGER, ServiceRequestError("Connection refused"), 2),      # never sent: safe to send
])
def test_what_is_sent_again_after_a_connection_failure(method, url, error, sent):
    clock = Clock()
    azure = Azure(clock, [error, Answer(200)])
    if sent == 1:
        with pytest.raises(ServiceResponseError):
            pacer(clock).send(Request(method, url), azure)
    else:
        assert pacer(clock).send(Request(method, url), azure).http_response.status_code == 200
    assert len(azure.sent) == sent


def test_connection_failures_back_off_until_the_deadline_then_raise():
    clock = Clock()
    paced = pacer(clock, timeout=100)
    paced.send(Request("GET", VAULT), Azure(clock, [Answer(200)]))        # the endpoint answered once
    azure = Azure(clock, [ServiceRequestError("refused")] * 100)
    with pytest.raises(ServiceRequestError):
        paced.send(Request("GET", VAULT), azure)
    # 1, 2, 4, 8, 16, 30, 30 s...: the deadline, not a count, ends it
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0] and clock.now - 1000.0 <= 100
    assert len(azure.sent) == 8


def test_azure_cores_retry_options_never_reach_the_transport():
    clock = Clock()
    request = Request("POST", "https://login/tenant/oauth2/v2.0/token")
    pacer(clock).send(request, Azure(clock, [Answer(200)]), kind_from_method=False)
    assert request.context.options == {}


# -- pacing ----------------------------------------------------------------------------------------

def test_requests_are_spaced_once_the_budget_runs_low():
    clock = Clock()
    script = [Answer(200, {"x-ms-ratelimit-remaining-subscription-writes": str(n)}) for n in (120, 30, 29, 28)]
    azure = Azure(clock, script)
    paced = pacer(clock)
    for _write in range(4):
        paced.send(Request("PUT", VAULT), azure)
    # 120 left: no spacing; under a quarter of the 200-write bucket: one write per 1/10 s (the refill)
    assert azure.sent[0] == azure.sent[1] == 1000.0
    assert azure.sent[2] - azure.sent[1] == pytest.approx(0.1, rel=0.01)
    assert azure.sent[3] - azure.sent[2] == pytest.approx(0.1, rel=0.01)


def test_a_429_halves_the_window_and_the_share_at_most_once_a_second():
    budget = pacing.Budget(200, 10.0)
    budget.remaining = 10
    budget.throttled(now=5.0)
    budget.throttled(now=5.5)           # the same burst of 429s: cut once
    assert budget.window == pacing.MAX_WINDOW / 2 and budget.share == 0.5
    assert budget.spacing() == pytest.approx(0.2)
    budget.throttled(now=6.6)
    assert budget.window == pacing.MAX_WINDOW / 4 and budget.share == 0.25
    for _burst in range(200):
        budget.throttled(now=budget.last_cut + 2)
    assert budget.window == 1.0 and budget.share == pacing.MIN_SHARE
    budget.answered(remaining=5)
    assert budget.share > pacing.MIN_SHARE and budget.window > 1.0
    budget.answered(remaining=150)       # ample again: no spacing
    assert budget.spacing() == 0.0


def test_a_429_holds_back_the_other_requests_of_its_kind_only():
    clock = Clock()
    paced = pacer(clock)
    paced.send(Request("PUT", VAULT), Azure(clock, [throttled("5"), Answer(200)]))
    assert clock.now == 1005.0
    paced.throttled("writes", "writes", 5)
    reads = Azure(clock, [Answer(200)])
    paced.send(Request("GET", VAULT), reads)
    assert reads.sent == [1005.0]                 # reads are not held by a write's 429
    writes = Azure(clock, [Answer(200)])
    paced.send(Request("PUT", VAULT), writes)
    assert writes.sent == [1010.0]


def test_azure_backups_job_read_limit_holds_job_reads_only():
    clock = Clock()
    paced = pacer(clock, timeout=7200)
    paced.throttled("reads", "jobs", 300)
    other = Azure(clock, [Answer(200)])
    paced.send(Request("GET", VAULT + "/backupProtectedItems"), other)
    assert other.sent == [1000.0]
    job = Azure(clock, [Answer(200)])
    paced.send(Request("GET", VAULT + "/backupJobs"), job)
    assert job.sent == [1300.0]


def test_a_call_outside_the_sdk_is_retried_while_its_failure_is_transient():
    clock = Clock()
    paced = pacer(clock, timeout=60)
    attempts = []

    def flaky():
        attempts.append(clock())
        if len(attempts) < 3:
            raise OSError("connection reset")
        return "document"
    assert paced.call(flaky, lambda exc: pacing.NO_ANSWER) == "document" and clock.sleeps == [1.0, 2.0]

    def not_json():
        raise ValueError("not JSON")
    with pytest.raises(ValueError):
        paced.call(not_json, lambda exc: None)


def test_an_endpoint_that_never_answered_is_given_up_after_the_grace_not_the_deadline():
    clock = Clock()
    paced = pacer(clock, timeout=900)
    azure = Azure(clock, [ServiceRequestError("Connection refused")] * 100)
    with pytest.raises(ServiceRequestError):
        paced.send(Request("GET", VAULT), azure)
    assert clock.now - 1000.0 <= pacing.CONNECT_GRACE and len(azure.sent) == 5      # 1 + 2 + 4 + 8 s apart
    # once it has answered, the same failures are retried until the deadline (it went away mid-run)
    clock = Clock()
    paced = pacer(clock, timeout=300)
    paced.send(Request("GET", VAULT), Azure(clock, [Answer(200)]))
    answered = Azure(clock, [ServiceRequestError("Connection refused")] * 100)
    with pytest.raises(ServiceRequestError):
        paced.send(Request("GET", VAULT), answered)
    assert 250 <= clock.now - 1000.0 <= 300 and len(answered.sent) > 10


def test_one_pacer_per_subscription_and_the_tasks_deadline():
    first = pacing.for_subscription("SUB-1")
    assert pacing.for_subscription("sub-1") is first and pacing.for_subscription("sub-2") is not first
    pacing.set_timeout(42)
    assert 41 < first.remaining() <= 42 and 41 < pacing.for_subscription("sub-3").remaining() <= 42


def test_azure_now_follows_the_date_of_azures_answers():
    pacer = pacing.Pacer()
    local = datetime.now(timezone.utc)
    assert abs((pacer.azure_now() - local).total_seconds()) < 1      # no answer yet: this machine's clock
    pacer.saw_date({"Date": format_datetime(local + timedelta(hours=27), usegmt=True)})
    assert abs((pacer.azure_now() - local).total_seconds() - 27 * 3600) < 2
    # within Date's whole seconds there is no skew; an unreadable Date changes nothing
    pacer.saw_date({"Date": format_datetime(datetime.now(timezone.utc), usegmt=True)})
    assert pacer.server_skew == 0.0
    pacer.saw_date({"Date": "not a date"})
    pacer.saw_date({})
    assert pacer.server_skew == 0.0
