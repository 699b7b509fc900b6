"""The arXiv listing in the store: which paper was announced on which day, in which category,
as what (new, cross-list, replacement); curators' unfeatures; members' recent interest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, tuple_, union

from paperfeed.db.schema import (
    announcements,
    collection_items,
    feed_entries,
    feed_vetoes,
    upvotes,
    users,
    utc_now,
)
from paperfeed.db.users import public_name

KINDS = ("new", "cross-list", "replacement")


@dataclass(frozen=True, slots=True)
class Announcement:
    """One line of a day's listing."""

    day: dt.date
    category: str
    paper_id: str
    kind: str
    version: int | None = None


def record_announcements(conn: Connection, rows: Sequence[Announcement]) -> int:
    """Store listing lines (idempotent: a line already there is kept); return how many are new."""
    if not rows:
        return 0
    unique = {(a.day, a.category, a.paper_id): a for a in rows}
    keys = list(unique)
    existing: set[tuple[dt.date, str, str]] = set()
    for start in range(0, len(keys), 300):
        chunk = keys[start : start + 300]
        query = select(announcements.c.day, announcements.c.category, announcements.c.paper_id)
        query = query.where(
            tuple_(announcements.c.day, announcements.c.category, announcements.c.paper_id).in_(
                chunk
            )
        )
        existing.update((r.day, r.category, r.paper_id) for r in conn.execute(query))
    new = [
        {"day": a.day, "category": a.category, "paper_id": a.paper_id, "kind": a.kind}
        | {"version": a.version}
        for key, a in unique.items()
        if key not in existing
    ]
    if new:
        conn.execute(announcements.insert(), new)
    return len(new)


def announced_on(
    conn: Connection, day: dt.date, *, kinds: Sequence[str] = KINDS
) -> list[Announcement]:
    """The listing of one day, by category then paper id."""
    query = (
        select(announcements)
        .where(announcements.c.day == day, announcements.c.kind.in_(list(kinds)))
        .order_by(announcements.c.category, announcements.c.paper_id)
    )
    return [
        Announcement(r.day, r.category, r.paper_id, r.kind, r.version) for r in conn.execute(query)
    ]


def latest_announcement_day(conn: Connection) -> dt.date | None:
    """The newest listing day stored."""
    day: dt.date | None = conn.scalar(select(func.max(announcements.c.day)))
    return day


def veto_feature(conn: Connection, *, paper_id: str, day: dt.date, user_id: int | None) -> None:
    """Remember that a curator took a paper off a day's feed: the worker never puts it back."""
    conn.execute(
        delete(feed_vetoes).where(feed_vetoes.c.day == day, feed_vetoes.c.paper_id == paper_id)
    )
    conn.execute(
        feed_vetoes.insert().values(
            day=day, paper_id=paper_id, user_id=user_id, vetoed_at=utc_now()
        )
    )


def clear_veto(conn: Connection, *, paper_id: str, day: dt.date) -> None:
    """Forget an unfeature (the paper was featured again by hand)."""
    conn.execute(
        delete(feed_vetoes).where(feed_vetoes.c.day == day, feed_vetoes.c.paper_id == paper_id)
    )


def vetoed_on(conn: Connection, day: dt.date) -> set[str]:
    """The papers curators took off a day's feed."""
    query = select(feed_vetoes.c.paper_id).where(feed_vetoes.c.day == day)
    return set(conn.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class FeedPlace:
    """Who put a paper on a day's feed: the entry's source, and the member (display name or
    the address's local part) who featured it, None for imports and the policy."""

    source: str
    featured_by: str | None


def feed_places(conn: Connection, day: dt.date) -> dict[str, FeedPlace]:
    """The papers on a day's feed, each with who put it there."""
    query = (
        select(
            feed_entries.c.paper_id,
            feed_entries.c.source,
            users.c.display_name,
            users.c.handle,
            users.c.user_id,
        )
        .outerjoin(users, users.c.user_id == feed_entries.c.featured_by)
        .where(feed_entries.c.day == day)
    )
    return {
        row.paper_id: FeedPlace(
            row.source,
            row.display_name
            or (public_name(row.handle, row.user_id) if row.user_id is not None else None),
        )
        for row in conn.execute(query)
    }


def featured_on(conn: Connection, day: dt.date) -> set[str]:
    """The papers on a day's feed, whoever put them there."""
    query = select(feed_entries.c.paper_id).where(feed_entries.c.day == day)
    return set(conn.execute(query).scalars())


def interest_paper_ids(conn: Connection, *, since: dt.datetime) -> list[str]:
    """The papers members upvoted or saved to a collection since `since` (the hub's interest)."""
    voted = select(upvotes.c.paper_id).where(upvotes.c.created_at >= since)
    saved = select(collection_items.c.paper_id).where(collection_items.c.added_at >= since)
    both = union(voted, saved).subquery()
    return sorted(conn.execute(select(both.c.paper_id)).scalars())


def announcement_days(conn: Connection, *, limit: int = 30) -> list[dt.date]:
    """The listing days stored, newest first."""
    query = select(announcements.c.day).distinct().order_by(announcements.c.day.desc()).limit(limit)
    return list(conn.execute(query).scalars())
