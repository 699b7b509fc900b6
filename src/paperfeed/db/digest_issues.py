"""Digest issues in the store: one per (kind, period), its status, and the counts of its ledger.

The unique (kind, period) key makes a double-fired schedule share one issue; `fill_ledger`
writes every recipient's row before anything is sent (docs/digests.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, update

from paperfeed.db.digest_subscribers import insert_ignore
from paperfeed.db.schema import (
    digest_issues,
    digest_ledger,
    subscribers,
)

# Ledger states. "claimed" is the only one with a lease; sent, failed, suppressed and skipped
# are final; pending and deferred wait for a claim.
FINAL_STATES = ("sent", "failed", "suppressed", "skipped")


@dataclass(frozen=True, slots=True)
class Issue:
    """One digest issue: a kind (daily, weekly) and the day it is for."""

    issue_id: int
    kind: str
    period: dt.date
    status: str
    paused_reason: str | None
    ratio_since: dt.datetime
    created_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IssueCounts:
    """How many ledger rows of an issue are in each state."""

    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def __getitem__(self, state: str) -> int:
        return self.by_state.get(state, 0)


def _issue(row: Any) -> Issue:
    return Issue(
        issue_id=row.issue_id,
        kind=row.kind,
        period=row.period,
        status=row.status,
        paused_reason=row.paused_reason,
        ratio_since=row.ratio_since,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def get_or_create_issue(
    conn: Connection, *, kind: str, period: dt.date, now: dt.datetime
) -> tuple[Issue, bool]:
    """The issue of (kind, period), created in status `building` if missing; and whether new.

    The unique key makes a double-fired schedule, or two senders at once, share one issue.
    """
    result = conn.execute(
        insert_ignore(conn, digest_issues).values(
            kind=kind, period=period, status="building", ratio_since=now, created_at=now
        )
    )
    issue = get_issue(conn, kind=kind, period=period)
    assert issue is not None
    return issue, bool(result.rowcount)


def get_issue(
    conn: Connection,
    *,
    issue_id: int | None = None,
    kind: str | None = None,
    period: dt.date | None = None,
) -> Issue | None:
    """Find an issue by id, or by kind and period."""
    query = select(digest_issues)
    if issue_id is not None:
        query = query.where(digest_issues.c.issue_id == issue_id)
    else:
        query = query.where(digest_issues.c.kind == kind, digest_issues.c.period == period)
    row = conn.execute(query).first()
    return _issue(row) if row is not None else None


def list_issues(
    conn: Connection, *, status: Iterable[str] | None = None, limit: int = 20
) -> list[Issue]:
    """The latest issues first (optionally only those in some statuses)."""
    query = select(digest_issues).order_by(digest_issues.c.issue_id.desc()).limit(limit)
    if status is not None:
        query = query.where(digest_issues.c.status.in_(list(status)))
    return [_issue(row) for row in conn.execute(query)]


def set_issue_status(
    conn: Connection,
    *,
    issue_id: int,
    status: str,
    now: dt.datetime,
    reason: str | None = None,
    only_from: Sequence[str] | None = None,
) -> bool:
    """Move an issue to `status` (only from the given ones, if said); return whether it moved."""
    values: dict[str, Any] = {"status": status, "paused_reason": reason}
    if status == "done":
        values["finished_at"] = now
    if status == "sending":
        values["ratio_since"] = now
    query = update(digest_issues).where(digest_issues.c.issue_id == issue_id)
    if only_from is not None:
        query = query.where(digest_issues.c.status.in_(list(only_from)))
    return bool(conn.execute(query.values(**values)).rowcount)


def due_subscriber_ids(conn: Connection, *, kind: str, period: dt.date) -> list[int]:
    """The confirmed, active, unpaused subscribers an issue goes to.

    Daily digests go to daily subscribers; a weekly digest for a day goes to the weekly
    subscribers who chose that weekday.
    """
    query = select(subscribers.c.subscriber_id).where(
        subscribers.c.status == "active",
        subscribers.c.confirmed_at.is_not(None),
        subscribers.c.paused.is_(False),
        subscribers.c.frequency == kind,
    )
    if kind == "weekly":
        query = query.where(subscribers.c.weekday == period.weekday())
    return list(conn.execute(query.order_by(subscribers.c.subscriber_id)).scalars())


def fill_ledger(
    conn: Connection,
    *,
    issue_id: int,
    subscriber_ids: Sequence[int],
    message_id: Callable[[int], str],
) -> int:
    """Write one pending row per recipient (rows already there stay); return how many are new."""
    added = 0
    for start in range(0, len(subscriber_ids), 2000):
        chunk = subscriber_ids[start : start + 2000]
        rows = [
            {
                "issue_id": issue_id,
                "subscriber_id": sid,
                "state": "pending",
                "message_id": message_id(sid),
                "attempts": 0,
            }
            for sid in chunk
        ]
        added += conn.execute(insert_ignore(conn, digest_ledger), rows).rowcount or 0
    return added


def issue_counts(conn: Connection, *, issue_id: int) -> IssueCounts:
    """Ledger rows of an issue by state."""
    query = (
        select(digest_ledger.c.state, func.count())
        .where(digest_ledger.c.issue_id == issue_id)
        .group_by(digest_ledger.c.state)
    )
    return IssueCounts({state: int(n) for state, n in conn.execute(query).all()})


def failure_ratio(conn: Connection, *, issue: Issue) -> tuple[int, int]:
    """(failed, finished) rows of an issue finished since its ratio_since (the last resume)."""
    query = select(digest_ledger.c.state, func.count()).where(
        digest_ledger.c.issue_id == issue.issue_id,
        digest_ledger.c.finished_at >= issue.ratio_since,
        digest_ledger.c.state.in_(("sent", "failed")),
    )
    counts: dict[str, int] = {
        state: int(n) for state, n in conn.execute(query.group_by(digest_ledger.c.state)).all()
    }
    failed = int(counts.get("failed", 0))
    return failed, failed + int(counts.get("sent", 0))


def next_wakeup(
    conn: Connection, *, issue_id: int, own_prefix: str | None = None
) -> tuple[dt.datetime | None, bool]:
    """When a row of the issue next becomes claimable, and whether rows are claimed by owners
    starting with `own_prefix` (the caller's run). (None, False): every row is final."""
    claimed = digest_ledger.c.state == "claimed"
    mine = digest_ledger.c.lease_owner.startswith(own_prefix) if own_prefix else None
    times = []
    deferred = conn.execute(
        select(func.min(digest_ledger.c.next_attempt_at)).where(
            digest_ledger.c.issue_id == issue_id, digest_ledger.c.state == "deferred"
        )
    ).scalar()
    others = select(func.min(digest_ledger.c.lease_until)).where(
        digest_ledger.c.issue_id == issue_id, claimed
    )
    if mine is not None:
        others = others.where(~mine)
    leased = conn.execute(others).scalar()
    pending = conn.execute(
        select(func.count()).where(
            digest_ledger.c.issue_id == issue_id, digest_ledger.c.state == "pending"
        )
    ).scalar_one()
    ours = False
    if mine is not None:
        ours = bool(
            conn.execute(
                select(func.count()).where(digest_ledger.c.issue_id == issue_id, claimed, mine)
            ).scalar_one()
        )
    times = [t for t in (deferred, leased) if t is not None]
    if pending:
        times.append(dt.datetime.min)
    return (min(times) if times else None), ours


def renew_lease(
    conn: Connection, *, owner: str, ledger_ids: Sequence[int], until: dt.datetime
) -> None:
    """Extend the lease on rows this owner still holds (a slow server, a long batch)."""
    conn.execute(
        update(digest_ledger)
        .where(
            digest_ledger.c.ledger_id.in_(list(ledger_ids)),
            digest_ledger.c.lease_owner == owner,
            digest_ledger.c.state == "claimed",
        )
        .values(lease_until=until)
    )
