"""The bundled sample on PostgreSQL: ingest, upsert counts and every feed query give what they
give on SQLite, paper for paper (one sample store per engine, built once for this module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import pytest
from sqlalchemy import Connection, select

from paperfeed.db import Database
from paperfeed.db.feed import (
    count_featured,
    days_featured,
    latest_feed_day,
    nearest_feed_days,
    neighbour_days,
    papers_for_day,
    papers_for_period,
    recent_in_category,
)
from paperfeed.db.papers import count_papers, iter_papers
from paperfeed.db.schema import feed_entries
from paperfeed.db.trending import trending_papers
from paperfeed.db.upvotes import card_stats, set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from paperfeed.models import ImportSummary

T = TypeVar("T")


@dataclass(frozen=True)
class Twins:
    """The same sample in SQLite and PostgreSQL, with what each import reported."""

    lite: Database
    pg: Database
    lite_summary: ImportSummary
    pg_summary: ImportSummary
    voted: dt.datetime  # just after the reader's upvotes: trending is compared at this moment

    def both(self, query: Callable[[Connection], T]) -> tuple[T, T]:
        """`query` on SQLite, then on PostgreSQL."""
        with self.lite.read() as lite, self.pg.read() as pg:
            return query(lite), query(pg)


@pytest.fixture(scope="module")
def twins(migrated_pg: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    folder: Path = tmp_path_factory.mktemp("sqlite-twin")
    lite = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    lite.migrate()
    lite_summary = run_ingest(lite, sample_source())
    pg_summary = run_ingest(migrated_pg, sample_source())
    # One reader's upvotes, so trending counts reader votes too; cast at the same moment in
    # both stores, or the decay of the time between the two loops shows in the scores.
    cast = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for db in (lite, migrated_pg):
        with db.write() as conn:
            user = get_or_create_user(conn, "reader@example.org")
            for paper_id in _first_ids(db, 5):
                set_upvote(conn, user.user_id, paper_id, on=True, now=cast)
    voted = cast + dt.timedelta(minutes=1)
    yield Twins(lite, migrated_pg, lite_summary, pg_summary, voted)
    lite.dispose()


def _first_ids(db: Database, n: int) -> list[str]:
    with db.read() as conn:
        query = select(feed_entries.c.paper_id).order_by(feed_entries.c.paper_id).limit(n)
        return list(conn.scalars(query))


def test_ingest_reports_the_same_on_both_engines(twins: Twins) -> None:
    assert twins.pg.engine.dialect.name == "postgresql"
    lite, pg = twins.lite_summary, twins.pg_summary
    assert lite.imported > 2000 and lite.featured > 2000
    assert (pg.imported, pg.updated, pg.featured) == (lite.imported, lite.updated, lite.featured)


def test_importing_again_changes_nothing(twins: Twins) -> None:
    again = run_ingest(twins.pg, sample_source())
    assert (again.imported, again.updated, again.featured) == (0, 0, 0)
    assert again.unchanged == twins.pg_summary.imported


def test_every_stored_paper_reads_back_the_same(twins: Twins) -> None:
    lite, pg = twins.both(lambda c: {p.paper_id: p for batch in iter_papers(c) for p in batch})
    assert len(pg) > 2000
    assert pg == lite  # dates, times, JSON lists, statuses and hashes survive both dialects
    lite_counts, pg_counts = twins.both(count_papers)
    assert pg_counts == lite_counts


def test_feed_days_and_navigation_agree(twins: Twins) -> None:
    lite_day, pg_day = twins.both(latest_feed_day)
    assert lite_day is not None and pg_day == lite_day
    day: dt.date | None = lite_day
    seen = 0
    while day is not None:
        lite_items, pg_items = twins.both(lambda c, d=day: papers_for_day(c, d))
        assert lite_items and pg_items == lite_items  # same papers, order and upvotes
        lite_nav, pg_nav = twins.both(lambda c, d=day: neighbour_days(c, d))
        assert pg_nav == lite_nav
        day, seen = lite_nav[0], seen + 1
    assert seen == 5  # the sample's five days, walked back from the latest


def test_period_queries_agree(twins: Twins) -> None:
    start, end = dt.date(2026, 3, 16), dt.date(2026, 3, 23)
    for offset in (0, 30):
        lite, pg = twins.both(lambda c, o=offset: papers_for_period(c, start, end, offset=o))
        assert len(lite) == 30 and pg == lite
    lite_count, pg_count = twins.both(lambda c: count_featured(c, start, end))
    assert lite_count > 2000 and pg_count == lite_count
    lite_near, pg_near = twins.both(lambda c: nearest_feed_days(c, dt.date(2026, 3, 18), end))
    assert pg_near == lite_near == (dt.date(2026, 3, 17), None)


def test_category_days_and_cards_agree(twins: Twins) -> None:
    lite, pg = twins.both(lambda c: recent_in_category(c, "cs.CL", limit=20))
    assert len(lite) == 20 and pg == lite
    ids = _first_ids(twins.lite, 8)
    lite_days, pg_days = twins.both(lambda c: [days_featured(c, i) for i in ids])
    assert all(lite_days) and pg_days == lite_days
    lite_cards, pg_cards = twins.both(lambda c: card_stats(c, ids, user_id=1))
    assert pg_cards == lite_cards
    assert sum(s.upvoted for s in lite_cards.values()) == 5


@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_trending_agrees(twins: Twins, window: Literal["day", "week", "month"]) -> None:
    lite, pg = twins.both(lambda c: trending_papers(c, window=window, now=twins.voted, limit=20))
    assert lite, "the reader's upvotes make something trend"
    assert [(t.paper.paper_id, t.upvotes) for t in pg] == [
        (t.paper.paper_id, t.upvotes) for t in lite
    ]
    assert [t.score for t in pg] == pytest.approx([t.score for t in lite])
