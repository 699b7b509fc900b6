"""Change detection for caches: has anything been committed to the store since last asked?

SQLite's `PRAGMA data_version` on a connection that never writes changes whenever any other
connection, in this process or another one, commits (https://sqlite.org/pragma.html#pragma_data_version).
That makes it a cheap (microseconds), exact key for caches in every web worker.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref

from paperfeed.db.engine import Database


class ChangeCounter:
    """A number that changes whenever something is committed to one SQLite database file."""

    def __init__(self, path: str) -> None:
        # Never used to write, so every commit the store sees comes from another connection.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def version(self) -> int:
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_counters: weakref.WeakKeyDictionary[Database, ChangeCounter] = weakref.WeakKeyDictionary()
_counters_lock = threading.Lock()


def store_version(db: Database) -> int | None:
    """A number that changes with every commit to `db`, or None where that cannot be told.

    PostgreSQL and in-memory SQLite give None: callers then do not cache.
    """
    if not db.is_sqlite or not db.url.database or db.url.database == ":memory:":
        return None
    counter = _counters.get(db)
    if counter is None:
        with _counters_lock:
            counter = _counters.get(db)
            if counter is None:
                counter = ChangeCounter(db.url.database)
                _counters[db] = counter
                # The counter's connection closes with the Database it watches.
                weakref.finalize(db, counter.close)
    return counter.version()
