"""Managing subscribers through the service (digest/subscribers.py), on a real SQLite store."""

from __future__ import annotations

import datetime as dt

from paperfeed.db import Database
from paperfeed.db.digests import Preferences, get_subscriber, list_subscribers
from paperfeed.digest.subscribers import (
    add_subscriber_now,
    choose_preferences,
    import_subscribers,
    remove_subscriber_by_email,
    stop_digests,
)

NOW = dt.datetime(2026, 3, 20, 12, 0)


def test_adding_twice_keeps_one_subscriber_and_its_preferences(db: Database) -> None:
    weekly = Preferences(frequency="weekly", weekday=4)
    first, created = add_subscriber_now(
        db=db, email="Reader@Example.org", preferences=weekly, confirmed=True, now=NOW
    )
    again, created_again = add_subscriber_now(
        db=db, email="reader@example.org", preferences=Preferences(), confirmed=True, now=NOW
    )
    assert (created, created_again) == (True, False)
    assert again.subscriber_id == first.subscriber_id
    assert (again.email, again.frequency, again.weekday) == ("reader@example.org", "weekly", 4)


def test_import_counts_only_new_addresses(db: Database) -> None:
    add_subscriber_now(
        db=db, email="a@example.org", preferences=Preferences(), confirmed=True, now=NOW
    )
    added = import_subscribers(
        db=db,
        addresses=["a@example.org", "b@example.org", "c@example.org"],
        preferences=Preferences(),
        confirmed=False,
        now=NOW,
    )
    assert added == 2
    with db.read() as conn:
        assert sorted(s.email for s in list_subscribers(conn)) == [
            "a@example.org",
            "b@example.org",
            "c@example.org",
        ]


def test_preferences_unsubscribe_and_remove(db: Database) -> None:
    subscriber, _ = add_subscriber_now(
        db=db, email="r@example.org", preferences=Preferences(), confirmed=True, now=NOW
    )
    choose_preferences(
        db=db,
        subscriber_id=subscriber.subscriber_id,
        preferences=Preferences(frequency="weekly", weekday=2, top_n=5),
        now=NOW,
    )
    with db.read() as conn:
        chosen = get_subscriber(conn, email="r@example.org")
    assert chosen is not None
    assert (chosen.frequency, chosen.weekday, chosen.top_n) == ("weekly", 2, 5)

    assert stop_digests(db=db, subscriber_id=subscriber.subscriber_id, now=NOW) is True
    assert stop_digests(db=db, subscriber_id=subscriber.subscriber_id, now=NOW) is False
    with db.read() as conn:
        stopped = get_subscriber(conn, email="r@example.org")
    assert stopped is not None and not stopped.receives

    assert remove_subscriber_by_email(db=db, email=" R@example.org ") == "r@example.org"
    assert remove_subscriber_by_email(db=db, email="r@example.org") is None
