"""The emulator's state: documents in memory, written through to SQLite.

Every request runs under one lock and commits its changes in one SQLite
transaction, so a crash mid-write leaves either the old or the new state,
never a torn one.  Without a state directory the store is memory only.
"""

import copy
import json
import os
import sqlite3
import threading


class Store:
    def __init__(self, state_dir=None):
        self.lock = threading.RLock()
        self._docs = {}
        self._dirty = set()
        self._db = None
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            path = os.path.join(state_dir, "state.sqlite3")
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, key TEXT NOT NULL, "
                "value TEXT NOT NULL, PRIMARY KEY (kind, key))")
            for kind, key, value in self._db.execute("SELECT kind, key, value FROM docs"):
                self._docs.setdefault(kind, {})[key] = json.loads(value)

    # -- documents ---------------------------------------------------------
    def get(self, kind, key, default=None):
        return self._docs.get(kind, {}).get(key, default)

    def put(self, kind, key, doc):
        self._docs.setdefault(kind, {})[key] = doc
        self._dirty.add((kind, key))
        return doc

    def delete(self, kind, key):
        if self._docs.get(kind, {}).pop(key, None) is not None:
            self._dirty.add((kind, key))

    def values(self, kind):
        return list(self._docs.get(kind, {}).values())

    def items(self, kind):
        return list(self._docs.get(kind, {}).items())

    def count(self, kind):
        return len(self._docs.get(kind, {}))

    def snapshot(self):
        return copy.deepcopy(self._docs)

    def clear(self):
        for kind, docs in self._docs.items():
            for key in docs:
                self._dirty.add((kind, key))
        self._docs = {}

    # -- transactions ------------------------------------------------------
    def commit(self):
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        if self._db is None:
            return
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for kind, key in dirty:
                doc = self._docs.get(kind, {}).get(key)
                if doc is None:
                    cur.execute("DELETE FROM docs WHERE kind=? AND key=?", (kind, key))
                else:
                    cur.execute(
                        "INSERT OR REPLACE INTO docs (kind, key, value) VALUES (?, ?, ?)",
                        (kind, key, json.dumps(doc, separators=(",", ":"))))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def discard(self):
        """Drop the changes of a request that failed half-way.

        With SQLite the dirtied documents are read back from the last commit;
        a memory-only store keeps them (it has nothing to go back to).
        """
        dirty, self._dirty = self._dirty, set()
        if self._db is None:
            return
        for kind, key in dirty:
            row = self._db.execute(
                "SELECT value FROM docs WHERE kind=? AND key=?", (kind, key)).fetchone()
            if row is None:
                self._docs.get(kind, {}).pop(key, None)
            else:
                self._docs.setdefault(kind, {})[key] = json.loads(row[0])

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None
