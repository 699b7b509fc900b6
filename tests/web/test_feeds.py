"""RSS 2.0 and Atom for every list, read back with feedparser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.db.collections import create_collection, set_in_collection
from paperfeed.db.feed import feature_papers, papers_for_period
from paperfeed.db.papers import upsert_papers
from paperfeed.db.trending import trending_papers
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.models import Featuring, PaperRecord
from paperfeed.search.hybrid import search
from paperfeed.web.feeds import FEED_SIZE

HISTORY = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"
BASE = "http://127.0.0.1:8000"  # settings.public_url's default


def parse(client: TestClient, url: str, version: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, response.text
    expected_type = "application/rss+xml" if version == "rss20" else "application/atom+xml"
    assert response.headers["content-type"].startswith(expected_type)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    return parsed


@pytest.mark.parametrize(("suffix", "version"), [("rss", "rss20"), ("atom", "atom10")])
def test_a_weeks_feed_lists_its_most_upvoted_papers(
    client: TestClient, sample_hub: Hub, suffix: str, version: str
) -> None:
    feed = parse(client, f"/papers.{suffix}?week=2026-W12", version)
    with sample_hub.db.read() as conn:
        expected = papers_for_period(
            conn, dt.date(2026, 3, 16), dt.date(2026, 3, 23), limit=FEED_SIZE
        )
    assert [e.title for e in feed.entries] == [item.paper.title for item in expected]
    assert [e.link for e in feed.entries] == [
        f"{BASE}/papers/{item.paper.paper_id}" for item in expected
    ]
    assert "Week 12" in feed.feed.title
    assert feed.feed.link == f"{BASE}/papers?week=2026-W12"
    first = feed.entries[0]
    assert expected[0].paper.abstract[:100] in first.summary
    assert first.published_parsed[:3] == expected[0].day.timetuple()[:3]


def test_the_feed_without_a_period_is_the_latest_day(client: TestClient) -> None:
    feed = parse(client, "/papers.rss", "rss20")
    assert len(feed.entries) == FEED_SIZE
    assert {e.published_parsed[:3] for e in feed.entries} == {(2026, 3, 20)}


def test_trending_feeds_follow_the_trending_list(client: TestClient, sample_hub: Hub) -> None:
    run_ingest(sample_hub.db, HfDailySource(HISTORY))
    feed = parse(client, "/trending.atom?window=month", "atom10")
    with sample_hub.db.read() as conn:
        expected = trending_papers(conn, window="month", limit=FEED_SIZE)
    assert len(expected) == FEED_SIZE
    assert [e.title for e in feed.entries] == [t.paper.title for t in expected]
    assert f"Trending score {expected[0].score:.2f}." in feed.entries[0].summary
    assert "decay-v1" in feed.feed.subtitle


def test_a_search_feed_lists_the_search_results(client: TestClient, sample_hub: Hub) -> None:
    feed = parse(client, "/search.rss?q=knowledge+distillation&category=cs.CL", "rss20")
    results = search(
        sample_hub.search_index,
        sample_hub.embedder,
        "knowledge distillation",
        categories=["cs.CL"],
        limit=FEED_SIZE,
    )
    assert feed.entries
    assert [e.title for e in feed.entries] == [hit.paper.title for hit in results.hits]
    assert client.get("/search.rss").status_code == 400


def test_a_category_feed_holds_only_that_category(client: TestClient) -> None:
    feed = parse(client, "/categories/cs.CL.atom", "atom10")
    assert len(feed.entries) == FEED_SIZE
    for entry in feed.entries:
        assert "cs.CL" in {tag.term for tag in entry.tags}
    days = [entry.published_parsed[:3] for entry in feed.entries]
    assert days == sorted(days, reverse=True)
    assert client.get("/categories/cs%25.rss").status_code == 404


def test_a_public_collection_has_a_feed_and_a_private_one_does_not(
    client: TestClient, sample_hub: Hub
) -> None:
    with sample_hub.db.write() as conn:
        user = get_or_create_user(conn, "curator@example.org")
        public = create_collection(conn, user.user_id, "Reading group", is_public=True)
        private = create_collection(conn, user.user_id, "Secret", is_public=False)
        for paper_id in ("2603.12270", "2603.19235"):
            set_in_collection(conn, public, user.user_id, paper_id, present=True)
            set_in_collection(conn, private, user.user_id, paper_id, present=True)
    feed = parse(client, f"/collections/{public}.rss", "rss20")
    assert {e.link for e in feed.entries} == {
        f"{BASE}/papers/2603.12270",
        f"{BASE}/papers/2603.19235",
    }
    assert "Reading group" in feed.feed.title
    assert client.get(f"/collections/{private}.rss").status_code == 404
    assert client.get("/collections/999999.atom").status_code == 404
    assert client.get("/collections/abc.atom").status_code == 404


def test_hostile_text_stays_text_in_feeds(client: TestClient, sample_hub: Hub) -> None:
    title = "<script>alert(1)</script> & \x0b$a<b$ ]]>"
    record = PaperRecord(paper_id="2603.99998", title=title, abstract="</description> \x00 ok")
    with sample_hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring("2603.99998", dt.date(2026, 3, 20), "t", upvotes=999)])
    for suffix, version in (("rss", "rss20"), ("atom", "atom10")):
        feed = parse(client, f"/papers.{suffix}", version)
        first = feed.entries[0]
        assert first.title == "<script>alert(1)</script> & $a<b$ ]]>"
        # Escaped in the XML; feedparser then drops the stray tag as HTML.
        raw = client.get(f"/papers.{suffix}").text
        assert "&lt;/description&gt; " in raw and "<script>" not in raw
        assert first.summary.endswith("ok")


def test_bad_feed_addresses(client: TestClient) -> None:
    assert client.get("/papers.xml").status_code == 404
    assert client.get("/papers.rss?week=2026-W99").status_code == 400
    assert client.get("/trending.rss?window=year").status_code == 400


def test_every_list_page_advertises_its_feeds(client: TestClient) -> None:
    for page, feed in (
        ("/", "/papers.rss?date=2026-03-20"),
        ("/papers?month=2026-03", "/papers.rss?month=2026-03"),
        ("/trending?window=day", "/trending.rss?window=day"),
        ("/search?q=graph&category=cs.LG", "/search.rss?q=graph&amp;category=cs.LG"),
    ):
        html = client.get(page).text
        assert '<link rel="alternate" type="application/rss+xml"' in html
        assert f'href="{feed}"' in html, page
        assert 'type="application/atom+xml"' in html
    searched = client.get("/search?q=graph&category=cs.LG").text
    assert 'title="Papers in cs.LG (RSS)" href="/categories/cs.LG.rss"' in searched
