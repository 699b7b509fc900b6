"""`huggingface_hub.HfApi` pointed at this hub (a live uvicorn on loopback) reads its papers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from paperfeed.db.feed import papers_for_period
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.web.app import create_app
from tests.live_server import serve_app

HISTORY = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"


@pytest.fixture
def hub(sample_hub: Hub) -> Hub:
    run_ingest(sample_hub.db, HfDailySource(HISTORY))
    sample_hub.search_index.ensure_fresh(force=True)
    return sample_hub


@pytest.fixture
def endpoint(hub: Hub) -> Iterator[str]:
    """The hub served by a real uvicorn on a free loopback port."""
    with serve_app(lambda _url: create_app(hub)) as url:
        yield url


def test_list_daily_papers_reads_a_days_feed(endpoint: str, hub: Hub) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    day = dt.date(2024, 3, 1)
    papers = list(api.list_daily_papers(date=day.isoformat()))
    with hub.db.read() as conn:
        expected = papers_for_period(conn, day, day + dt.timedelta(days=1), limit=50)
    assert 0 < len(papers) == len(expected)
    assert [p.id for p in papers] == [item.paper.paper_id for item in expected]
    assert [p.upvotes for p in papers] == [item.upvotes for item in expected]
    first = papers[0]
    assert first.title == expected[0].paper.title
    assert first.summary == expected[0].paper.abstract
    assert [a.name for a in first.authors or []] == list(expected[0].paper.authors or [])
    assert first.submitted_at == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    assert first.published_at is not None and first.published_at.year in (2024, 2023)


def test_list_daily_papers_pages_through_a_month(endpoint: str, hub: Hub) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    first = list(api.list_daily_papers(month="2024-02", limit=20, p=0))
    second = list(api.list_daily_papers(month="2024-02", limit=20, p=1))
    assert len(first) == len(second) == 20
    assert not {p.id for p in first} & {p.id for p in second}
    upvotes = [p.upvotes or 0 for p in first + second]
    assert upvotes == sorted(upvotes, reverse=True)
    week = list(api.list_daily_papers(week="2024-W10"))
    assert week and all(
        p.submitted_at is not None and p.submitted_at.isocalendar()[:2] == (2024, 10) for p in week
    )


def test_list_daily_papers_without_a_date_gives_the_latest_day(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    papers = list(api.list_daily_papers(limit=5))
    assert len(papers) == 5
    assert {p.submitted_at for p in papers} == {dt.datetime(2026, 3, 20, tzinfo=dt.UTC)}


def test_paper_info_reads_one_paper_with_readers_upvotes(endpoint: str, hub: Hub) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    before = api.paper_info("2401.10241")
    assert before.title == "Zero Bubble Pipeline Parallelism"
    assert [a.name for a in before.authors or []][:2] == ["Penghui Qi", "Xinyi Wan"]
    assert before.upvotes == 19
    assert before.submitted_at == dt.datetime(2023, 11, 30, tzinfo=dt.UTC)
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "reader@example.org")
        set_upvote(conn, user.user_id, "2401.10241", on=True)
    assert api.paper_info("2401.10241v2").upvotes == 20
    with pytest.raises(HfHubHTTPError) as error:
        api.paper_info("2401.99999")
    assert error.value.response.status_code == 404


def test_list_papers_searches(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    papers = list(api.list_papers(query="zero bubble pipeline parallelism", limit=5))
    assert papers and papers[0].id == "2401.10241"
    assert papers[0].title == "Zero Bubble Pipeline Parallelism"
    assert list(api.list_papers(query="   ")) == []


def test_huggingface_hub_shows_the_apis_error_messages(endpoint: str) -> None:
    api = HfApi(endpoint=endpoint, token=False)
    with pytest.raises(BadRequestError) as bad:
        list(api.list_daily_papers(date="2024-13-01"))
    shown = str(bad.value)
    assert "Bad request:" in shown
    assert shown.split("Bad request:", 1)[1].strip()  # not an empty "Bad request:"
    assert "2024-13-01" in shown or "date" in shown.lower()
    with pytest.raises(HfHubHTTPError) as missing:
        api.paper_info("2401.99999")
    assert "There is no paper '2401.99999' here." in str(missing.value)
    with pytest.raises(HfHubHTTPError) as too_many:
        list(api.list_daily_papers(date="2024-03-01", limit=1000))
    assert too_many.value.response.status_code == 422
    assert "limit: Input should be less than or equal to 100" in str(too_many.value)
