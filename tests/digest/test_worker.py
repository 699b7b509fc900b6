"""`paperfeed worker`'s schedule: today's daily issue on a day with papers, the weekly issue of
the readers who chose today, and issues left unfinished by an earlier run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from paperfeed.db.digests import Preferences, add_subscriber, get_or_create_issue, list_issues
from paperfeed.db.mailbox import list_messages
from paperfeed.digest.service import run_schedule_once
from paperfeed.hub import Hub
from tests.digest.conftest import FakeClock, latest_day


def test_one_pass_sends_daily_and_weekly_issues_into_the_mailbox(
    hub_factory: Callable[..., Hub],
) -> None:
    hub = hub_factory()
    today = latest_day(hub)
    now = dt.datetime.combine(today, dt.time(7))
    with hub.db.write() as conn:
        add_subscriber(conn, email="daily@example.org", now=now, confirmed=True)
        add_subscriber(
            conn,
            email="weekly@example.org",
            now=now,
            confirmed=True,
            preferences=Preferences(frequency="weekly", weekday=today.weekday()),
        )
        add_subscriber(
            conn,
            email="other-day@example.org",
            now=now,
            confirmed=True,
            preferences=Preferences(frequency="weekly", weekday=(today.weekday() + 1) % 7),
        )
        # An issue an earlier run left building (it crashed before writing rows).
        get_or_create_issue(conn, kind="daily", period=today - dt.timedelta(days=1), now=now)
    tick = run_schedule_once(hub, today=today, clock=FakeClock(now))
    kinds = sorted((r.issue.kind, r.issue.period, r.sent) for r in tick.reports)
    assert kinds == [
        ("daily", today - dt.timedelta(days=1), 1),
        ("daily", today, 1),
        ("weekly", today, 1),
    ]
    with hub.db.read() as conn:
        recipients = sorted(m.recipients[0] for m in list_messages(conn))
        statuses = {i.status for i in list_issues(conn)}
    assert recipients == ["daily@example.org", "daily@example.org", "weekly@example.org"]
    assert statuses == {"done"}
    # A second pass the same day sends nothing more.
    again = run_schedule_once(hub, today=today, clock=FakeClock(now))
    assert sum(r.sent for r in again.reports) == 0
