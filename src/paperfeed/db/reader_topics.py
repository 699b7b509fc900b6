"""A reader's chosen topics in the store: arXiv categories and saved searches, For you's topic
signals (table `reader_topics`, one row per reader, kind and value).

The limits live here so that every face (the page, the API) meets the same ones: at most
`MAX_CATEGORIES` categories and `MAX_SEARCHES` searches per reader, a search of at most
`MAX_SEARCH_CHARS` characters (spaces collapsed), a category shaped like an arXiv one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, exists, insert, select

from paperfeed.db.schema import reader_topics, utc_now

TopicKind = Literal["category", "search"]
TOPIC_KINDS: tuple[TopicKind, ...] = ("category", "search")
MAX_CATEGORIES = 20
MAX_SEARCHES = 10
MAX_SEARCH_CHARS = 200
MAX_CATEGORY_CHARS = 40
# An arXiv category: an archive (cs, hep-th, astro-ph…) and, for most, a subject class after a
# dot (cs.CL, math.AG, cond-mat.stat-mech, physics.comp-ph).
CATEGORY_PATTERN = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TopicError(ValueError):
    """A topic that cannot be kept (malformed, too long, or over the reader's limit); the
    message says why, for the reader."""


@dataclass(frozen=True, slots=True)
class ReaderTopics:
    """A reader's categories and saved searches, oldest first."""

    categories: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.categories or self.searches)


def checked_category(value: str) -> str:
    """The category, stripped; `TopicError` unless it is shaped like an arXiv category."""
    value = value.strip()
    if len(value) > MAX_CATEGORY_CHARS or not CATEGORY_PATTERN.fullmatch(value):
        shown = value[:MAX_CATEGORY_CHARS] + ("…" if len(value) > MAX_CATEGORY_CHARS else "")
        raise TopicError(f"{shown!r} is not an arXiv category (like cs.CL or hep-th)")
    return value


def checked_search(value: str) -> str:
    """The query with its spaces collapsed; `TopicError` when empty, too long or holding
    control characters."""
    query = " ".join(_CONTROL.sub(" ", value).split())
    if not query:
        raise TopicError("a saved search needs some words")
    if len(query) > MAX_SEARCH_CHARS:
        raise TopicError(
            f"a saved search is at most {MAX_SEARCH_CHARS} characters; this one has {len(query)}"
        )
    return query


def checked(kind: str, value: str) -> tuple[TopicKind, str]:
    if kind == "category":
        return "category", checked_category(value)
    if kind == "search":
        return "search", checked_search(value)
    raise TopicError(f"a topic is a category or a search, not {kind[:20]!r}")


def _limit(kind: TopicKind) -> int:
    return MAX_CATEGORIES if kind == "category" else MAX_SEARCHES


def _too_many(kind: TopicKind) -> TopicError:
    what = "categories" if kind == "category" else "saved searches"
    return TopicError(f"at most {_limit(kind)} {what}: remove one first")


def topics_of(conn: Connection, *, user_id: int) -> ReaderTopics:
    rows = conn.execute(
        select(reader_topics.c.kind, reader_topics.c.value)
        .where(reader_topics.c.user_id == user_id)
        .order_by(reader_topics.c.created_at, reader_topics.c.value)
    ).all()
    return ReaderTopics(
        tuple(r.value for r in rows if r.kind == "category"),
        tuple(r.value for r in rows if r.kind == "search"),
    )


def has_topics(conn: Connection, *, user_id: int) -> bool:
    query = select(exists().where(reader_topics.c.user_id == user_id))
    return bool(conn.execute(query).scalar())


def add_topic(
    conn: Connection, *, user_id: int, kind: str, value: str, now: dt.datetime | None = None
) -> bool:
    """Keep a category or saved search for the reader (checked first); False when they had it
    already, `TopicError` when malformed or over their limit."""
    kind_, value = checked(kind, value)
    current = topics_of(conn, user_id=user_id)
    held = current.categories if kind_ == "category" else current.searches
    if value in held:
        return False
    if len(held) >= _limit(kind_):
        raise _too_many(kind_)
    conn.execute(
        insert(reader_topics).values(
            user_id=user_id, kind=kind_, value=value, created_at=now or utc_now()
        )
    )
    return True


def remove_topic(conn: Connection, *, user_id: int, kind: str, value: str) -> bool:
    """Forget one of the reader's topics; False when they did not have it."""
    if kind not in TOPIC_KINDS:
        return False
    value = " ".join(value.split()) if kind == "search" else value.strip()
    done = conn.execute(
        delete(reader_topics).where(
            reader_topics.c.user_id == user_id,
            reader_topics.c.kind == kind,
            reader_topics.c.value == value,
        )
    )
    return bool(done.rowcount)


def replace_topics(
    conn: Connection,
    *,
    user_id: int,
    categories: Sequence[str],
    searches: Sequence[str],
    now: dt.datetime | None = None,
) -> ReaderTopics:
    """Make these the reader's topics (duplicates dropped, order kept), all checked before any
    is stored: `TopicError` changes nothing."""
    wanted = ReaderTopics(
        tuple(dict.fromkeys(checked_category(c) for c in categories)),
        tuple(dict.fromkeys(checked_search(q) for q in searches)),
    )
    if len(wanted.categories) > MAX_CATEGORIES:
        raise _too_many("category")
    if len(wanted.searches) > MAX_SEARCHES:
        raise _too_many("search")
    when = now or utc_now()
    conn.execute(delete(reader_topics).where(reader_topics.c.user_id == user_id))
    rows = [
        {
            "user_id": user_id,
            "kind": kind,
            "value": value,
            # Keep the order given: each later row one microsecond newer.
            "created_at": when + dt.timedelta(microseconds=i),
        }
        for i, (kind, value) in enumerate(
            [("category", c) for c in wanted.categories] + [("search", q) for q in wanted.searches]
        )
    ]
    if rows:
        conn.execute(insert(reader_topics), rows)
    return wanted
