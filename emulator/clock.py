"""Time: real UTC plus an adjustable offset, service durations scaled, and
a scheduler whose due events run at the start of every request.

Jobs and long-running operations take the durations Azure takes (seconds of
"Azure time"); --time-scale converts them to wall-clock seconds, so a
41-minute backup job lasts 2.5 s at the default scale of 0.001.
"""

import heapq
import itertools
from datetime import timedelta

from .arm import iso, parse_iso, utcnow

DEFAULT_TIME_SCALE = 0.001


class Clock:
    def __init__(self, store, time_scale=DEFAULT_TIME_SCALE):
        self.store = store
        self.time_scale = float(time_scale)
        meta = store.get("meta", "clock") or {}
        self.offset = float(meta.get("offset", 0.0))

    def now(self):
        return utcnow() + timedelta(seconds=self.offset)

    def advance(self, seconds):
        """Test hook: move the emulator's clock forward (soft-delete expiry, daily limits)."""
        self.offset += float(seconds)
        self.store.put("meta", "clock", {"offset": self.offset})

    def reset(self):
        """Back to real time (the admin API's reset; the store, cleared, forgets the offset)."""
        self.offset = 0.0

    def later(self, azure_seconds):
        """The wall-clock moment an Azure duration from now ends."""
        return self.now() + timedelta(seconds=azure_seconds * self.time_scale)

    def retry_after(self, azure_seconds, azure=None):
        """The Retry-After of a long-running operation's answer, or None for none.

        At time scale 1 the emulator copies Azure: ``azure`` is the Retry-After Azure sends on
        that answer (None where no source shows one; model.py's *_RETRY_AFTER say where the
        values come from). At any other scale it paces the client to the scaled operation:
        ``azure_seconds`` (the operation's Azure duration) scaled, never below 1 (0 makes
        azure-core wait 30 s).
        """
        if self.time_scale == 1:
            return None if azure is None else str(azure)
        return str(max(1, int(round(azure_seconds * self.time_scale))))

    def retry_header(self, azure_seconds, azure=None):
        """{"Retry-After": ...} as retry_after() says, or {} for none."""
        value = self.retry_after(azure_seconds, azure)
        return {} if value is None else {"Retry-After": value}


class Scheduler:
    """Persistent timed events (job task ends, operation completions, purges)."""

    def __init__(self, store, clock):
        self.store = store
        self.clock = clock
        self.handlers = {}
        self._heap = []
        self._seq = itertools.count()
        for doc in store.values("events"):
            heapq.heappush(self._heap, (doc["due"], next(self._seq), doc["id"]))

    def on(self, kind, func):
        self.handlers[kind] = func

    def at(self, when, kind, **data):
        event_id = "%s-%d" % (iso(self.clock.now()), next(self._seq))
        due = iso(when)
        self.store.put("events", event_id, {"id": event_id, "due": due, "kind": kind, "data": data})
        heapq.heappush(self._heap, (due, next(self._seq), event_id))
        return event_id

    def run_due(self):
        now = iso(self.clock.now())
        while self._heap and self._heap[0][0] <= now:
            _, _, event_id = heapq.heappop(self._heap)
            doc = self.store.get("events", event_id)
            if doc is None:
                continue
            self.store.delete("events", event_id)
            handler = self.handlers.get(doc["kind"])
            if handler is not None:
                handler(parse_iso(doc["due"]), **doc["data"])

    def pending(self):
        return len(self._heap)

    def clear(self):
        """Forget every pending event (the admin API's reset, after the store was cleared)."""
        self._heap.clear()


def mark_done(store, kind, key, when, status="Succeeded"):
    """Record that the operation document store[kind][key] ended at ``when``; return it."""
    doc = store.get(kind, key)
    if doc is None:
        return None
    doc["status"] = status
    doc["end"] = iso(when)
    store.put(kind, key, doc)
    return doc
