"""Upvotes in the store, and what a paper card shows (upvotes, comments, mine, keyphrases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from paperfeed.db.keyphrases import get_keyphrases
from paperfeed.db.links import NO_LINKS, PaperLinks, links_of
from paperfeed.db.schema import comments, feed_entries, upvotes, utc_now


@dataclass(frozen=True, slots=True)
class CardStats:
    """What a paper card shows: upvotes (imported + readers'), comments, the reader's vote, the
    paper's keyphrases (best first) and its code and project links."""

    upvotes: int = 0
    comments: int = 0
    upvoted: bool = False
    keyphrases: tuple[str, ...] = ()
    links: PaperLinks = NO_LINKS


def set_upvote(
    conn: Connection, user_id: int, paper_id: str, *, on: bool, now: dt.datetime | None = None
) -> bool:
    """Cast (on) or withdraw (off) a reader's upvote at `now` (default: the clock); True if
    anything changed.

    Idempotent: a second upvote by the same reader changes nothing.
    """
    if on:
        exists = conn.scalar(
            select(func.count())
            .select_from(upvotes)
            .where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
        )
        if exists:
            return False
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(upvotes).values(
                        user_id=user_id, paper_id=paper_id, created_at=now or utc_now()
                    )
                )
        except IntegrityError:  # a double click raced us
            return False
        return True
    result = conn.execute(
        delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
    )
    return result.rowcount == 1


def has_upvoted(conn: Connection, user_id: int, paper_id: str) -> bool:
    return bool(
        conn.scalar(
            select(func.count())
            .select_from(upvotes)
            .where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
        )
    )


def card_stats(
    conn: Connection, paper_ids: Sequence[str], *, user_id: int | None
) -> dict[str, CardStats]:
    """Stats for each paper id (papers without any get zeros).

    upvotes = the imported Hugging Face count (the highest one among the paper's feed entries)
    + the readers' upvotes in the store.
    """
    ids = list(dict.fromkeys(paper_ids))
    imported: dict[str, int] = {}
    readers: dict[str, int] = {}
    counted: dict[str, int] = {}
    mine: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pid, count in conn.execute(
            select(feed_entries.c.paper_id, func.max(feed_entries.c.upvotes))
            .where(feed_entries.c.paper_id.in_(chunk))
            .group_by(feed_entries.c.paper_id)
        ):
            imported[pid] = int(count or 0)
        for pid, count in conn.execute(
            select(upvotes.c.paper_id, func.count())
            .where(upvotes.c.paper_id.in_(chunk))
            .group_by(upvotes.c.paper_id)
        ):
            readers[pid] = int(count)
        for pid, count in conn.execute(
            select(comments.c.paper_id, func.count())
            .where(
                comments.c.paper_id.in_(chunk),
                comments.c.hidden_at.is_(None),
                comments.c.deleted_at.is_(None),
            )
            .group_by(comments.c.paper_id)
        ):
            counted[pid] = int(count)
        if user_id is not None:
            mine.update(
                conn.scalars(
                    select(upvotes.c.paper_id).where(
                        upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(chunk)
                    )
                )
            )
    phrases = get_keyphrases(conn, ids)
    links = links_of(conn, ids)
    return {
        pid: CardStats(
            imported.get(pid, 0) + readers.get(pid, 0),
            counted.get(pid, 0),
            pid in mine,
            tuple(phrases.get(pid, ())),
            links.get(pid, NO_LINKS),
        )
        for pid in ids
    }
