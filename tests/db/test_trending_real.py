"""Trending on the real Hugging Face upvotes of shared/data/hf_daily_papers_2024 (753 papers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from paperfeed.db import Database
from paperfeed.db.schema import feed_entries
from paperfeed.db.trending import (
    TrendingPaper,
    TrendingWindow,
    newest_vote,
    topped_up_scores,
    trending_papers,
    trending_scores,
    trending_window,
)
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.trending import FORMULA_VERSION, Window, window_length
from tests.conftest import SHARED_DATA

HF_FILE = SHARED_DATA / "hf_daily_papers_2024" / "hf_daily_papers.jsonl.gz"
NOWS = [dt.datetime(2024, 1, 20, 12), dt.datetime(2024, 2, 29, 18), dt.datetime(2024, 4, 5, 23)]


@pytest.fixture(scope="module")
def hf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hf")
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    db.migrate()
    summary = run_ingest(db, HfDailySource(HF_FILE))
    assert summary.imported == 753 and not summary.rejected
    db.dispose()
    return folder / "paperfeed.db"


@pytest.fixture
def hf(hf_file: Path, tmp_path: Path) -> Iterator[Database]:
    copy = tmp_path / "paperfeed.db"
    copy.write_bytes(hf_file.read_bytes())
    db = Database(f"sqlite:///{copy}")
    yield db
    db.dispose()


def featured(db: Database) -> dict[str, tuple[dt.date, int]]:
    """Each paper's first featured day and imported upvotes, read straight from the store."""
    found: dict[str, tuple[dt.date, int]] = {}
    with db.read() as conn:
        for row in conn.execute(feed_entries.select()):
            day, votes = found.get(row.paper_id, (row.day, 0))
            found[row.paper_id] = (min(day, row.day), max(votes, row.upvotes))
    return found


def spearman(x: list[float], y: list[float]) -> float:
    def ranks(values: list[float]) -> np.ndarray:
        order = np.argsort(values, kind="stable")
        result = np.empty(len(values))
        sorted_values = np.asarray(values)[order]
        i = 0
        while i < len(values):  # ties share their average rank
            j = i
            while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
                j += 1
            result[order[i : j + 1]] = (i + j) / 2
            i = j + 1
        return result

    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def in_window(papers: dict[str, tuple[dt.date, int]], now: dt.datetime, window: Window) -> dict:
    start = now - window_length(window)
    return {
        paper_id: (day, votes)
        for paper_id, (day, votes) in papers.items()
        if votes > 0 and start < dt.datetime(day.year, day.month, day.day) <= now
    }


def trending(db: Database, window: Window, now: dt.datetime) -> list[TrendingPaper]:
    with db.read() as conn:
        return trending_papers(conn, window=window, now=now, limit=1000)


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_trending_lists_exactly_the_papers_upvoted_in_the_window(
    hf: Database, now: dt.datetime, window: Window
) -> None:
    papers = featured(hf)
    expected = in_window(papers, now, window)
    listed = trending(hf, window, now)
    assert {t.paper.paper_id for t in listed} == set(expected)
    assert all(t.window_upvotes == expected[t.paper.paper_id][1] for t in listed)
    scores = [t.score for t in listed]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("now", NOWS)
def test_within_one_featured_day_trending_follows_the_upvotes(
    hf: Database, now: dt.datetime
) -> None:
    papers = featured(hf)
    by_day: dict[dt.date, list[int]] = {}
    for t in trending(hf, "month", now):
        by_day.setdefault(papers[t.paper.paper_id][0], []).append(t.upvotes)
    assert len(by_day) >= 15
    for votes in by_day.values():
        assert votes == sorted(votes, reverse=True)


@pytest.mark.parametrize("now", NOWS)
def test_the_top_of_the_week_is_made_of_much_upvoted_papers(hf: Database, now: dt.datetime) -> None:
    listed = trending(hf, "week", now)
    median = float(np.median([t.upvotes for t in listed]))
    top = [t.upvotes for t in listed[:5]]
    assert np.mean(top) > 2 * median
    assert min(top) >= median


@pytest.mark.parametrize("now", NOWS)
def test_trending_agrees_with_counts_but_favours_recent_papers(
    hf: Database, now: dt.datetime
) -> None:
    papers = featured(hf)
    listed = trending(hf, "month", now)
    assert len(listed) >= 100
    rho = spearman([t.score for t in listed], [float(t.upvotes) for t in listed])
    assert 0.5 < rho < 0.99, rho  # related to plain counts, but not the same order
    by_count = sorted(listed, key=lambda t: -t.upvotes)

    def mean_age_days(top: list[TrendingPaper]) -> float:
        days = [papers[t.paper.paper_id][0] for t in top]
        return float(np.mean([(now.date() - day).days for day in days]))

    assert mean_age_days(listed[:20]) < mean_age_days(by_count[:20]) - 2


def test_an_old_vote_history_is_shown_as_of_its_newest_vote(hf: Database) -> None:
    with hf.read() as conn:
        newest = newest_vote(conn)
        assert newest == dt.datetime(2024, 4, 5)
        span = trending_window(conn, "week")
        assert span.anchored and span.now == newest and span.formula_version == FORMULA_VERSION
        listed = trending_papers(conn, window="day")
    papers = featured(hf)
    assert listed and {papers[t.paper.paper_id][0] for t in listed} == {dt.date(2024, 4, 5)}


def test_a_readers_new_votes_lift_a_paper_to_the_top(hf: Database) -> None:
    now = dt.datetime(2024, 4, 5, 23)
    listed = trending(hf, "week", now)
    last = listed[-1]
    with hf.write() as conn:
        for n in range(int(listed[0].score) + 1):
            user = get_or_create_user(conn, f"reader{n}@example.org")
            set_upvote(conn, user.user_id, last.paper.paper_id, on=True)
    # set_upvote stamps the wall clock, after `now`: those votes do not count yet ...
    assert trending(hf, "week", now)[-1].paper.paper_id == last.paper.paper_id
    # ... and at the wall clock they are all that trends this week.
    with hf.read() as conn:
        fresh = trending_papers(conn, window="week")
    assert [t.paper.paper_id for t in fresh] == [last.paper.paper_id]


def test_a_short_list_is_topped_up_from_the_windows_of_earlier_votes(hf: Database) -> None:
    """docs/trending.md, "Topping up a short list": the day of 5 April 2024 has 4 papers; the
    list goes on with the windows ending at the newest earlier votes until it has 30 (#11)."""
    with hf.read() as conn:
        span = trending_window(conn, "day")
        own = trending_scores(conn, span)
        listed = topped_up_scores(conn, span, at_least=30)
        assert newest_vote(conn, until=span.start) == dt.datetime(2024, 4, 4)
        earlier = trending_scores(conn, TrendingWindow("day", dt.datetime(2024, 4, 4), True))
    assert listed.own == len(own) == 4 and listed.scored[:4] == own
    assert listed.earlier == dt.datetime(2024, 4, 4)
    assert listed.scored[4 : 4 + len(earlier)] == earlier  # the previous day, in its order
    ids = [paper_id for paper_id, _, _ in listed.scored]
    assert len(ids) == len(set(ids)) >= 30
    papers = featured(hf)
    days = [papers[paper_id][0] for paper_id in ids]
    assert days == sorted(days, reverse=True)  # window after window, back in time
    # A list that is long enough is left alone.
    with hf.read() as conn:
        week = trending_window(conn, "week")
        assert topped_up_scores(conn, week, at_least=30).scored == trending_scores(conn, week)
