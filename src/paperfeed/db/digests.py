"""Digests in the store: subscribers, issues, the delivery ledger and the papers each reader got.

The ledger decides (docs/digests.md): every state change of a delivery is one short write
transaction here, so a crash at any point leaves rows another run can pick up.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from paperfeed.db.schema import (
    digest_issues,
    digest_ledger,
    digest_papers_sent,
    rate_limits,
    subscribers,
)

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[str, ...] = ("daily", "weekly")
# Ledger states. "claimed" is the only one with a lease; sent, failed, suppressed and skipped
# are final; pending and deferred wait for a claim.
FINAL_STATES = ("sent", "failed", "suppressed", "skipped")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on the list and what it wants in its digests."""

    subscriber_id: int
    email: str
    status: str
    frequency: str
    weekday: int = 0
    top_n: int = 10
    categories: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    personal: bool = True
    max_papers: int = 20
    send_empty: bool = False
    paused: bool = False
    token: str = ""
    user_id: int | None = None
    confirmed_at: dt.datetime | None = None
    hard_bounces: int = 0
    created_at: dt.datetime | None = None

    @property
    def receives(self) -> bool:
        """Whether digests may be mailed to it now: confirmed, active and not paused."""
        return self.status == "active" and self.confirmed_at is not None and not self.paused


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber can change on the preferences page."""

    frequency: str = "daily"
    weekday: int = 0
    top_n: int = 10
    categories: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    personal: bool = True
    max_papers: int = 20
    send_empty: bool = False
    paused: bool = False

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be daily or weekly, not {self.frequency!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.top_n <= 50 or not 1 <= self.max_papers <= 100:
            raise ValueError("top_n must be 0..50 and max_papers 1..100")


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
class LedgerRow:
    """A claimed delivery: the row, its fixed Message-ID, and the subscriber as it is now."""

    ledger_id: int
    issue_id: int
    subscriber: Subscriber
    message_id: str
    paper_ids: tuple[str, ...] | None
    attempts: int
    already_sent: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class IssueCounts:
    """How many ledger rows of an issue are in each state."""

    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def __getitem__(self, state: str) -> int:
        return self.by_state.get(state, 0)


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        subscriber_id=row.subscriber_id,
        email=row.email,
        status=row.status,
        frequency=row.frequency,
        weekday=row.weekday,
        top_n=row.top_n,
        categories=tuple(row.categories or ()),
        searches=tuple(row.searches or ()),
        personal=bool(row.personal),
        max_papers=row.max_papers,
        send_empty=bool(row.send_empty),
        paused=bool(row.paused),
        token=row.token,
        user_id=row.user_id,
        confirmed_at=row.confirmed_at,
        hard_bounces=row.hard_bounces,
        created_at=row.created_at,
    )


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


def _insert_ignore(conn: Connection, table: Any) -> Any:
    """INSERT that skips rows clashing with a unique key (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


# The addresses we mail: plain ASCII dot-atoms (RFC 5322 3.2.3) at a dotted domain. Nothing
# that could break out of a header (CR, LF, commas, brackets, quotes) gets through.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalize_email(email: str) -> str:
    """Trim and lower-case an address (the list treats addresses case-insensitively)."""
    return email.strip().lower()


def valid_email(email: str) -> bool:
    """Whether `email` (normalized) is an address the digest can be mailed to."""
    address = normalize_email(email)
    return len(address) <= 254 and _EMAIL.fullmatch(address) is not None


# --- subscribers -------------------------------------------------------------------------------


def add_subscriber(
    conn: Connection,
    *,
    email: str,
    now: dt.datetime,
    confirmed: bool = False,
    preferences: Preferences | None = None,
    user_id: int | None = None,
) -> tuple[Subscriber, bool]:
    """Add an address (or return the one there); return it and whether it is new.

    An existing address keeps its preferences; `confirmed` confirms it, and an address that
    had unsubscribed becomes pending again (it must confirm anew unless `confirmed`).
    """
    email = normalize_email(email)
    if not valid_email(email):
        raise ValueError(f"{email!r} is not an email address the digest can be sent to")
    prefs = preferences or Preferences()
    existing = get_subscriber(conn, email=email)
    if existing is not None:
        changes: dict[str, Any] = {}
        if confirmed and existing.confirmed_at is None:
            changes |= {"confirmed_at": now, "status": "active"}
        elif existing.status == "unsubscribed":
            changes |= {"status": "active" if confirmed else "pending"}
            if not confirmed:
                changes["confirmed_at"] = None
        if user_id is not None and existing.user_id is None:
            changes["user_id"] = user_id
        if changes:
            changes["updated_at"] = now
            conn.execute(
                update(subscribers)
                .where(subscribers.c.subscriber_id == existing.subscriber_id)
                .values(**changes)
            )
            existing = get_subscriber(conn, subscriber_id=existing.subscriber_id)
            assert existing is not None
        return existing, False
    values = _preference_values(prefs) | {
        "email": email,
        "user_id": user_id,
        "status": "active" if confirmed else "pending",
        "confirmed_at": now if confirmed else None,
        "token": secrets.token_urlsafe(18),
        "hard_bounces": 0,
        "created_at": now,
        "updated_at": now,
    }
    key = conn.execute(insert(subscribers).values(**values)).inserted_primary_key
    assert key is not None
    created = get_subscriber(conn, subscriber_id=int(key[0]))
    assert created is not None
    return created, True


def add_subscribers_bulk(
    conn: Connection,
    rows: Sequence[tuple[str, Preferences]],
    *,
    now: dt.datetime,
    confirmed: bool,
) -> int:
    """Add many new addresses at once (existing ones are left alone); return how many were new."""
    bad = [email for email, _ in rows if not valid_email(email)]
    if bad:
        raise ValueError(f"not email addresses: {bad[:5]}")
    values = [
        _preference_values(prefs)
        | {
            "email": normalize_email(email),
            "user_id": None,
            "status": "active" if confirmed else "pending",
            "confirmed_at": now if confirmed else None,
            "token": secrets.token_urlsafe(18),
            "hard_bounces": 0,
            "created_at": now,
            "updated_at": now,
        }
        for email, prefs in rows
    ]
    before = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    for start in range(0, len(values), 2000):
        conn.execute(_insert_ignore(conn, subscribers), values[start : start + 2000])
    after = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    return int(after - before)


def _preference_values(prefs: Preferences) -> dict[str, Any]:
    return {
        "frequency": prefs.frequency,
        "weekday": prefs.weekday,
        "top_n": prefs.top_n,
        "categories": list(prefs.categories),
        "searches": list(prefs.searches),
        "personal": prefs.personal,
        "max_papers": prefs.max_papers,
        "send_empty": prefs.send_empty,
        "paused": prefs.paused,
    }


def get_subscriber(
    conn: Connection,
    *,
    email: str | None = None,
    subscriber_id: int | None = None,
    token: str | None = None,
) -> Subscriber | None:
    """Find one subscriber by address, id or manage token."""
    query = select(subscribers)
    if email is not None:
        query = query.where(subscribers.c.email == normalize_email(email))
    elif subscriber_id is not None:
        query = query.where(subscribers.c.subscriber_id == subscriber_id)
    elif token is not None:
        query = query.where(subscribers.c.token == token)
    else:
        raise ValueError("give an email, an id or a token")
    row = conn.execute(query).first()
    return _subscriber(row) if row is not None else None


def list_subscribers(conn: Connection, *, status: str | None = None) -> list[Subscriber]:
    """Every subscriber (or those in one status), oldest first."""
    query = select(subscribers).order_by(subscribers.c.subscriber_id)
    if status is not None:
        query = query.where(subscribers.c.status == status)
    return [_subscriber(row) for row in conn.execute(query)]


def count_subscribers(conn: Connection) -> dict[str, int]:
    """Subscribers by status."""
    query = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    return {status: int(n) for status, n in conn.execute(query).all()}


def set_preferences(
    conn: Connection, *, subscriber_id: int, preferences: Preferences, now: dt.datetime
) -> None:
    """Store what the subscriber chose on the preferences page."""
    conn.execute(
        update(subscribers)
        .where(subscribers.c.subscriber_id == subscriber_id)
        .values(**_preference_values(preferences), updated_at=now)
    )


def set_confirmation(
    conn: Connection, *, subscriber_id: int, token_hash: str, expires_at: dt.datetime
) -> None:
    """Remember the hash of the confirmation token just mailed (the previous one stops working)."""
    conn.execute(
        update(subscribers)
        .where(subscribers.c.subscriber_id == subscriber_id)
        .values(confirm_hash=token_hash, confirm_expires_at=expires_at)
    )


def confirm_subscriber(conn: Connection, *, token_hash: str, now: dt.datetime) -> Subscriber | None:
    """Confirm the address whose open, unexpired token hashes to `token_hash` (single use)."""
    row = conn.execute(
        select(subscribers).where(
            subscribers.c.confirm_hash == token_hash, subscribers.c.confirm_expires_at > now
        )
    ).first()
    if row is None:
        return None
    conn.execute(
        update(subscribers)
        .where(subscribers.c.subscriber_id == row.subscriber_id)
        .values(
            confirm_hash=None,
            confirm_expires_at=None,
            confirmed_at=row.confirmed_at or now,
            status="active",
            hard_bounces=0,
            updated_at=now,
        )
    )
    return get_subscriber(conn, subscriber_id=row.subscriber_id)


def unsubscribe(conn: Connection, *, subscriber_id: int, now: dt.datetime) -> bool:
    """Stop all digests to a subscriber; return whether it was subscribed."""
    result = conn.execute(
        update(subscribers)
        .where(
            subscribers.c.subscriber_id == subscriber_id,
            subscribers.c.status != "unsubscribed",
        )
        .values(status="unsubscribed", updated_at=now)
    )
    return bool(result.rowcount)


def remove_subscriber(conn: Connection, *, email: str) -> bool:
    """Delete an address and its history (the operator's `subscribers remove`)."""
    result = conn.execute(delete(subscribers).where(subscribers.c.email == normalize_email(email)))
    return bool(result.rowcount)


def count_in_window(
    conn: Connection, *, bucket: str, window: dt.timedelta, now: dt.datetime, amount: int = 1
) -> int:
    """Count `amount` hits in `bucket`'s fixed window; return the window's total after it."""
    row = conn.execute(
        select(rate_limits.c.window_start, rate_limits.c.hits).where(rate_limits.c.bucket == bucket)
    ).first()
    if row is None:
        conn.execute(insert(rate_limits).values(bucket=bucket, window_start=now, hits=amount))
        return amount
    if now - row.window_start >= window:
        conn.execute(
            update(rate_limits)
            .where(rate_limits.c.bucket == bucket)
            .values(window_start=now, hits=amount)
        )
        return amount
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.bucket == bucket)
        .values(hits=rate_limits.c.hits + amount)
    )
    return int(row.hits) + amount


def rate_window(conn: Connection, *, bucket: str) -> tuple[dt.datetime, int] | None:
    """The start and count of `bucket`'s current window, if it has one."""
    row = conn.execute(
        select(rate_limits.c.window_start, rate_limits.c.hits).where(rate_limits.c.bucket == bucket)
    ).first()
    return (row.window_start, int(row.hits)) if row is not None else None


# --- issues ------------------------------------------------------------------------------------


def get_or_create_issue(
    conn: Connection, *, kind: str, period: dt.date, now: dt.datetime
) -> tuple[Issue, bool]:
    """The issue of (kind, period), created in status `building` if missing; and whether new.

    The unique key makes a double-fired schedule, or two senders at once, share one issue.
    """
    result = conn.execute(
        _insert_ignore(conn, digest_issues).values(
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
        added += conn.execute(_insert_ignore(conn, digest_ledger), rows).rowcount or 0
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


# --- claims and outcomes -----------------------------------------------------------------------


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
            subscriber=_subscriber(row),
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
        insert_ignore = _PAPERS_SENT.get(conn.dialect.name)
        if insert_ignore is None:
            insert_ignore = _PAPERS_SENT[conn.dialect.name] = _insert_ignore(
                conn, digest_papers_sent
            )
        conn.execute(
            insert_ignore,
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
