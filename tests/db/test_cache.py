"""The list cache: reused until the store changes, loaded once under concurrent misses."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from paperfeed.db import Database
from paperfeed.db.cache import FeedCache, cached
from paperfeed.db.changes import store_version
from paperfeed.db.users import get_or_create_user


def test_a_commit_from_another_connection_changes_the_version(db: Database, tmp_path: Path) -> None:
    before = store_version(db)
    assert before is not None and store_version(db) == before
    other = Database(f"sqlite:///{tmp_path / 'paperfeed.db'}")  # another engine, same file
    with other.write() as conn:
        get_or_create_user(conn, "reader@example.org")
    other.dispose()
    assert store_version(db) != before


def test_memory_stores_are_not_cached() -> None:
    db = Database("sqlite:///:memory:")
    assert store_version(db) is None
    calls: list[int] = []
    for _ in range(2):
        cached(db, "key", lambda: calls.append(1))
    assert len(calls) == 2
    db.dispose()


def test_values_are_reused_until_the_store_changes(db: Database) -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cached(db, "k", load) == 1
    assert cached(db, "k", load) == 1
    with db.write() as conn:
        get_or_create_user(conn, "reader@example.org")
    assert cached(db, "k", load) == 2


def test_concurrent_misses_load_once() -> None:
    cache = FeedCache()
    loads: list[int] = []

    def slow() -> str:
        loads.append(1)
        time.sleep(0.2)
        return "value"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load(1, "k", slow)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["value"] * 8 and len(loads) == 1
    assert cache.get_or_load(2, "k", lambda: "new") == "new"


def test_the_cache_keeps_the_most_recently_used_entries() -> None:
    cache = FeedCache(max_entries=2)
    for key in "abc":
        cache.get_or_load(1, key, lambda key=key: key)
    assert cache.get_or_load(1, "a", lambda: "reloaded") == "reloaded"
    assert cache.get_or_load(1, "c", lambda: "reloaded") == "c"
