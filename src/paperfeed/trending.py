"""The trending formula: each upvote counts for less as it ages, halving every quarter window.

Pure functions, no I/O; docs/trending.md states the formula with a worked example that
tests/test_trending.py checks against this code. Bump FORMULA_VERSION whenever a number here
changes, so API clients can tell scores of different formulas apart.

    score(paper) = sum over the paper's upvotes cast in (now - W, now] of 2 ** (-age / H)

W is the window (a day, 7 days or 30 days), H = W / 4 its half-life, age = now - the vote's time.
Upvotes imported from Hugging Face have no times of their own; they count as cast at 00:00 UTC
of the day the paper was first featured (`imported_vote_time`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

Window = Literal["day", "week", "month"]

FORMULA_VERSION = "decay-v1"

WINDOWS: dict[Window, dt.timedelta] = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(days=7),
    "month": dt.timedelta(days=30),
}

# A vote at the far edge of the window still weighs 2**-4 = 1/16 of a fresh one.
HALF_LIVES_PER_WINDOW = 4

# A live list with fewer papers than this (one page of /trending) goes on with the lists of
# earlier windows, so that one fresh vote adds a paper to the list instead of replacing it.
TOP_UP_TO = 30


def window_length(window: Window) -> dt.timedelta:
    """How far back a window reaches."""
    return WINDOWS[window]


def half_life(window: Window) -> dt.timedelta:
    """The age at which a vote counts half: a quarter of the window (6 h, 42 h, 7.5 days)."""
    return WINDOWS[window] / HALF_LIVES_PER_WINDOW


def window_start(now: dt.datetime, window: Window) -> dt.datetime:
    """The moment a window opens (excluded): votes cast at or before it do not count."""
    return now - WINDOWS[window]


def vote_weight(age: dt.timedelta, window: Window) -> float:
    """What one vote of this age is worth: 1 when fresh, halving every half-life, 0 outside."""
    if age < dt.timedelta(0) or age >= WINDOWS[window]:
        return 0.0
    return float(2.0 ** (-(age / half_life(window))))


def trending_score(
    votes: Iterable[tuple[dt.datetime, int]], *, now: dt.datetime, window: Window
) -> float:
    """Sum the weights of `votes`, given as (time cast, how many votes at that time)."""
    return sum(count * vote_weight(now - cast, window) for cast, count in votes)


def imported_vote_time(day: dt.date) -> dt.datetime:
    """When imported votes count as cast: 00:00 UTC (naive, like the store) of the featured day."""
    return dt.datetime(day.year, day.month, day.day)


def anchored_now(
    wall_clock: dt.datetime, newest_vote: dt.datetime | None, window: Window
) -> tuple[dt.datetime, bool]:
    """Choose the window's "now", and say whether it was moved.

    A hub whose newest vote is older than the window (an archive, the demo's 2024 history)
    would show an empty list at the wall clock; its window ends at the newest vote instead.
    """
    if newest_vote is not None and wall_clock - newest_vote >= WINDOWS[window]:
        return newest_vote, True
    return wall_clock, False
