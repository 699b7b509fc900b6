"""The template filters every page shares: the one date style and English plurals."""

from __future__ import annotations

import datetime as dt

from paperfeed.wording import human_date, human_time, plural


def test_dates_omit_the_year_only_in_the_current_one() -> None:
    today = dt.date(2026, 12, 2)
    assert human_date(dt.date(2026, 3, 20), today=today) == "20 Mar"
    assert human_date(dt.date(2024, 4, 5), today=today) == "5 Apr 2024"
    assert human_date(dt.datetime(2025, 1, 9, 23, 59), today=today) == "9 Jan 2025"
    assert human_date(None) == ""


def test_times_read_as_day_hour_and_utc() -> None:
    moment = dt.datetime(2024, 4, 5, 7, 3)
    assert human_time(moment) == "5 Apr 2024, 07:03 UTC"


def test_plurals_agree_with_the_count() -> None:
    assert plural(0, "upvote") == "0 upvotes"
    assert plural(1, "upvote") == "1 upvote"
    assert plural(2, "upvote") == "2 upvotes"
    assert plural(1, "paper") == "1 paper"
    assert plural(8675, "paper") == "8,675 papers"
    assert plural(1, "comment") == "1 comment"
    assert plural(3, "query", "queries") == "3 queries"
