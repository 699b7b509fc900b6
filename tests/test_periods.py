"""Feed periods: parsing `?date=`, `?week=`, `?month=`, and each period's days."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.periods import BadPeriod, Period, parse_period, period_of


def test_an_iso_week_runs_monday_to_sunday() -> None:
    week = parse_period(week="2026-W12")
    assert week == Period("week", dt.date(2026, 3, 16))
    assert week.end == dt.date(2026, 3, 23) and week.last_day == dt.date(2026, 3, 22)
    assert week.value == "2026-W12" and week.query() == "week=2026-W12"


def test_iso_week_one_can_start_in_the_previous_calendar_year() -> None:
    week = parse_period(week="2026-W01")
    assert week is not None and week.start == dt.date(2025, 12, 29)
    assert period_of("week", dt.date(2025, 12, 31)) == week
    assert parse_period(week="2026-W53") is not None  # 2026 has 53 ISO weeks
    assert period_of("week", dt.date(2027, 1, 1)).value == "2026-W53"


def test_a_month_ends_on_the_first_of_the_next() -> None:
    december = parse_period(month="2025-12")
    assert december is not None and december.end == dt.date(2026, 1, 1)
    february = parse_period(month="2024-02")
    assert february is not None and february.last_day == dt.date(2024, 2, 29)


def test_periods_at_the_end_of_the_calendar_do_not_overflow() -> None:
    assert Period("day", dt.date.max).end == dt.date.max
    assert Period("month", dt.date(9999, 12, 1)).end == dt.date.max
    assert period_of("week", dt.date.max).end == dt.date.max


def test_no_period_given_is_none() -> None:
    assert parse_period() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date": "20260320"}, "is not a date"),
        ({"date": "2026-02-30"}, "is not a date"),
        ({"week": "2025-W53"}, "is not an ISO week"),  # 2025 has 52
        ({"week": "2026-W00"}, "is not an ISO week"),
        ({"week": "2026-12"}, "is not an ISO week"),
        ({"month": "2026-13"}, "is not a month"),
        ({"month": "2026-3"}, "is not a month"),
        ({"date": "2026-03-20", "week": "2026-W12"}, "not date and week together"),
    ],
)
def test_bad_periods_say_what_to_give(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(BadPeriod, match=message):
        parse_period(**kwargs)
