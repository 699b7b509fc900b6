"""A small in-process cache for lists read from the store, keyed by its change counter.

An entry is served only while nothing has been committed to the store since it was loaded
(`paperfeed.db.changes.store_version`), so an upvote or a new paper shows on the next request,
in every worker. Stores that cannot tell (PostgreSQL) are not cached.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from paperfeed.db.changes import store_version
from paperfeed.db.engine import Database

T = TypeVar("T")


class FeedCache:
    """The most recently used `max_entries` results of list queries for one store."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}

    def peek(self, version: int | None, key: Hashable) -> Any:
        """The value stored for `key` at `version`, or None; never loads."""
        if version is None:
            return None
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                self._entries.move_to_end(key)
                return hit[1]
        return None

    def get_or_load(self, version: int | None, key: Hashable, load: Callable[[], T]) -> T:
        """Return the value stored for `key` at `version`, or `load()` it and keep it.

        Concurrent misses of one key load it once: the others wait for that result instead
        of all running the same query at once (which, under load, multiplied its latency).
        """
        if version is None:
            return load()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                self._entries.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and hit[0] == version:
                    return hit[1]  # type: ignore[no-any-return]
            try:
                value = load()
                with self._lock:
                    self._entries[key] = (version, value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
        return value


_caches: weakref.WeakKeyDictionary[Database, FeedCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_of(db: Database) -> FeedCache:
    with _caches_lock:
        cache = _caches.get(db)
        if cache is None:
            cache = _caches[db] = FeedCache()
    return cache


def peek(db: Database, key: Hashable) -> Any:
    """The value `cached` holds for `key` while the store is unchanged, else None.

    It reads no table (only the change counter), so async routes call it on the event loop
    and go to the thread pool only on a miss.
    """
    return _cache_of(db).peek(store_version(db), key)


def cached(db: Database, key: Hashable, load: Callable[[], T]) -> T:
    """Return `load()`'s result for `key`, reusing it until the store changes."""
    return _cache_of(db).get_or_load(store_version(db), key, load)
