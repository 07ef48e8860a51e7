# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where every Azure request is paced and retried.

ARM throttles each principal and subscription with token buckets: reads 250 then 25 a second,
writes (PUT, PATCH, POST) 200 then 10 a second, deletes 200 then 10 a second.  A throttled
request is answered 429 with Retry-After and was not processed.  The processes of one run
(protect_regions.yml runs one per region) share those buckets, and each answer says what is left
(x-ms-ratelimit-remaining-subscription-reads|writes|deletes).

Every SDK client and every Entra ID credential of the collection sends through PacingPolicy, in
azure-core's RetryPolicy's place.  Per kind of request (reads, writes, deletes) it

- keeps a window of requests in flight: halved on a 429, grown by one per window of answers;
- spaces the requests when the remaining budget runs low, at this process's share of the refill
  rate, the share halved on a 429 and grown slowly on success: processes that share a
  subscription slow down before the budget is gone, and use it all between them;
- retries until the task's deadline, never a fixed number of times: 429 and 503 after their
  Retry-After (with jitter), other transient answers (408, 500, 502, 504, a 409 because another
  operation runs on the resource) and connection failures with back-off.  A request that may have
  reached Azure and is not idempotent (the POST that starts a backup) is not repeated here: its
  caller finds out what Azure did first.

The deadline is the task's: wait_timeout, or DEFAULT_TIMEOUT for a module without one
(AzureBackupModule sets it).  Clock, sleep and randomness are injectable for tests.

FOR INTERNAL COLLECTION USE ONLY.
"""

import json
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# Azure's documented buckets (Learn: "Understand how Azure Resource Manager throttles requests").
BUCKETS = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
LOW_WATER = 0.25        # under this fraction of a bucket left, requests of that kind are spaced
MAX_WINDOW = 16         # requests of one kind in flight at most (a module's batch runs 8 by default)
MIN_SHARE = 1.0 / 64    # the smallest share of the refill rate a process keeps
GROWTH = 1.0 / 16       # the share grows by this fraction of itself per success while spaced
CUT_EVERY = 1.0         # the window and share are cut at most once a second (429s come in bursts)
JITTER = 0.25           # up to this fraction is added to every wait, so retries do not move in step
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
DEFAULT_TIMEOUT = 900   # seconds: the deadline of a task that has no wait_timeout
# An endpoint this process has never had an answer from (a wrong cloud_environment, a closed port) is a
# setting to fix, not a passing failure: its connection failures are retried this long at most. Once it
# answered, they are retried until the deadline (the endpoint went away mid-run).
CONNECT_GRACE = 30.0
# What a call's failure was, for Pacer.call: no answer at all, or an answer without a delay to wait.
NO_ANSWER = "no answer"
ANSWERED = "answered"

RETRY_AFTER_STATUS = frozenset([429, 503])
TRANSIENT_STATUS = frozenset([408, 429, 500, 502, 503, 504])
# A 409 with one of these codes: another operation runs on the resource; nothing was done.
TRANSIENT_CONFLICTS = frozenset(["AnotherOperationInProgress", "ConflictingOperationInProgress",
                                 "OperationInProgress"])
# POSTs that only read or that may be repeated without effect; any other POST (starting a backup,
# a restore) is not repeated once it may have reached Azure.
REPEATABLE_POSTS = ("/checknameavailability", "/backupstatus", "/refreshcontainers", "/token",
                    "/backupvalidatefeatures", "/backupprevalidateprotection")
REPEATABLE_METHODS = frozenset(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"])
# What azure-core's RetryPolicy reads from a request's options; they must not reach the transport.
RETRY_OPTIONS = ("retry_total", "retry_connect", "retry_read", "retry_status", "retry_backoff_factor",
                 "retry_backoff_max", "retry_on_methods", "retry_mode", "timeout")


def retry_after(headers, default=None):
    """Seconds a response asks to wait: Retry-After (seconds or an HTTP date), retry-after-ms or
    x-ms-retry-after-ms; ``default`` when it says nothing usable.  The one parser of these headers."""
    if headers is None:
        return default
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    value = headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when is None:
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def kind_of(method):
    """ARM's bucket for a request: reads (GET, HEAD), deletes (DELETE) or writes (the rest)."""
    method = (method or "GET").upper()
    if method in ("GET", "HEAD"):
        return "reads"
    if method == "DELETE":
        return "deletes"
    return "writes"


def repeatable(method, url):
    """Whether sending the request again after its answer was lost can do no harm."""
    method = (method or "GET").upper()
    if method in REPEATABLE_METHODS:
        return True
    path = (url or "").split("?", 1)[0].rstrip("/").lower()
    return method == "POST" and path.endswith(REPEATABLE_POSTS)


def hold_key(kind, url):
    """Which requests a 429 holds back: Azure Backup's job reads have their own hourly limit."""
    path = (url or "").split("?", 1)[0].lower()
    if kind == "reads" and "/backupjobs" in path:
        return "jobs"
    return kind


class Budget:
    """This process's use of one ARM bucket: the window in flight, the share of the refill rate
    while the bucket runs low, and what ARM said was left."""

    def __init__(self, size, rate):
        self.size = size
        self.rate = rate
        self.window = float(MAX_WINDOW)
        self.share = 1.0
        self.in_flight = 0
        self.remaining = None
        self.last_start = None
        self.last_cut = None

    def spacing(self):
        """Seconds between two requests of this kind: none while the budget is ample."""
        if self.remaining is None or self.remaining >= self.size * LOW_WATER:
            return 0.0
        return 1.0 / (self.rate * self.share)

    def wait(self, now):
        """Seconds before a request may start; None while the window is full (wait for an answer)."""
        if self.in_flight >= max(1, int(self.window)):
            return None
        if self.last_start is None:
            return 0.0
        return max(0.0, self.last_start + self.spacing() - now)

    def start(self, now):
        self.in_flight += 1
        self.last_start = now

    def answered(self, remaining=None, ok=True):
        self.in_flight = max(0, self.in_flight - 1)
        if remaining is not None:
            self.remaining = remaining
        if not ok:
            return
        self.window = min(float(MAX_WINDOW), self.window + 1.0 / self.window)
        if self.spacing():
            self.share = min(1.0, self.share * (1.0 + GROWTH))

    def throttled(self, now):
        """A 429: fewer in flight, a smaller share; once per CUT_EVERY, as 429s come in bursts."""
        self.in_flight = max(0, self.in_flight - 1)
        self.remaining = 0
        if self.last_cut is not None and now - self.last_cut < CUT_EVERY:
            return
        self.last_cut = now
        self.window = max(1.0, self.window / 2.0)
        self.share = max(MIN_SHARE, self.share / 2.0)


SKEW_RESOLUTION = 2.0     # seconds


class Pacer:
    """Pacing, retries and the deadline of one process (one per subscription: see for_subscription)."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep, rand=random.random, timeout=DEFAULT_TIMEOUT,
                 deadline=None):
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.timeout = timeout
        self.deadline = clock() + timeout if deadline is None else deadline
        self.budgets = {kind: Budget(size, rate) for kind, (size, rate) in BUCKETS.items()}
        self.holds = {}
        self.cond = threading.Condition()
        self.stats = {"requests": 0, "throttled": 0, "retried": 0, "waited": 0.0}
        self.started = clock()
        self.answered_once = False
        self.server_skew = 0.0

    def saw_date(self, headers):
        """Azure's clock from an answer's Date header: the time RPOs and schedules are judged by, so a
        controller whose clock is off does not misjudge them."""
        value = headers.get("Date") if headers is not None else None
        if not value:
            return
        try:
            server = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=timezone.utc)
        skew = (server - datetime.now(timezone.utc)).total_seconds()
        # Date has whole seconds: a skew within them is no skew
        self.server_skew = skew if abs(skew) >= SKEW_RESOLUTION else 0.0

    def azure_now(self):
        """Now by Azure's clock (this machine's when no answer said otherwise), an aware UTC datetime."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.server_skew)

    def set_timeout(self, seconds):
        """The task's deadline: ``seconds`` from now."""
        self.timeout = max(0, seconds)
        self.deadline = self.clock() + self.timeout

    def remaining(self):
        return self.deadline - self.clock()

    def left_for(self, answer_lost):
        """Seconds left to retry a failure: to the deadline, or within CONNECT_GRACE for a connection
        failure of an endpoint that has never answered this process."""
        left = self.remaining()
        if answer_lost and not self.answered_once:
            left = min(left, self.started + CONNECT_GRACE - self.clock())
        return left

    def jittered(self, seconds):
        return seconds * (1.0 + JITTER * self.rand())

    def backoff(self, attempt):
        return self.jittered(min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** attempt)))

    def pause(self, seconds):
        """Sleep, at most until the deadline."""
        seconds = max(0.0, min(seconds, self.remaining()))
        if seconds:
            self.stats["waited"] += seconds
            self.sleep(seconds)

    # -- the gate in front of every request ---------------------------------------------------
    def acquire(self, kind, key):
        """Wait until a request of ``kind`` may start (hold, window, spacing); at the deadline it
        starts anyway, and its answer tells."""
        budget = self.budgets.get(kind)
        jitter = None
        while True:
            with self.cond:
                now = self.clock()
                until = self.holds.get(key, (0.0, 0.0))
                wait = until[1] - now
                if wait > 0:
                    if jitter is None:
                        jitter = JITTER * self.rand() * (until[1] - until[0])
                    wait += jitter
                elif budget is not None:
                    wait = budget.wait(now)
                    if wait is None:
                        if self.remaining() <= 0:
                            wait = 0.0
                        else:
                            self.cond.wait(timeout=min(0.25, self.remaining()))
                            continue
                if wait <= 0 or self.remaining() <= 0:
                    if budget is not None:
                        budget.start(now)
                    self.stats["requests"] += 1
                    return
            self.pause(min(wait, 1.0))

    def answered(self, kind, headers=None, ok=True):
        budget = self.budgets.get(kind)
        with self.cond:
            if budget is not None:
                budget.answered(remaining_of(headers, kind), ok)
            self.cond.notify_all()

    def throttled(self, kind, key, seconds):
        """A 429: hold back ``key`` for ``seconds`` and cut this kind's window and share."""
        budget = self.budgets.get(kind)
        with self.cond:
            now = self.clock()
            self.stats["throttled"] += 1
            if budget is not None:
                budget.throttled(now)
            _start, until = self.holds.get(key, (now, now))
            if now + seconds > until:
                self.holds[key] = (now, now + seconds)
            self.cond.notify_all()

    # -- one request, retried until the deadline ----------------------------------------------------
    def send(self, request, forward, kind_from_method=True):
        """forward(request) with pacing and retries; the PipelineResponse, or the error raised."""
        from azure.core.exceptions import ServiceRequestError, ServiceResponseError
        http = request.http_request
        for option in RETRY_OPTIONS:
            request.context.options.pop(option, None)
        kind = kind_of(http.method) if kind_from_method else None
        key = hold_key(kind, http.url) if kind else "identity"
        again = repeatable(http.method, http.url)
        attempt = 0
        while True:
            self.acquire(kind, key)
            try:
                response = forward(request)
            except (ServiceRequestError, ServiceResponseError) as exc:
                self.answered(kind, ok=False)
                # ServiceRequestError: nothing was sent.  ServiceResponseError: the answer was lost.
                if isinstance(exc, ServiceResponseError) and not again:
                    raise
                delay = self.backoff(attempt)
                if self.left_for(answer_lost=True) < delay:
                    raise
                self._retry(delay)
                attempt += 1
                continue
            self.answered_once = True
            self.saw_date(response.http_response.headers)
            status = response.http_response.status_code
            delay = self._retry_delay(response, again, attempt)
            if status == 429:
                self.throttled(kind, key, delay)
            else:
                self.answered(kind, response.http_response.headers, ok=status < 500)
            if delay is None or self.remaining() < delay:
                return response
            self.stats["retried"] += 1
            if status != 429:       # a 429's hold is waited in acquire, with the requests it holds back
                self.pause(self.jittered(delay))
            attempt += 1

    def _retry_delay(self, response, again, attempt):
        """Seconds to wait before sending again, or None when the answer is final."""
        status = response.http_response.status_code
        if status == 429:
            # ARM did not process a throttled request: any method may be sent again
            return retry_after(response.http_response.headers, self.backoff(attempt))
        if status == 409 and conflict_code(response.http_response) in TRANSIENT_CONFLICTS:
            return self.backoff(attempt)
        if status in TRANSIENT_STATUS and again:
            if status in RETRY_AFTER_STATUS:
                return retry_after(response.http_response.headers, self.backoff(attempt))
            return self.backoff(attempt)
        return None

    def _retry(self, delay):
        self.stats["retried"] += 1
        self.pause(delay)

    # -- a call that is not an HTTP request of an SDK client ------------------------------------------
    def call(self, func, transient):
        """func() retried while ``transient(exc)`` says its failure is passing, until the deadline.
        ``transient`` gives None (final), NO_ANSWER (back off; within CONNECT_GRACE while the endpoint has
        never answered), ANSWERED (an answer without a delay: back off), or the seconds an answer asked
        to wait (Retry-After)."""
        attempt = 0
        while True:
            try:
                value = func()
                self.answered_once = True
                return value
            except Exception as exc:  # pylint: disable=broad-exception-caught
                kind = transient(exc)
                if kind is None:
                    raise
                if kind != NO_ANSWER:
                    self.answered_once = True
                delay = self.backoff(attempt) if kind in (NO_ANSWER, ANSWERED) else self.jittered(kind)
                if self.left_for(answer_lost=kind == NO_ANSWER) < delay:
                    raise
                self._retry(delay)
                attempt += 1


def remaining_of(headers, kind):
    """What ARM says is left of this kind's bucket, or None."""
    if headers is None or kind is None:
        return None
    value = headers.get("x-ms-ratelimit-remaining-subscription-%s" % kind)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def conflict_code(http_response):
    """The error code of a 409 answer, or None.  The SDKs stream the first answer of a long-running
    operation: its body is read here (and kept for the SDK)."""
    try:
        http_response.read()
        body = json.loads(http_response.text() or "{}")
        return ((body or {}).get("error") or {}).get("code")
    except Exception:  # pylint: disable=broad-exception-caught
        return None


_PACERS = {}
_PROCESS = {"timeout": DEFAULT_TIMEOUT, "deadline": None}
_PACERS_LOCK = threading.Lock()


def for_subscription(subscription_id):
    """The process's pacer of a subscription (ARM's buckets are per principal and subscription);
    ``None`` gives the pacer of Entra ID's token requests."""
    key = (subscription_id or "").lower()
    with _PACERS_LOCK:
        if key not in _PACERS:
            _PACERS[key] = Pacer(timeout=_PROCESS["timeout"], deadline=_PROCESS["deadline"])
        return _PACERS[key]


def set_timeout(seconds):
    """The task's deadline, ``seconds`` from now, for every pacer of this process (and later ones)."""
    with _PACERS_LOCK:
        _PROCESS["timeout"] = max(0, seconds)
        _PROCESS["deadline"] = time.monotonic() + _PROCESS["timeout"]
        for pacer in _PACERS.values():
            pacer.set_timeout(seconds)


def pacing_policy(pacer):
    """An azure-core policy (in RetryPolicy's place) that sends through ``pacer``."""
    from azure.core.pipeline.policies import HTTPPolicy

    class PacingPolicy(HTTPPolicy):
        def send(self, request):
            return pacer.send(request, self.next.send)

    return PacingPolicy()


def identity_policy_class(pacer):
    """For azure-identity's retry_policy_class: token requests retried until the deadline."""
    from azure.core.pipeline.policies import HTTPPolicy

    class IdentityPacingPolicy(HTTPPolicy):
        def __init__(self, **_kwargs):
            super().__init__()

        def send(self, request):
            return pacer.send(request, self.next.send, kind_from_method=False)

    return IdentityPacingPolicy
