"""The demo `paperfeed init` seeds, seen through the real app: one coherent period (#11).

The store is built once by the real `init` (the bundled arXiv week, recorded but not featured,
and the real Hugging Face daily papers with their upvotes); each test gets a private copy.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.community.submit import submit_paper
from paperfeed.db.digests import Preferences, add_subscriber
from paperfeed.db.feed import days_featured
from paperfeed.db.papers import count_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.digest.service import default_period, preview_plan
from paperfeed.hub import Hub
from paperfeed.ingest.single import ArxivFetcher
from paperfeed.settings import Settings
from paperfeed.web.app import create_app

AS_OF = dt.date(2024, 4, 5)
ARXIV_PAPER = "2603.12270"  # in the bundled arXiv week, which the demo does not feature


def _env(data_dir: Path) -> dict[str, str]:
    return {"PAPERFEED_DATA_DIR": str(data_dir), "PAPERFEED_SEMANTIC_SEARCH": "false"}


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder made by `paperfeed init` (built once per session)."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    result = CliRunner(env=_env(data_dir)).invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "demo data as of 2024-04-05" in result.stdout
    return data_dir


@pytest.fixture
def data_dir(demo_store: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_store, tmp_path / "data"))


@pytest.fixture
def hub(data_dir: Path) -> Iterator[Hub]:
    made = Hub.from_settings(
        Settings(data_dir=data_dir, database_url=None, semantic_search=False), migrate=False
    )
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return TestClient(create_app(hub))


def heading(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def card_ids(page: str) -> list[str]:
    return re.findall(r'<h2 class="card-title[^"]*"[^>]*><a href="/papers/([^"]+)">', page)


def count_line(page: str) -> str:
    found = re.search(r'<p class="count">(.*?)</p>', page, re.S)
    assert found is not None
    return " ".join(found.group(1).split())


def upvote(hub: Hub, paper_id: str, email: str = "visitor@example.org") -> None:
    with hub.db.write() as conn:
        user = get_or_create_user(conn, email)
        set_upvote(conn, user.user_id, paper_id, on=True)


def test_after_init_feed_week_month_trending_and_digest_agree_on_one_period(
    client: TestClient, hub: Hub
) -> None:
    with hub.db.read() as conn:
        counts = count_papers(conn)
    # Every paper is stored; only the curated Hugging Face days are featured.
    assert counts.papers == 2_027 + 753
    assert (counts.first_day, counts.last_day) == (dt.date(2023, 11, 30), AS_OF)

    home = client.get("/").text
    assert heading(home) == "Friday, 5 April 2024"
    assert "Demo data" in home and "as of" in home and "Friday, 5 April 2024" in home
    assert 'href="/papers?week=2024-W14"' in home and 'href="/papers?month=2024-04"' in home
    day_ids = card_ids(home)
    assert len(day_ids) == 4

    week = client.get("/papers?week=2024-W14").text
    month = client.get("/papers?month=2024-04").text
    assert heading(week) == "Week 14 · 1–7 April 2024" and heading(month) == "April 2024"
    assert "Demo data" in week and "Demo data" in month
    week_ids = card_ids(week) + card_ids(client.get("/papers?week=2024-W14&page=2").text)
    month_ids = card_ids(month) + card_ids(client.get("/papers?month=2024-04&page=2").text)
    assert count_line(week).startswith("43 papers") and len(week_ids) == 43
    assert set(day_ids) < set(week_ids)
    assert week_ids == month_ids  # April 2024 begins on Monday 1 April

    trending = client.get("/trending?window=day").text
    assert "this is the list as of" in trending and "5 Apr 2024, 00:00 UTC" in trending
    assert card_ids(trending)[:4] == day_ids  # the same day, the same order
    weekly = client.get("/trending?window=week").text
    assert "5 Apr 2024, 00:00 UTC" in weekly
    with hub.db.read() as conn:
        for paper_id in card_ids(weekly):
            assert dt.date(2024, 3, 30) <= days_featured(conn, paper_id)[0] <= AS_OF

    assert default_period(hub, "daily") == default_period(hub, "weekly") == AS_OF
    with hub.db.write() as conn:
        subscriber, _ = add_subscriber(
            conn,
            email="reader@example.org",
            now=dt.datetime(2024, 4, 5, 9),
            confirmed=True,
            preferences=Preferences(top_n=10, max_papers=10, personal=False),
        )
    plan, _ = preview_plan(hub, subscriber, kind="daily")
    assert plan.period == AS_OF
    assert [item.paper.paper_id for item in plan.items] == day_ids


def test_one_upvote_adds_to_trending_instead_of_replacing_it(client: TestClient, hub: Hub) -> None:
    before = card_ids(client.get("/trending").text)
    assert count_line(client.get("/trending").text).startswith("48 papers")
    upvote(hub, ARXIV_PAPER)
    page = client.get("/trending").text
    assert count_line(page).startswith("1 paper upvoted in the last 7 days, then 48 upvoted before")
    assert "this is the list as of" not in page  # the window is the wall clock's again
    assert card_ids(page) == [ARXIV_PAPER, *before[:29]]
    api = client.get("/api/trending?window=week&limit=100").json()
    assert api["total"] == 49 and api["papers"][0]["paper"]["id"] == ARXIV_PAPER
    assert api["windowTotal"] == 1 and api["earlier"] == "2024-04-05T00:00:00.000Z"


def test_a_submission_today_does_not_empty_home(
    client: TestClient, hub: Hub, data_dir: Path
) -> None:
    home = client.get("/").text
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "submitter@example.org")
    # The paper is stored (the arXiv week), so nothing is fetched.
    made = submit_paper(
        db=hub.db, fetcher=ArxivFetcher(hub.settings), user_id=user.user_id, text=ARXIV_PAPER
    )
    assert made.newly_featured and made.featured_on > AS_OF
    after = client.get("/").text
    assert heading(after) == "Friday, 5 April 2024" and card_ids(after) == card_ids(home)
    newer = f"/papers?date={made.featured_on.isoformat()}"
    assert f'href="{newer}"' in after  # the newer day is linked
    assert card_ids(client.get(newer).text) == [ARXIV_PAPER]
    # The API's and the feeds' default day is home's day too, and so is the digest's.
    api = client.get("/api/daily_papers").json()
    assert [entry["paper"]["id"] for entry in api] == card_ids(home)
    assert "Papers of Friday, 5 April 2024" in client.get("/papers.rss").text
    assert default_period(hub, "daily") == AS_OF


def test_featuring_real_papers_ends_the_demo(client: TestClient, hub: Hub, data_dir: Path) -> None:
    assert "Demo data" in client.get("/search").text
    result = CliRunner(env=_env(data_dir)).invoke(app, ["ingest", "sample", "--feature"])
    assert result.exit_code == 0, result.output
    assert "no longer the demo" in result.stdout
    home = client.get("/").text
    assert "Demo data" not in home
    assert heading(home) == "Friday, 20 March 2026"  # the latest featured day


def test_init_without_the_sample_ends_the_demo_and_keeps_the_papers(
    client: TestClient, hub: Hub, data_dir: Path
) -> None:
    result = CliRunner(env=_env(data_dir)).invoke(app, ["init", "--no-sample"])
    assert result.exit_code == 0, result.output
    assert "no longer the demo" in result.stdout
    home = client.get("/").text
    assert "Demo data" not in home and heading(home) == "Friday, 5 April 2024"
    with hub.db.read() as conn:
        assert count_papers(conn).papers == 2_780
