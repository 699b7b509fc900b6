"""What list pages show about featured papers besides the papers: who featured each one and
when, and how many papers of a period each category has (the category filter's totals)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from paperfeed.db.schema import feed_entries, papers, users
from paperfeed.db.users import public_name
from paperfeed.models import PaperStatus


@dataclass(frozen=True, slots=True)
class Featured:
    """A paper's latest feed entry: the day, where it came from, and who featured it (a
    reader's display name, or None for imports)."""

    day: dt.date
    source: str
    submitter: str | None


def featurings(conn: Connection, paper_ids: Sequence[str]) -> dict[str, Featured]:
    """The latest feed entry of each paper that has one."""
    found: dict[str, Featured] = {}
    for start in range(0, len(paper_ids), 400):
        chunk = list(paper_ids[start : start + 400])
        query = (
            select(
                feed_entries.c.paper_id,
                feed_entries.c.day,
                feed_entries.c.source,
                users.c.display_name,
                users.c.handle,
                users.c.user_id,
            )
            .outerjoin(users, users.c.user_id == feed_entries.c.featured_by)
            .where(feed_entries.c.paper_id.in_(chunk))
            .order_by(feed_entries.c.day)
        )
        for row in conn.execute(query):  # later days overwrite earlier ones
            name = row.display_name or (
                public_name(row.handle, row.user_id) if row.user_id is not None else None
            )
            found[row.paper_id] = Featured(row.day, row.source, name)
    return found


def category_counts(conn: Connection, start: dt.date, end: dt.date) -> list[tuple[str, int]]:
    """How many visible papers featured from `start` to `end` (excluded) are in each category
    (primary or cross-listed), most first, then by name."""
    featured = (
        select(feed_entries.c.paper_id)
        .where(feed_entries.c.day >= start, feed_entries.c.day < end)
        .distinct()
        .subquery()
    )
    query = (
        select(papers.c.primary_category, papers.c.categories)
        .join(featured, featured.c.paper_id == papers.c.paper_id)
        .where(papers.c.status == PaperStatus.ACTIVE.value)
    )
    counts: Counter[str] = Counter()
    for row in conn.execute(query):
        counts.update({name for name in [row.primary_category, *(row.categories or ())] if name})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
