"""Digest subscribers in the store: addresses, preferences, confirmation, manage links, and the
fixed-window counters that limit confirmation mails and the send rate."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from paperfeed.addresses import InvalidAddress, normalize_address
from paperfeed.db.schema import (
    rate_limits,
    subscribers,
)
from paperfeed.db.sessions import secret_hash, site_key

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[str, ...] = ("daily", "weekly")


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
    token: str = ""  # its manage-link token, signed when read (the store keeps only a hash)
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


def subscriber_from_row(row: Any, key: bytes) -> Subscriber:
    """A `Subscriber` from a row of `subscribers`; `key` signs its manage link (`link_key`)."""
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
        token=_link_token(key, row.subscriber_id, row.token),
        user_id=row.user_id,
        confirmed_at=row.confirmed_at,
        hard_bounces=row.hard_bounces,
        created_at=row.created_at,
    )


def insert_ignore(conn: Connection, table: Any) -> Any:
    """INSERT that skips rows clashing with a unique key (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def normalize_email(email: str) -> str:
    """The key an address is stored and looked up under: `normalize_address` when it parses,
    else trimmed and lower-cased (so a lookup of something odd finds nothing, without error)."""
    try:
        return normalize_address(email)
    except InvalidAddress:
        return email.strip().lower()


# Manage and unsubscribe links (issue #9): the store keeps only `token`, the SHA-256 of a random
# secret that is never mailed; links carry "<subscriber id>.<HMAC of it>", signed with a site
# key. Links mailed before m008 carried the secret itself, whose hash m008 stored, so they
# still work.
LINK_KEY = "digest-links"
_SIGNED_LINK = re.compile(r"([0-9]{1,18})\.([A-Za-z0-9_-]{24})")


def _new_token_hash() -> str:
    return secret_hash(secrets.token_urlsafe(18))


def link_key(conn: Connection) -> bytes:
    """The site key that signs manage links (made by m008)."""
    return site_key(conn, LINK_KEY)


def _link_token(key: bytes, subscriber_id: int, token_hash: str) -> str:
    mac = hmac.new(key, f"{subscriber_id}:{token_hash}".encode(), hashlib.sha256).digest()[:18]
    return f"{subscriber_id}." + base64.urlsafe_b64encode(mac).decode()


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
    email = normalize_address(email)  # InvalidAddress (a ValueError) if it is not one
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
        "token": _new_token_hash(),
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
    addresses, bad = [], []
    for email, _prefs in rows:
        try:
            addresses.append(normalize_address(email))
        except InvalidAddress:
            bad.append(email)
    if bad:
        raise ValueError(f"not email addresses: {bad[:5]}")
    values = [
        _preference_values(prefs)
        | {
            "email": address,
            "user_id": None,
            "status": "active" if confirmed else "pending",
            "confirmed_at": now if confirmed else None,
            "token": _new_token_hash(),
            "hard_bounces": 0,
            "created_at": now,
            "updated_at": now,
        }
        for address, (_email, prefs) in zip(addresses, rows, strict=True)
    ]
    before = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    for start in range(0, len(values), 2000):
        conn.execute(insert_ignore(conn, subscribers), values[start : start + 2000])
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
    """Find one subscriber by address, id or the token of a manage link."""
    query = select(subscribers)
    signed = None
    if email is not None:
        query = query.where(subscribers.c.email == normalize_email(email))
    elif subscriber_id is not None:
        query = query.where(subscribers.c.subscriber_id == subscriber_id)
    elif token is not None:
        signed = _SIGNED_LINK.fullmatch(token)
        if signed is not None:
            query = query.where(subscribers.c.subscriber_id == int(signed[1]))
        else:  # a link mailed before m008: the secret itself
            query = query.where(subscribers.c.token == secret_hash(token))
    else:
        raise ValueError("give an email, an id or a token")
    row = conn.execute(query).first()
    if row is None:
        return None
    found = subscriber_from_row(row, link_key(conn))
    if signed is not None and not hmac.compare_digest(found.token, signed[0]):
        return None
    return found


def list_subscribers(conn: Connection, *, status: str | None = None) -> list[Subscriber]:
    """Every subscriber (or those in one status), oldest first."""
    query = select(subscribers).order_by(subscribers.c.subscriber_id)
    if status is not None:
        query = query.where(subscribers.c.status == status)
    key = link_key(conn)
    return [subscriber_from_row(row, key) for row in conn.execute(query)]


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
