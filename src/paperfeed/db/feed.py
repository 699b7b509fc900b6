"""Feed entries in the store: which paper is featured on which day, by whom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select, and_, bindparam, select, tuple_

from paperfeed.db.papers import _now, _record
from paperfeed.db.schema import feed_entries, papers
from paperfeed.models import Featuring, PaperRecord, PaperStatus


def feature_papers(conn: Connection, featurings: Sequence[Featuring]) -> int:
    """Feature papers on days (idempotent); return how many entries are new.

    An entry already there keeps its day and curator; an imported upvote count is raised
    to the newer figure, never lowered.
    """
    if not featurings:
        return 0
    unique = {(f.day, f.paper_id): f for f in featurings}
    keys = list(unique)
    existing: dict[tuple[dt.date, str], int] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        query = select(feed_entries.c.day, feed_entries.c.paper_id, feed_entries.c.upvotes).where(
            tuple_(feed_entries.c.day, feed_entries.c.paper_id).in_(chunk)
        )
        for row in conn.execute(query):
            existing[(row.day, row.paper_id)] = row.upvotes
    now = _now()
    new_rows = [
        {
            "day": f.day,
            "paper_id": f.paper_id,
            "source": f.source,
            "featured_by": None,
            "upvotes": f.upvotes,
            "featured_at": now,
        }
        for key, f in unique.items()
        if key not in existing
    ]
    if new_rows:
        conn.execute(feed_entries.insert(), new_rows)
    raised = [
        {"b_day": f.day, "b_paper_id": f.paper_id, "b_upvotes": f.upvotes}
        for key, f in unique.items()
        if key in existing and f.upvotes > existing[key]
    ]
    if raised:
        conn.execute(
            feed_entries.update()
            .where(
                and_(
                    feed_entries.c.day == bindparam("b_day"),
                    feed_entries.c.paper_id == bindparam("b_paper_id"),
                )
            )
            .values(upvotes=bindparam("b_upvotes")),
            raised,
        )
    return len(new_rows)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One card of the daily feed."""

    paper: PaperRecord
    day: dt.date
    upvotes: int
    source: str


def papers_for_day(conn: Connection, day: dt.date, *, limit: int = 500) -> list[FeedItem]:
    """The visible papers featured on `day`, most upvoted first, then by id."""
    query = (
        select(papers, feed_entries.c.day, feed_entries.c.upvotes, feed_entries.c.source)
        .join(feed_entries, feed_entries.c.paper_id == papers.c.paper_id)
        .where(feed_entries.c.day == day, papers.c.status == PaperStatus.ACTIVE.value)
        .order_by(feed_entries.c.upvotes.desc(), papers.c.paper_id.desc())
        .limit(limit)
    )
    return [FeedItem(_record(row), row.day, row.upvotes, row.source) for row in conn.execute(query)]


def _visible_days() -> Select[dt.date]:
    return (
        select(feed_entries.c.day)
        .join(papers, papers.c.paper_id == feed_entries.c.paper_id)
        .where(papers.c.status == PaperStatus.ACTIVE.value)
    )


def latest_feed_day(conn: Connection) -> dt.date | None:
    """The most recent day that has a visible featured paper."""
    return conn.scalar(_visible_days().order_by(feed_entries.c.day.desc()).limit(1))


def neighbour_days(conn: Connection, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The nearest earlier and later days that have visible featured papers."""
    earlier = conn.scalar(
        _visible_days().where(feed_entries.c.day < day).order_by(feed_entries.c.day.desc()).limit(1)
    )
    later = conn.scalar(
        _visible_days().where(feed_entries.c.day > day).order_by(feed_entries.c.day.asc()).limit(1)
    )
    return earlier, later


def days_featured(conn: Connection, paper_id: str) -> list[dt.date]:
    """The days on which a paper was featured, oldest first."""
    query = (
        select(feed_entries.c.day)
        .where(feed_entries.c.paper_id == paper_id)
        .order_by(feed_entries.c.day)
    )
    return list(conn.scalars(query))
