"""Fault injection and throttling.

Fault rules (from --faults or PUT /_emulator/faults) decide, per request and
deterministically from a seed, to answer 403 (ARM's AuthorizationFailed: a role that does
not cover the scope, which no client retries), 409 (ARM's AnotherOperationInProgress, a
conflict azure-core does not retry), 429/500/503, to drop the connection
before the request is processed, to drop it AFTER it was processed (the lost
response that makes a naive retry repeat a write), or to add latency.

Throttling copies two real limits, both ON by default as in Azure: ARM's token
buckets per principal and subscription (or tenant, for requests outside a
subscription): reads 250 burst then 25 per s, writes and deletes 200 then 10
per s (Learn, "Understand how Azure Resource Manager throttles requests",
token bucket section; `throttle=off` switches them off, and they are then still
counted for the x-ms-ratelimit-remaining-* headers); and Azure Backup's limit
on job reads (150 `Microsoft.RecoveryServices/vaults/backupJobs/read` per hour,
counted in wall-clock time as the real service does).
"""

import math
import random
import threading
import time
from collections import deque

KINDS = ("403", "409", "429", "500", "503", "drop_before", "drop_after", "latency")

BUCKETS = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
JOB_READS_PER_HOUR = 150


class FaultRule:
    def __init__(self, kind, probability=1.0, methods=None, path=None, count=None,
                 latency_ms=0, retry_after=1):
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        self.kind = kind
        self.probability = float(probability)
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self.methods = [m.upper() for m in methods] if methods else None
        self.path = path.lower() if path else None
        self.count = int(count) if count is not None else None
        self.latency_ms = int(latency_ms)
        self.retry_after = int(retry_after)
        self.fired = 0

    def applies(self, method, path):
        if self.methods and method not in self.methods:
            return False
        if self.path and self.path not in path.lower():
            return False
        return self.count is None or self.fired < self.count

    def as_dict(self):
        return {"kind": self.kind, "probability": self.probability, "methods": self.methods,
                "path": self.path, "count": self.count, "latency_ms": self.latency_ms,
                "retry_after": self.retry_after, "fired": self.fired}


def parse_spec(spec):
    """Parse 'drop_after=1,methods=POST,path=/backup,count=1;429=0.05;seed=7'."""
    rules, settings = [], {}
    for part in filter(None, (p.strip() for p in (spec or "").split(";"))):
        fields = {}
        for item in part.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError("fault item %r is not key=value" % item)
            fields[key.strip()] = value.strip()
        kind = next((k for k in fields if k in KINDS), None)
        if kind is None:
            settings.update(fields)
            continue
        rules.append(FaultRule(
            kind, probability=fields.pop(kind),
            methods=fields.pop("methods", "").split("|") if fields.get("methods") else None,
            path=fields.pop("path", None), count=fields.pop("count", None),
            latency_ms=fields.pop("latency_ms", 0), retry_after=fields.pop("retry_after", 1)))
        fields.pop("methods", None)
        if fields:
            raise ValueError("unknown fault options: %s" % ", ".join(sorted(fields)))
    return rules, settings


class Faults:
    def __init__(self, spec=None, buckets=None, monotonic=time.monotonic):
        self._lock = threading.Lock()
        self.rules = []
        self.seed = 0
        self.throttle = True
        self.buckets = dict(buckets or BUCKETS)
        self.monotonic = monotonic      # the clock of the buckets (tests pass a fake one)
        self.job_reads_per_hour = JOB_READS_PER_HOUR
        self._rng = random.Random(0)
        self._buckets = {}
        self._job_reads = {}
        if spec:
            self.configure_spec(spec)

    def configure_spec(self, spec):
        rules, settings = parse_spec(spec)
        self.configure(rules=[r.as_dict() for r in rules], **settings)

    def configure(self, rules=None, seed=None, throttle=None, job_reads_per_hour=None):
        with self._lock:
            if rules is not None:
                self.rules = [FaultRule(**{k: v for k, v in r.items() if k != "fired"})
                              for r in rules]
            if seed is not None:
                self.seed = int(seed)
                self._rng = random.Random(self.seed)
            if throttle is not None:
                self.throttle = str(throttle).lower() in ("1", "true", "on", "yes")
            if job_reads_per_hour is not None:
                self.job_reads_per_hour = int(job_reads_per_hour)

    def describe(self):
        return {"rules": [r.as_dict() for r in self.rules], "seed": self.seed,
                "throttle": self.throttle, "job_reads_per_hour": self.job_reads_per_hour}

    def reset_counters(self):
        with self._lock:
            self._buckets.clear()
            self._job_reads.clear()

    def pick(self, method, path):
        """The fault rules that fire for this request (at most one per kind)."""
        fired = []
        answered = False   # at most one of 429/500/503/drop_* per request; latency adds up
        with self._lock:
            for rule in self.rules:
                if rule.kind != "latency" and answered:
                    continue
                if rule.applies(method, path) and self._rng.random() < rule.probability:
                    rule.fired += 1
                    fired.append(rule)
                    answered = answered or rule.kind != "latency"
        return fired

    # -- ARM token buckets --------------------------------------------------
    def take_token(self, principal, subscription, kind):
        """Take one token of `kind` for a request; return (allowed, remaining, retry_after).

        `subscription` None means a tenant-level request (its own bucket). The bucket is kept
        whether or not throttling is enforced, so `remaining` (the token count left after this
        request, what x-ms-ratelimit-remaining-* reports) is always the bucket's level. A refused
        request takes no token; its retry_after is the time until one token is back, rounded up
        to whole seconds, at least 1.
        """
        size, rate = self.buckets[kind]
        key = (principal, subscription, kind)
        now = self.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(size), now))
            tokens = min(float(size), tokens + max(0.0, now - last) * rate)
            if tokens < 1.0 and self.throttle:
                self._buckets[key] = (tokens, now)
                return False, 0, max(1, math.ceil((1.0 - tokens) / rate - 1e-9))
            tokens = max(0.0, tokens - 1.0)
            self._buckets[key] = (tokens, now)
            return True, int(tokens), 0

    # -- Azure Backup job reads ---------------------------------------------
    def take_job_read(self, principal, subscription):
        """Return (allowed, retry_after_seconds) for one backupJobs/read."""
        if self.job_reads_per_hour <= 0:
            return True, 0
        key = (principal, subscription)
        now = self.monotonic()
        with self._lock:
            window = self._job_reads.setdefault(key, deque())
            while window and now - window[0] >= 3600.0:
                window.popleft()
            if len(window) >= self.job_reads_per_hour:
                return False, max(1, int(3600.0 - (now - window[0]) + 0.999))
            window.append(now)
            return True, 0
