"""The read-only JSON API, in-process: shapes, scores, errors, the self-hosted docs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.trending import trending_papers
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.trending import FORMULA_VERSION, imported_vote_time, trending_score

HISTORY = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"


@pytest.fixture
def hub(sample_hub: Hub) -> Hub:
    run_ingest(sample_hub.db, HfDailySource(HISTORY))
    return sample_hub


def test_daily_papers_of_a_week_are_ordered_by_upvotes(client: TestClient, hub: Hub) -> None:
    response = client.get("/api/daily_papers", params={"week": "2024-W10", "limit": 100})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    entries = response.json()
    assert entries
    upvotes = [e["paper"]["upvotes"] for e in entries]
    assert upvotes == sorted(upvotes, reverse=True)
    for entry in entries:
        featured = dt.datetime.strptime(entry["publishedAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert featured.isocalendar()[:2] == (2024, 10)
        assert entry["title"] == entry["paper"]["title"]
        assert entry["paper"]["url"].endswith("/papers/" + entry["paper"]["id"])
    by_time = client.get("/api/daily_papers?week=2024-W10&limit=100&sort=publishedAt").json()
    times = [e["publishedAt"] for e in by_time]
    assert times == sorted(times, reverse=True) and len(by_time) == len(entries)


@pytest.mark.parametrize(
    "query",
    ["date=2024-13-01", "week=2024-W60", "month=24-01", "date=2024-03-01&month=2024-03"],
)
def test_bad_periods_are_a_json_400(client: TestClient, query: str) -> None:
    response = client.get(f"/api/daily_papers?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()
    assert response.json()["error"] == response.json()["detail"]  # huggingface_hub reads `error`


def test_limits_out_of_range_are_refused(client: TestClient) -> None:
    assert client.get("/api/daily_papers?limit=0").status_code == 422
    assert client.get("/api/daily_papers?limit=101").status_code == 422
    assert client.get("/api/daily_papers?p=-1").status_code == 422


def test_paper_info_has_the_paper_and_its_featured_days(client: TestClient, hub: Hub) -> None:
    info = client.get("/api/papers/arXiv:2401.10241v3")
    assert info.status_code == 200
    body = info.json()
    assert body["id"] == "2401.10241" and body["upvotes"] == 19
    assert body["featuredOn"] == ["2023-11-30"]
    assert body["submittedOnDailyAt"] == "2023-11-30T00:00:00.000Z"
    assert body["arxivUrl"] == "https://arxiv.org/abs/2401.10241"
    missing = client.get("/api/papers/2401.99999")
    assert missing.status_code == 404 and missing.json()["detail"]


def test_trending_returns_scores_that_the_formula_reproduces(client: TestClient, hub: Hub) -> None:
    body = client.get("/api/trending?window=week&limit=10").json()
    assert body["formulaVersion"] == FORMULA_VERSION
    assert body["anchored"] is True and body["now"] == "2024-04-05T00:00:00.000Z"
    assert body["halfLifeHours"] == 42
    now = dt.datetime(2024, 4, 5)
    with hub.db.read() as conn:
        expected = trending_papers(conn, window="week", limit=10)
    assert [p["paper"]["id"] for p in body["papers"]] == [t.paper.paper_id for t in expected]
    assert [p["rank"] for p in body["papers"]] == list(range(1, 11))
    for entry in body["papers"]:
        info = client.get(f"/api/papers/{entry['paper']['id']}").json()
        day = dt.date.fromisoformat(info["featuredOn"][0])
        votes = [(imported_vote_time(day), entry["windowUpvotes"])]
        assert entry["score"] == pytest.approx(trending_score(votes, now=now, window="week"))
    second = client.get("/api/trending?window=week&limit=10&p=1").json()
    assert second["papers"][0]["rank"] == 11
    assert client.get("/api/trending?window=year").status_code == 422


def test_similar_papers_exclude_the_paper_itself(client: TestClient) -> None:
    response = client.get("/api/papers/2603.12270/similar?limit=5")
    assert response.status_code == 200
    similar = response.json()
    assert 0 < len(similar) <= 5
    assert "2603.12270" not in {s["paper"]["id"] for s in similar}
    scores = [s["score"] for s in similar]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/api/papers/2603.99999/similar").status_code == 404


def test_search_answers_in_the_daily_papers_shape(client: TestClient) -> None:
    results = client.get("/api/papers/search?q=knowledge+distillation&limit=3").json()
    assert len(results) == 3
    assert all("distill" in (r["title"] + r["summary"]).lower() for r in results)
    assert client.get("/api/papers/search?q=").json() == []


def test_the_openapi_schema_lists_the_api_and_no_pages(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/daily_papers", "/api/papers/search", "/api/trending"} <= paths
    assert {"/api/papers/{paper_id}", "/api/papers/{paper_id}/similar"} <= paths
    assert all(path.startswith("/api/") for path in paths)


def test_the_api_docs_are_self_hosted_without_inline_scripts(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, flags=re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)
    sources = [re.search(r'src="([^"]+)"', attrs)[1] for attrs, _ in scripts]  # type: ignore[index]
    for url in [*sources, "/api/docs/assets/swagger-ui.css"]:
        assert url.startswith("/")
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100
    assert client.get("/api/docs/assets/index.html").status_code == 404


def test_an_empty_hub_answers_empty_lists(empty_client: TestClient) -> None:
    assert empty_client.get("/api/daily_papers").json() == []
    trending = empty_client.get("/api/trending").json()
    assert trending["papers"] == [] and trending["total"] == 0 and not trending["anchored"]
    page = empty_client.get("/trending")
    assert page.status_code == 200 and "Nothing was upvoted in the last 7 days." in page.text
    feed = empty_client.get("/papers.rss")
    assert feed.status_code == 200 and b"<item>" not in feed.content
