"""What a reader told the hub about papers, in the store: the evidence "For you" learns from.

Upvotes and collection items live in their own tables; this module adds the card signals
("more like this", "not interested") and reads all of a reader's evidence in one place. It also
keeps the secret of each reader's private For you feed (a SHA-256 hash; a new one replaces,
and so revokes, the old one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from paperfeed.db.schema import (
    author_follows,
    collection_items,
    collections,
    library_entries,
    papers,
    reader_feed_tokens,
    reader_signals,
    reader_topics,
    upvotes,
    users,
    utc_now,
)
from paperfeed.db.sessions import new_token, secret_hash
from paperfeed.db.users import User, user_from_row

SignalKind = Literal["more", "less"]
SIGNAL_KINDS: tuple[SignalKind, ...] = ("more", "less")

# Evidence kinds, as `ReaderEvidence.kind` names them: the card signals plus these two.
EvidenceKind = Literal["upvote", "collection", "more", "less"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One thing a reader did about one paper, with what an explanation names: the paper's
    title and, for a collection item, the collection's name."""

    paper_id: str
    kind: EvidenceKind
    title: str
    at: dt.datetime
    collection: str | None = None


def set_signal(
    conn: Connection,
    *,
    user_id: int,
    paper_id: str,
    kind: SignalKind | None,
    now: dt.datetime | None = None,
) -> bool:
    """Record "more like this" or "not interested" for a paper (None: forget it); a new signal
    replaces the reader's earlier one on the same paper. True if anything changed."""
    where = (reader_signals.c.user_id == user_id, reader_signals.c.paper_id == paper_id)
    current = conn.execute(select(reader_signals.c.kind).where(*where)).scalar()
    if current == kind:
        return False
    if current is not None:
        conn.execute(delete(reader_signals).where(*where))
    if kind is not None:
        conn.execute(
            insert(reader_signals).values(
                user_id=user_id, paper_id=paper_id, kind=kind, created_at=now or utc_now()
            )
        )
    return True


def signals_of(conn: Connection, *, user_id: int, paper_ids: list[str]) -> dict[str, SignalKind]:
    """The reader's card signal on each of these papers that has one."""
    found: dict[str, SignalKind] = {}
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        query = select(reader_signals.c.paper_id, reader_signals.c.kind).where(
            reader_signals.c.user_id == user_id, reader_signals.c.paper_id.in_(chunk)
        )
        for row in conn.execute(query):
            found[row.paper_id] = row.kind
    return found


def reader_evidence(conn: Connection, *, user_id: int, limit: int = 500) -> list[Evidence]:
    """The reader's upvotes, collection items and card signals, newest first, at most `limit`
    of each kind (hidden papers included: what a reader liked says something even then)."""
    return readers_evidence(conn, user_ids=[user_id], limit=limit)[user_id]


def readers_evidence(
    conn: Connection, *, user_ids: Sequence[int], limit: int = 500
) -> dict[int, list[Evidence]]:
    """`reader_evidence` of many readers: three queries for all of them (a digest's batch)."""
    found: dict[int, list[Evidence]] = {user_id: [] for user_id in user_ids}
    ids = list(found)
    upvoted, collected, told = _EVIDENCE_QUERIES
    for start in range(0, len(ids), 500):
        given = {"user_ids": ids[start : start + 500], "most": limit}
        for row in conn.execute(upvoted, given):
            found[row.user_id].append(Evidence(row.paper_id, "upvote", row.title, row.at))
        for row in conn.execute(collected, given):
            found[row.user_id].append(
                Evidence(row.paper_id, "collection", row.title, row.at, row.name)
            )
        for row in conn.execute(told, given):
            found[row.user_id].append(Evidence(row.paper_id, row.kind, row.title, row.at))
    for evidence in found.values():
        evidence.sort(key=lambda e: e.at, reverse=True)
    return found


def _newest(query: Select[Any]) -> Select[Any]:
    """Each reader's `most` newest rows of `query` (which has user_id, paper_id and at, for
    the readers `user_ids`), newest first per reader."""
    inner = query.add_columns(
        func.row_number()
        .over(
            partition_by=query.selected_columns.user_id,
            order_by=(query.selected_columns.at.desc(), query.selected_columns.paper_id),
        )
        .label("n")
    ).subquery()
    return select(inner).where(inner.c.n <= bindparam("most")).order_by(inner.c.user_id, inner.c.n)


def _evidence_queries() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three queries of `readers_evidence`, built once (building one costs more than
    running it for one reader)."""
    readers: BindParameter[list[int]] = bindparam("user_ids", expanding=True)
    upvoted = (
        select(
            upvotes.c.user_id,
            upvotes.c.paper_id,
            upvotes.c.created_at.label("at"),
            papers.c.title,
        )
        .join(papers, papers.c.paper_id == upvotes.c.paper_id)
        .where(upvotes.c.user_id.in_(readers))
    )
    collected = (
        select(
            collections.c.user_id,
            collection_items.c.paper_id,
            collection_items.c.added_at.label("at"),
            collections.c.name,
            papers.c.title,
        )
        .join(collections, collections.c.collection_id == collection_items.c.collection_id)
        .join(papers, papers.c.paper_id == collection_items.c.paper_id)
        .where(collections.c.user_id.in_(readers))
    )
    told = (
        select(
            reader_signals.c.user_id,
            reader_signals.c.paper_id,
            reader_signals.c.kind,
            reader_signals.c.created_at.label("at"),
            papers.c.title,
        )
        .join(papers, papers.c.paper_id == reader_signals.c.paper_id)
        .where(reader_signals.c.user_id.in_(readers))
    )
    return _newest(upvoted), _newest(collected), _newest(told)


_EVIDENCE_QUERIES = _evidence_queries()


@dataclass(frozen=True, slots=True)
class OtherSignals:
    """Which readers of a batch have any library entry, followed author or chosen topic (the
    rest need no look-up of those)."""

    library: frozenset[int]
    follows: frozenset[int]
    topics: frozenset[int]


def readers_with_other_signals(conn: Connection, *, user_ids: Sequence[int]) -> OtherSignals:
    """One query per kind for a batch of readers (see `OtherSignals`)."""
    found: dict[str, set[int]] = {"library": set(), "follows": set(), "topics": set()}
    ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(ids), 500):
        given = {"user_ids": ids[start : start + 500]}
        for kind, query in _OTHER_QUERIES.items():
            found[kind].update(conn.scalars(query, given))
    return OtherSignals(
        frozenset(found["library"]), frozenset(found["follows"]), frozenset(found["topics"])
    )


_OTHER_QUERIES = {
    kind: select(table.c.user_id)
    .where(table.c.user_id.in_(bindparam("user_ids", expanding=True)))
    .distinct()
    for kind, table in (
        ("library", library_entries),
        ("follows", author_follows),
        ("topics", reader_topics),
    )
}


def has_evidence(conn: Connection, *, user_id: int) -> bool:
    """Whether the reader gave any positive signal (an upvote, a collection item, "more")."""
    checks = (
        select(upvotes.c.paper_id).where(upvotes.c.user_id == user_id),
        select(collection_items.c.paper_id)
        .join(collections, collections.c.collection_id == collection_items.c.collection_id)
        .where(collections.c.user_id == user_id),
        select(reader_signals.c.paper_id).where(
            reader_signals.c.user_id == user_id, reader_signals.c.kind == "more"
        ),
    )
    return any(conn.execute(check.limit(1)).first() is not None for check in checks)


# The private feed's token


def new_feed_token(conn: Connection, *, user_id: int) -> str:
    """Make the reader's private feed token, replacing (revoking) any earlier one; the secret
    is returned once and stored only as a hash."""
    token = "pff_" + new_token()
    conn.execute(delete(reader_feed_tokens).where(reader_feed_tokens.c.user_id == user_id))
    conn.execute(
        insert(reader_feed_tokens).values(
            user_id=user_id, token_hash=secret_hash(token), created_at=utc_now()
        )
    )
    return token


def revoke_feed_token(conn: Connection, *, user_id: int) -> bool:
    """Delete the reader's feed token; False if they had none."""
    result = conn.execute(delete(reader_feed_tokens).where(reader_feed_tokens.c.user_id == user_id))
    return result.rowcount == 1


def feed_token_made(conn: Connection, *, user_id: int) -> dt.datetime | None:
    """When the reader's current feed token was made (None: they have none)."""
    return conn.execute(
        select(reader_feed_tokens.c.created_at).where(reader_feed_tokens.c.user_id == user_id)
    ).scalar()


def feed_token_user(conn: Connection, token: str) -> User | None:
    """The owner of a feed token, or None; notes when it was last used."""
    digest = secret_hash(token)
    row = conn.execute(
        select(users)
        .join(reader_feed_tokens, reader_feed_tokens.c.user_id == users.c.user_id)
        .where(reader_feed_tokens.c.token_hash == digest)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(reader_feed_tokens)
        .where(reader_feed_tokens.c.token_hash == digest)
        .values(last_used_at=utc_now())
    )
    return user_from_row(row)
