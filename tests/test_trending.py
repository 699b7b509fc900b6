"""The trending formula (paperfeed.trending) and its worked example in docs/trending.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from paperfeed.trending import (
    FORMULA_VERSION,
    anchored_now,
    half_life,
    imported_vote_time,
    trending_score,
    vote_weight,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "trending.md"
NOW = dt.datetime(2024, 4, 5, 12, 0)


def test_a_vote_halves_every_quarter_window() -> None:
    assert half_life("day") == dt.timedelta(hours=6)
    assert half_life("week") == dt.timedelta(hours=42)
    assert half_life("month") == dt.timedelta(days=7.5)
    assert vote_weight(dt.timedelta(0), "week") == 1.0
    assert vote_weight(dt.timedelta(hours=42), "week") == pytest.approx(0.5)
    assert vote_weight(dt.timedelta(hours=84), "week") == pytest.approx(0.25)
    assert vote_weight(dt.timedelta(days=7) - dt.timedelta(seconds=1), "week") > 1 / 16 - 1e-4


def test_votes_outside_the_window_or_in_the_future_count_nothing() -> None:
    assert vote_weight(dt.timedelta(days=7), "week") == 0.0
    assert vote_weight(dt.timedelta(hours=-1), "week") == 0.0
    assert vote_weight(dt.timedelta(hours=25), "day") == 0.0
    assert vote_weight(dt.timedelta(days=25), "month") > 0.0


def test_recent_votes_beat_more_older_ones() -> None:
    fresh = [(NOW - dt.timedelta(hours=1), 10)]
    stale = [(NOW - dt.timedelta(days=6), 50)]
    assert trending_score(fresh, now=NOW, window="week") > trending_score(
        stale, now=NOW, window="week"
    )
    # ... but over a month the 50 older votes win.
    assert trending_score(stale, now=NOW, window="month") > trending_score(
        fresh, now=NOW, window="month"
    )


def test_the_window_moves_to_the_newest_vote_only_when_the_hub_is_quiet() -> None:
    wall = dt.datetime(2026, 3, 20, 9, 0)
    old = dt.datetime(2024, 4, 5)
    assert anchored_now(wall, old, "month") == (old, True)
    recent = wall - dt.timedelta(hours=30)
    assert anchored_now(wall, recent, "week") == (wall, False)
    assert anchored_now(wall, recent, "day") == (recent, True)
    assert anchored_now(wall, None, "day") == (wall, False)


def test_the_worked_example_in_the_docs_matches_the_code() -> None:
    a = [(imported_vote_time(dt.date(2024, 4, 1)), 100)]
    b_imported = [(imported_vote_time(dt.date(2024, 4, 4)), 30)]
    b_readers = [(dt.datetime(2024, 4, 5, 6, 0), 2)]
    c = [(imported_vote_time(dt.date(2024, 3, 28)), 300)]
    doc = DOC.read_text()
    assert f"**`{FORMULA_VERSION}`**" in doc
    score = {
        "A": trending_score(a, now=NOW, window="week"),
        "B imported": trending_score(b_imported, now=NOW, window="week"),
        "B readers": trending_score(b_readers, now=NOW, window="week"),
        "B": trending_score(b_imported + b_readers, now=NOW, window="week"),
        "C": trending_score(c, now=NOW, window="week"),
    }
    assert score["B"] > score["A"] > score["C"] == 0.0
    for age_hours in (108, 36, 6):
        weight = vote_weight(dt.timedelta(hours=age_hours), "week")
        assert f"2^(−{age_hours}/42) = {weight:.4f}" in doc
    assert f"| **{score['A']:.2f}** |" in doc
    assert f"| {score['B imported']:.2f} |" in doc
    assert f"| {score['B readers']:.2f} |" in doc
    assert f"| **{score['B']:.2f}** |" in doc
