"""The digest delivery ledger in the store: claim rows under leases, record each outcome.

The ledger decides (docs/digests.md): every state change of a delivery is one short write
transaction here, so a crash at any point leaves rows another run can pick up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, update

from paperfeed.db.digest_subscribers import (
    Subscriber,
    insert_ignore,
    link_key,
    subscriber_from_row,
)
from paperfeed.db.schema import (
    digest_issues,
    digest_ledger,
    digest_papers_sent,
    subscribers,
)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A claimed delivery: the row, its fixed Message-ID, and the subscriber as it is now."""

    ledger_id: int
    issue_id: int
    subscriber: Subscriber
    message_id: str
    paper_ids: tuple[str, ...] | None
    attempts: int
    already_sent: frozenset[str] = frozenset()


def claim_rows(
    conn: Connection,
    *,
    issue_id: int,
    owner: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int,
) -> list[LedgerRow]:
    """Claim up to `limit` claimable rows of a sending issue under a lease held by `owner`.

    Claimable: pending, deferred whose time has come, or claimed under an expired lease
    (its sender died). The UPDATE is atomic (BEGIN IMMEDIATE on SQLite, SKIP LOCKED on
    PostgreSQL), so two senders never hold one row.
    """
    if limit <= 0:
        return []
    sending = (
        select(digest_issues.c.issue_id)
        .where(digest_issues.c.issue_id == issue_id, digest_issues.c.status == "sending")
        .scalar_subquery()
    )
    candidates = (
        select(digest_ledger.c.ledger_id)
        .where(
            digest_ledger.c.issue_id == sending,
            or_(
                digest_ledger.c.state == "pending",
                and_(digest_ledger.c.state == "deferred", digest_ledger.c.next_attempt_at <= now),
                and_(digest_ledger.c.state == "claimed", digest_ledger.c.lease_until < now),
            ),
        )
        .order_by(digest_ledger.c.ledger_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = conn.execute(
        update(digest_ledger)
        .where(digest_ledger.c.ledger_id.in_(candidates))
        .values(state="claimed", lease_owner=owner, lease_until=now + lease)
        .returning(digest_ledger.c.ledger_id)
    ).scalars()
    ids = sorted(claimed)
    if not ids:
        return []
    rows = conn.execute(
        select(
            digest_ledger.c.ledger_id,
            digest_ledger.c.issue_id,
            digest_ledger.c.message_id,
            digest_ledger.c.paper_ids,
            digest_ledger.c.attempts,
            subscribers,
        )
        .join(subscribers, subscribers.c.subscriber_id == digest_ledger.c.subscriber_id)
        .where(digest_ledger.c.ledger_id.in_(ids))
        .order_by(digest_ledger.c.ledger_id)
    )
    found = list(rows)
    key = link_key(conn)
    # The papers each reader already got, for the whole batch in one query.
    sent: dict[int, set[str]] = {row.subscriber_id: set() for row in found}
    query = select(digest_papers_sent.c.subscriber_id, digest_papers_sent.c.paper_id).where(
        digest_papers_sent.c.subscriber_id.in_(list(sent))
    )
    for subscriber_id, paper_id in conn.execute(query):
        sent[subscriber_id].add(paper_id)
    return [
        LedgerRow(
            ledger_id=row.ledger_id,
            issue_id=row.issue_id,
            subscriber=subscriber_from_row(row, key),
            message_id=row.message_id,
            paper_ids=tuple(row.paper_ids) if row.paper_ids is not None else None,
            attempts=row.attempts,
            already_sent=frozenset(sent[row.subscriber_id]),
        )
        for row in found
    ]


# Built once: record_sent runs once per mail, and building the statement cost more than
# executing it (SQLAlchemy's compiled cache still needs a new construct hashed each time).
_MARK_SENT = (
    update(digest_ledger)
    .where(digest_ledger.c.ledger_id == bindparam("b_ledger_id"))
    .values(
        state="sent",
        paper_ids=bindparam("b_paper_ids", type_=digest_ledger.c.paper_ids.type),
        attempts=digest_ledger.c.attempts + 1,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=None,
        last_code=bindparam("b_code"),
        last_error=None,
        finished_at=bindparam("b_now"),
    )
)
_PAPERS_SENT: dict[str, Any] = {}


def record_sent(
    conn: Connection,
    *,
    row: LedgerRow,
    paper_ids: Sequence[str],
    code: int,
    now: dt.datetime,
) -> None:
    """Mark a row sent and remember its papers as delivered to the reader (one transaction)."""
    conn.execute(
        _MARK_SENT,
        {
            "b_ledger_id": row.ledger_id,
            "b_paper_ids": list(paper_ids),
            "b_code": code,
            "b_now": now,
        },
    )
    if paper_ids:
        statement = _PAPERS_SENT.get(conn.dialect.name)
        if statement is None:
            statement = _PAPERS_SENT[conn.dialect.name] = insert_ignore(conn, digest_papers_sent)
        conn.execute(
            statement,
            [
                {
                    "subscriber_id": row.subscriber.subscriber_id,
                    "paper_id": pid,
                    "issue_id": row.issue_id,
                    "sent_at": now,
                }
                for pid in paper_ids
            ],
        )
    if row.subscriber.hard_bounces:
        # Bounces count "in a row": a delivery clears them.
        conn.execute(
            update(subscribers)
            .where(subscribers.c.subscriber_id == row.subscriber.subscriber_id)
            .values(hard_bounces=0)
        )


def record_deferred(
    conn: Connection,
    *,
    ledger_id: int,
    code: int | None,
    error: str,
    next_attempt_at: dt.datetime,
    attempted: bool = True,
) -> None:
    """Put a row back to wait until `next_attempt_at` (a 4xx, a drop, or a connect failure)."""
    conn.execute(
        update(digest_ledger)
        .where(digest_ledger.c.ledger_id == ledger_id)
        .values(
            state="deferred",
            attempts=digest_ledger.c.attempts + (1 if attempted else 0),
            next_attempt_at=next_attempt_at,
            lease_owner=None,
            lease_until=None,
            last_code=code,
            last_error=error[:2000],
        )
    )


def record_failed(
    conn: Connection,
    *,
    row: LedgerRow,
    code: int | None,
    error: str,
    now: dt.datetime,
    hard_bounce: bool,
    bounce_threshold: int,
) -> bool:
    """Mark a row failed; count a hard bounce and suppress the address at the threshold.

    Returns whether the subscriber was suppressed by this failure.
    """
    conn.execute(
        update(digest_ledger)
        .where(digest_ledger.c.ledger_id == row.ledger_id)
        .values(
            state="failed",
            attempts=digest_ledger.c.attempts + 1,
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
            last_code=code,
            last_error=error[:2000],
            finished_at=now,
        )
    )
    if not hard_bounce:
        return False
    sid = row.subscriber.subscriber_id
    conn.execute(
        update(subscribers)
        .where(subscribers.c.subscriber_id == sid)
        .values(hard_bounces=subscribers.c.hard_bounces + 1)
    )
    suppressed = conn.execute(
        update(subscribers)
        .where(
            subscribers.c.subscriber_id == sid,
            subscribers.c.hard_bounces >= bounce_threshold,
            subscribers.c.status == "active",
        )
        .values(status="suppressed", updated_at=now)
    ).rowcount
    return bool(suppressed)


def record_skipped(
    conn: Connection, *, ledger_id: int, state: str, reason: str, now: dt.datetime
) -> None:
    """Close a row without sending: `skipped` (unsubscribed, paused, empty) or `suppressed`."""
    conn.execute(
        update(digest_ledger)
        .where(digest_ledger.c.ledger_id == ledger_id)
        .values(
            state=state,
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
            last_error=reason,
            finished_at=now,
        )
    )


def release_claims(conn: Connection, *, owner: str, ledger_ids: Sequence[int]) -> int:
    """Give unsent claimed rows back (state pending), e.g. when the issue was paused."""
    if not ledger_ids:
        return 0
    result = conn.execute(
        update(digest_ledger)
        .where(
            digest_ledger.c.ledger_id.in_(list(ledger_ids)),
            digest_ledger.c.lease_owner == owner,
            digest_ledger.c.state == "claimed",
        )
        .values(state="pending", lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def sent_paper_ids(conn: Connection, *, subscriber_id: int) -> set[str]:
    """The papers a reader already got in a digest (a paper reaches a reader at most once)."""
    query = select(digest_papers_sent.c.paper_id).where(
        digest_papers_sent.c.subscriber_id == subscriber_id
    )
    return set(conn.execute(query).scalars())


def ledger_rows(conn: Connection, *, issue_id: int) -> list[dict[str, Any]]:
    """Every ledger row of an issue with its address (for status output and tests)."""
    query = (
        select(digest_ledger, subscribers.c.email)
        .join(subscribers, subscribers.c.subscriber_id == digest_ledger.c.subscriber_id)
        .where(digest_ledger.c.issue_id == issue_id)
        .order_by(digest_ledger.c.ledger_id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
