"""The ledger: one issue per (kind, period), one row per recipient, exclusive leases."""

from __future__ import annotations

import datetime as dt

from paperfeed.db import Database
from paperfeed.db.digests import (
    Preferences,
    add_subscriber,
    claim_rows,
    confirm_subscriber,
    count_in_window,
    due_subscriber_ids,
    fill_ledger,
    get_or_create_issue,
    set_issue_status,
)

NOW = dt.datetime(2026, 3, 20, 6, 0)
LEASE = dt.timedelta(seconds=60)


def sending_issue(db: Database, readers: int) -> int:
    with db.write() as conn:
        ids = [
            add_subscriber(conn, email=f"r{n}@example.net", now=NOW, confirmed=True)[
                0
            ].subscriber_id
            for n in range(readers)
        ]
        issue, created = get_or_create_issue(conn, kind="daily", period=NOW.date(), now=NOW)
        again, created_again = get_or_create_issue(conn, kind="daily", period=NOW.date(), now=NOW)
        assert created and not created_again and again.issue_id == issue.issue_id
        assert (
            fill_ledger(conn, issue_id=issue.issue_id, subscriber_ids=ids, message_id=str)
            == readers
        )
        assert (
            fill_ledger(
                conn, issue_id=issue.issue_id, subscriber_ids=ids, message_id=lambda s: f"x{s}"
            )
            == 0
        )
        set_issue_status(conn, issue_id=issue.issue_id, status="sending", now=NOW)
    return issue.issue_id


def test_a_claim_is_exclusive_until_its_lease_expires(db: Database) -> None:
    issue_id = sending_issue(db, 5)
    with db.write() as conn:
        first = claim_rows(conn, issue_id=issue_id, owner="a", now=NOW, lease=LEASE, limit=3)
        second = claim_rows(conn, issue_id=issue_id, owner="b", now=NOW, lease=LEASE, limit=10)
    assert len(first) == 3 and len(second) == 2
    assert not {r.ledger_id for r in first} & {r.ledger_id for r in second}
    with db.write() as conn:
        assert (
            claim_rows(conn, issue_id=issue_id, owner="c", now=NOW + LEASE, lease=LEASE, limit=9)
            == []
        )
        later = NOW + LEASE + dt.timedelta(seconds=1)
        taken = claim_rows(conn, issue_id=issue_id, owner="c", now=later, lease=LEASE, limit=9)
    assert len(taken) == 5  # the dead senders' rows, same Message-IDs
    assert {r.message_id for r in taken} == {r.message_id for r in first + second}


def test_a_paused_issue_gives_out_no_rows(db: Database) -> None:
    issue_id = sending_issue(db, 2)
    with db.write() as conn:
        set_issue_status(conn, issue_id=issue_id, status="paused", now=NOW, reason="test")
        assert claim_rows(conn, issue_id=issue_id, owner="a", now=NOW, lease=LEASE, limit=5) == []


def test_only_confirmed_active_unpaused_subscribers_of_the_kind_are_due(db: Database) -> None:
    monday = dt.date(2026, 3, 16)
    with db.write() as conn:
        add_subscriber(conn, email="daily@x.org", now=NOW, confirmed=True)
        add_subscriber(conn, email="pending@x.org", now=NOW)
        add_subscriber(
            conn,
            email="paused@x.org",
            now=NOW,
            confirmed=True,
            preferences=Preferences(paused=True),
        )
        weekly, _ = add_subscriber(
            conn,
            email="Weekly@X.org",
            now=NOW,
            confirmed=True,
            preferences=Preferences(frequency="weekly", weekday=0),
        )
        daily_ids = due_subscriber_ids(conn, kind="daily", period=monday)
        weekly_monday = due_subscriber_ids(conn, kind="weekly", period=monday)
        weekly_tuesday = due_subscriber_ids(conn, kind="weekly", period=monday + dt.timedelta(1))
    assert len(daily_ids) == 1
    assert weekly_monday == [weekly.subscriber_id] and weekly_tuesday == []
    assert weekly.email == "weekly@x.org"


def test_a_confirmation_token_works_once_and_not_after_it_expires(db: Database) -> None:
    from paperfeed.db.digests import set_confirmation

    with db.write() as conn:
        pending, _ = add_subscriber(conn, email="p@x.org", now=NOW)
        set_confirmation(
            conn, subscriber_id=pending.subscriber_id, token_hash="h1", expires_at=NOW + LEASE
        )
        assert confirm_subscriber(conn, token_hash="h1", now=NOW + 2 * LEASE) is None
        confirmed = confirm_subscriber(conn, token_hash="h1", now=NOW)
        assert confirmed is not None and confirmed.receives
        assert confirm_subscriber(conn, token_hash="h1", now=NOW) is None


def test_rate_limit_windows_count_and_reset(db: Database) -> None:
    window = dt.timedelta(days=1)
    with db.write() as conn:
        counts = [count_in_window(conn, bucket="b", window=window, now=NOW) for _ in range(3)]
        reset = count_in_window(conn, bucket="b", window=window, now=NOW + window)
    assert counts == [1, 2, 3] and reset == 1


def test_addresses_that_could_break_a_header_are_refused(db: Database) -> None:
    import pytest

    from paperfeed.addresses import is_address  # the one parser (issue #9)

    assert is_address(" Ada.Lovelace+papers@Example.ORG ")
    for bad in (
        "a@b.c\r\nBcc: victim@example.org",
        "a@b",
        "<a@b.org>",
        "a,b@c.org",
        "zoë@example.org",
        '"a b"@c.org',
        "a@-b.org",
    ):
        assert not is_address(bad), bad
        with db.write() as conn, pytest.raises(ValueError):
            add_subscriber(conn, email=bad, now=NOW)
