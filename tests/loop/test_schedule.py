"""The schedule on a fake clock: arXiv's Sunday-Thursday announcements, none on Friday or
Saturday, listing days Monday-Friday, the DST change, digests in their own zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from paperfeed.loop.schedule import Recurrence, Schedule, announcement_day
from paperfeed.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")


def schedule(**overrides: object) -> Schedule:
    return Schedule.from_settings(Settings(_env_file=None, **overrides))  # type: ignore[arg-type]


def fires_between(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    plan, found, now = schedule(), [], start
    while True:
        fire = plan.announce.next(now)
        if fire >= end:
            return found
        found.append(fire)
        now = fire


def test_announcements_run_sunday_to_thursday_at_20_new_york_time_never_friday_or_saturday() -> (
    None
):
    start = dt.datetime(2026, 3, 19, 12, tzinfo=dt.UTC)  # a Thursday
    fires = fires_between(start, start + dt.timedelta(days=14))
    assert {f.astimezone(NEW_YORK).strftime("%a %H:%M") for f in fires} == {
        f"{day} 20:00" for day in ("Sun", "Mon", "Tue", "Wed", "Thu")
    }
    assert len(fires) == 10
    days = {announcement_day(f).strftime("%a") for f in fires}
    assert days == {"Mon", "Tue", "Wed", "Thu", "Fri"}  # listing days: no weekend


def test_friday_and_saturday_still_show_thursdays_announcement() -> None:
    plan = schedule()
    for moment in (
        dt.datetime(2026, 3, 20, 18, tzinfo=dt.UTC),  # Friday
        dt.datetime(2026, 3, 21, 23, tzinfo=dt.UTC),  # Saturday
        dt.datetime(2026, 3, 22, 23, 59, tzinfo=dt.UTC),  # Sunday 19:59 in New York
    ):
        day, fire = plan.fetch_period(moment)
        assert day == dt.date(2026, 3, 20)
        assert fire.astimezone(NEW_YORK) == dt.datetime(2026, 3, 19, 20, tzinfo=NEW_YORK)
    assert plan.fetch_period(dt.datetime(2026, 3, 23, 0, 0, tzinfo=dt.UTC))[0] == dt.date(
        2026, 3, 23
    )


def test_the_dst_change_keeps_20_new_york_time_and_moves_the_utc_hour() -> None:
    # US DST began on Sunday 2026-03-08: 20:00 EST is 01:00 UTC, 20:00 EDT is 00:00 UTC.
    plan = schedule()
    before = plan.announce.next(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC))
    after = plan.announce.next(before)
    assert before.astimezone(dt.UTC) == dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC)
    assert after.astimezone(dt.UTC) == dt.datetime(2026, 3, 9, 0, 0, tzinfo=dt.UTC)
    assert announcement_day(before) == dt.date(2026, 3, 6)
    assert announcement_day(after) == dt.date(2026, 3, 9)
    # And back in November: Sunday 2026-11-01 20:00 EST is 01:00 UTC on Monday.
    autumn = plan.announce.next(dt.datetime(2026, 10, 31, 12, tzinfo=dt.UTC))
    assert autumn.astimezone(dt.UTC) == dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def test_a_fire_time_itself_counts_as_due() -> None:
    plan = schedule()
    fire = dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC)
    assert plan.announce.previous(fire) == fire
    assert plan.announce.previous(fire - dt.timedelta(seconds=1)) < fire
    assert plan.announce.next(fire) > fire


def test_digests_go_out_daily_at_the_configured_time_and_zone() -> None:
    plan = schedule(digest_time="7:30", digest_timezone="Europe/Berlin")
    now = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)  # the day before Europe's DST change
    first = plan.digest.next(now)
    second = plan.digest.next(first)
    assert first.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 5, 30, tzinfo=dt.UTC)  # CEST
    assert second.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 5, 30, tzinfo=dt.UTC)
    day, fire = plan.digest_period(first + dt.timedelta(minutes=1))
    assert day == dt.date(2026, 3, 29) and fire == first


def test_a_fetch_is_given_up_after_the_configured_hours() -> None:
    plan = schedule(fetch_give_up_hours=10)
    fire = dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC)
    assert plan.still_looking(fire, fire + dt.timedelta(hours=9, minutes=59))
    assert not plan.still_looking(fire, fire + dt.timedelta(hours=10))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="cron"):
        Recurrence("every day", "UTC")
    with pytest.raises(ValueError, match="time zone"):
        Settings(_env_file=None, announce_timezone="Mars/Olympus")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="top:N"):
        Settings(_env_file=None, auto_feature="best")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="HH:MM"):
        Settings(_env_file=None, digest_time="25:00")  # type: ignore[call-arg]
