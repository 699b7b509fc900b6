"""Managing subscribers: the operator's add, import and remove, and a subscriber's own
preferences and unsubscribe (from the links in each digest). Each call is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from paperfeed.db import Database
from paperfeed.db.digests import (
    Preferences,
    Subscriber,
    add_subscriber,
    add_subscribers_bulk,
    normalize_email,
    remove_subscriber,
    set_preferences,
    unsubscribe,
)


def add_subscriber_now(
    *,
    db: Database,
    email: str,
    preferences: Preferences,
    confirmed: bool,
    now: dt.datetime,
) -> tuple[Subscriber, bool]:
    """Add one address (or return the one there) and whether it is new."""
    with db.write() as conn:
        return add_subscriber(
            conn, email=email, now=now, confirmed=confirmed, preferences=preferences
        )


def import_subscribers(
    *,
    db: Database,
    addresses: Iterable[str],
    preferences: Preferences,
    confirmed: bool,
    now: dt.datetime,
) -> int:
    """Add normalized addresses in one transaction; return how many were new."""
    with db.write() as conn:
        return add_subscribers_bulk(
            conn, [(a, preferences) for a in addresses], now=now, confirmed=confirmed
        )


def remove_subscriber_by_email(*, db: Database, email: str) -> str | None:
    """Delete an address and its delivery history; return the address removed, or None."""
    with db.write() as conn:
        removed = remove_subscriber(conn, email=email)
    return normalize_email(email) if removed else None


def choose_preferences(
    *, db: Database, subscriber_id: int, preferences: Preferences, now: dt.datetime
) -> None:
    """Store what the subscriber chose on the preferences page."""
    with db.write() as conn:
        set_preferences(conn, subscriber_id=subscriber_id, preferences=preferences, now=now)


def stop_digests(*, db: Database, subscriber_id: int, now: dt.datetime) -> bool:
    """Unsubscribe (one click or the page's button); return whether it was subscribed."""
    with db.write() as conn:
        return unsubscribe(conn, subscriber_id=subscriber_id, now=now)
