"""The trending page over the sample week plus the real Hugging Face upvote history."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.trending import trending_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.trending import FORMULA_VERSION

HISTORY = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"


@pytest.fixture
def hub(sample_hub: Hub) -> Hub:
    run_ingest(sample_hub.db, HfDailySource(HISTORY))
    return sample_hub


def card_titles(page: str) -> list[str]:
    return [
        html.unescape(t)
        for t in re.findall(r'<h2 class="card-title[^"]*"[^>]*><a href="[^"]+">([^<]+)</a>', page)
    ]


def test_an_old_history_trends_as_of_its_newest_upvote(client: TestClient, hub: Hub) -> None:
    response = client.get("/trending")
    assert response.status_code == 200
    page = response.text
    assert "<h1>This week</h1>" in page
    assert "this is the list as of" in page and "5 Apr 2024, 00:00 UTC" in page
    with hub.db.read() as conn:
        expected = trending_papers(conn, window="week", limit=30)
    assert len(expected) == 30
    assert card_titles(page) == [t.paper.title for t in expected]
    # The score is the upvote count's tooltip; the card itself shows upvotes plainly.
    assert (
        f"Trending score {expected[0].score:.2f}, from {expected[0].window_upvotes} upvotes" in page
    )
    assert "in the window" not in page
    assert f"<code>{FORMULA_VERSION}</code>" in page


def test_the_day_window_lists_the_last_days_papers_by_upvotes(client: TestClient, hub: Hub) -> None:
    page = client.get("/trending?window=day").text
    with hub.db.read() as conn:
        expected = trending_papers(conn, window="day")
    assert 0 < len(expected) < 30
    # The day's own papers first; a list under a page is topped up from earlier days (#11).
    assert card_titles(page)[: len(expected)] == [t.paper.title for t in expected]
    assert len(card_titles(page)) == 30
    assert f"{len(expected)} papers upvoted in the last 24 hours, then" in page
    assert "the list goes on with earlier upvotes" in page
    upvotes = [t.upvotes for t in expected]
    assert upvotes == sorted(upvotes, reverse=True)
    assert '<a href="/trending?window=day" aria-current="page">Today</a>' in page


def test_fresh_upvotes_trend_at_the_wall_clock(client: TestClient, hub: Hub) -> None:
    before = card_titles(client.get("/trending?window=day").text)
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "reader@example.org")
        set_upvote(conn, user.user_id, "2603.12270", on=True)
    page = client.get("/trending?window=day").text
    assert "this is the list as of" not in page
    # The fresh vote tops the list; the list it used to be follows (#11: it is not replaced).
    titles = card_titles(page)
    assert titles[0] == "Task-Specific Knowledge Distillation via Intermediate Probes"
    assert titles[1:] == before[:29]
    assert "from 1 upvote in the last 24 hours" in page
    assert "1 paper upvoted in the last 24 hours, then 33 upvoted before" in page


@pytest.mark.parametrize("query", ["window=year", "window=", "window=week&page=0"])
def test_bad_windows_are_a_400_page(client: TestClient, hub: Hub, query: str) -> None:
    response = client.get(f"/trending?{query}")
    expected = 200 if query == "window=" else 400  # an empty window means the default
    assert response.status_code == expected
    assert response.headers["content-type"].startswith("text/html")


def test_trending_pages_advertise_rss_and_atom(client: TestClient, hub: Hub) -> None:
    page = client.get("/trending?window=month").text
    assert (
        'type="application/rss+xml" title="Trending month (RSS)" href="/trending.rss?window=month"'
        in page
    )
    assert 'href="/trending.atom?window=month"' in page


def test_the_cli_the_api_and_the_page_list_the_same_papers_at_the_same_now(
    client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`paperfeed trending` asks the same service as the page and /api/trending (issue #10)."""
    import json

    from typer.testing import CliRunner

    from paperfeed.cli import app

    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["trending", "--window", "week", "--json", "--limit", "10"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    api = client.get("/api/trending?window=week&limit=10").json()
    assert [p["id"] for p in listed["papers"]] == [p["paper"]["id"] for p in api["papers"]]
    assert listed["now"] == api["now"] and listed["anchored"] is api["anchored"] is True
    assert listed["total"] == api["total"] and listed["formulaVersion"] == FORMULA_VERSION
    assert [p["title"] for p in listed["papers"]] == card_titles(client.get("/trending").text)[:10]
    text = CliRunner().invoke(app, ["trending", "--window", "day", "--limit", "3"])
    assert text.exit_code == 0 and "Trending this day as of 2024-04-05 00:00 UTC" in text.stdout
    assert CliRunner().invoke(app, ["trending", "--window", "year"]).exit_code == 2


def test_a_digest_ranks_trending_as_the_page_does_at_the_same_now(hub: Hub) -> None:
    """Today's digest (its period ends after the web's "now") ranks exactly the page's list;
    a past period's digest is ranked as of the end of that period, never anchored."""
    import datetime as dt

    from paperfeed.community.trending import current_window, trending

    with hub.db.write() as conn:
        user = get_or_create_user(conn, "reader@example.org")
        set_upvote(conn, user.user_id, "2603.12270", on=True)
    web = trending(db=hub.db, window="day", limit=50)
    assert not web.span.anchored and web.span == current_window(db=hub.db, window="day")
    assert [t.paper.paper_id for t in web.papers][: web.own] == ["2603.12270"]
    # The page tops its list up with earlier upvotes (#11); a digest does not, so the digest
    # is exactly the page's own window.
    assert web.total > web.own and web.earlier is not None
    digest = trending(db=hub.db, window="day", limit=50, until=dt.datetime(2030, 1, 1))
    assert digest.span == web.span and digest.papers == web.papers[: web.own]
    assert digest.total == digest.own == web.own and digest.earlier is None
    end = dt.datetime(2024, 3, 1, 23, 59, 59)
    past = trending(db=hub.db, window="week", limit=50, until=end)
    assert past.span.now == end and not past.span.anchored
    with hub.db.read() as conn:
        expected = trending_papers(conn, window="week", now=end, limit=50)
    assert past.papers == expected and expected
