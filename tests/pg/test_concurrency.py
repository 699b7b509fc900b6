"""Two writers at once on PostgreSQL: they queue as on SQLite, and the insert races that the
store resolves with savepoints (double clicks, two workers) end as they do there.

Each race is made deterministic: the first writer keeps its transaction open until the
second one is seen waiting on a lock (pg_stat_activity), then commits.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import OperationalError

from paperfeed.db import Database
from paperfeed.db.collections import DuplicateName, create_collection
from paperfeed.db.papers import get_paper, upsert_papers
from paperfeed.db.ratelimits import hit_rate_limit
from paperfeed.db.schema import papers, rate_limits, upvotes
from paperfeed.db.sessions import site_key
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.models import PaperRecord

PAPER = PaperRecord("2603.00001", "Title", "Abstract", version=1)
NOW = dt.datetime(2026, 3, 20, 12, 0)


def _someone_waits_on_a_lock(db: Database) -> bool:
    with db.read() as conn:
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(conn.scalar(query))


def race(
    db: Database, first: Callable[[Connection], Any], second: Callable[[Connection], Any]
) -> tuple[Any, Any]:
    """Run `first` in a write transaction, then `second` in another one that has to wait for it;
    return what each returned (or the exception the second raised)."""
    first_done = threading.Event()

    def run_first() -> Any:
        with db.write() as conn:
            result = first(conn)
            first_done.set()
            deadline = time.monotonic() + 10
            while not _someone_waits_on_a_lock(db):
                assert time.monotonic() < deadline, "the second writer never waited"
                time.sleep(0.01)
        return result

    def run_second() -> Any:
        assert first_done.wait(10)
        try:
            with db.write() as conn:
                return second(conn)
        except Exception as error:  # the result under test
            return error

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.submit(run_first), pool.submit(run_second)
        return one.result(timeout=30), two.result(timeout=30)


def _user(db: Database, address: str = "reader@example.org") -> int:
    with db.write() as conn:
        return get_or_create_user(conn, address).user_id


def test_two_imports_of_the_same_new_paper_queue_instead_of_failing(db: Database) -> None:
    first, second = race(
        db, lambda c: upsert_papers(c, [PAPER]), lambda c: upsert_papers(c, [PAPER])
    )
    assert (first.imported, first.unchanged) == (1, 0)
    assert not isinstance(second, Exception), second
    assert (second.imported, second.unchanged) == (0, 1)
    with db.read() as conn:
        assert get_paper(conn, PAPER.paper_id) is not None


def test_a_double_click_upvotes_once(db: Database) -> None:
    with db.write() as conn:
        upsert_papers(conn, [PAPER])
    user = _user(db)

    def vote(conn: Connection) -> bool:
        return set_upvote(conn, user, PAPER.paper_id, on=True)

    assert race(db, vote, vote) == (True, False)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(upvotes)) == 1


def test_two_workers_share_one_site_key(db: Database) -> None:
    first, second = race(db, lambda c: site_key(c, "csrf"), lambda c: site_key(c, "csrf"))
    assert len(first) == 32 and second == first


def test_a_collection_name_taken_meanwhile_is_refused(db: Database) -> None:
    user = _user(db)
    first, second = race(
        db,
        lambda c: create_collection(c, user, "Reading"),
        lambda c: create_collection(c, user, "Reading"),
    )
    assert isinstance(first, int) and isinstance(second, DuplicateName)


def test_rate_limit_windows_count_every_hit(db: Database) -> None:
    now = dt.datetime(2026, 3, 20, 12)

    def hit(conn: Connection) -> float:
        return hit_rate_limit(conn, "comment:u:1", limit=5, window=dt.timedelta(minutes=1), now=now)

    assert race(db, hit, hit) == (0.0, 0.0)
    with db.read() as conn:
        assert conn.scalar(select(rate_limits.c.hits)) == 2


def test_a_writer_waits_at_most_the_busy_timeout_and_readers_never_wait(db: Database) -> None:
    impatient = Database(db.url.render_as_string(hide_password=False), busy_timeout_ms=200)
    try:
        with db.write() as conn:
            upsert_papers(conn, [PAPER])
            with impatient.read() as reader:  # not blocked, and sees only what is committed
                assert reader.scalar(select(func.count()).select_from(papers)) == 0
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"), impatient.write():
                pass
            assert 0.15 < time.monotonic() - started < 5
        with impatient.read() as conn:
            default = conn.exec_driver_sql("SHOW lock_timeout").scalar()
        with impatient.write() as conn:  # the lock went with the transaction; the timeout too
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == default
            assert get_paper(conn, PAPER.paper_id) is not None
    finally:
        impatient.dispose()


def test_a_write_without_the_store_lock_does_not_wait_for_the_store_writer(db: Database) -> None:
    # The digest ledger's claims and outcomes: concurrent senders must not take turns.
    impatient = Database(db.url.render_as_string(hide_password=False), busy_timeout_ms=200)
    try:
        with db.write() as conn:  # holds the store-wide lock until the end of the block
            conn.execute(rate_limits.insert().values(bucket="a", window_start=NOW, hits=1))
            started = time.monotonic()
            with impatient.write(store_lock=False) as other:
                other.execute(rate_limits.insert().values(bucket="b", window_start=NOW, hits=1))
            assert time.monotonic() - started < 2  # no wait for the lock (it would wait forever)
            with pytest.raises(OperationalError, match="lock timeout"), impatient.write():
                pass
        with db.read() as conn:
            assert sorted(conn.scalars(select(rate_limits.c.bucket))) == ["a", "b"]
    finally:
        impatient.dispose()
