"""The search page and the similar papers on a paper page, over the sample (FakeEmbedder)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.papers import get_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.search.indexer import embed_papers
from paperfeed.search.keyword import paper_day
from paperfeed.web.app import create_app
from tests.search.fakes import FakeEmbedder


@pytest.fixture
def search_client(sample_hub: Hub) -> TestClient:
    sample_hub.embedder = FakeEmbedder()
    embed_papers(sample_hub.db, sample_hub.embedder)
    return TestClient(create_app(sample_hub))


def test_search_page_without_a_query_shows_the_form(search_client: TestClient) -> None:
    page = search_client.get("/search")
    assert page.status_code == 200
    assert '<label for="q">' in page.text
    assert 'aria-current="page">Search' in page.text


def test_search_finds_a_paper_by_title_and_links_to_it(search_client: TestClient) -> None:
    page = search_client.get(
        "/search", params={"q": "Task-Specific Knowledge Distillation via Intermediate Probes"}
    )
    assert page.status_code == 200
    assert page.text.index('href="/papers/2603.12270"') < page.text.index("</ol>")
    assert re.search(r"[\d,]+ matches by keyword and meaning · 1–20", page.text)
    assert 'rel="next" href="/search?q=Task-Specific' in page.text


def test_search_filters_and_pages(search_client: TestClient) -> None:
    first = search_client.get("/search", params={"q": "galaxies", "category": "astro-ph.GA"})
    second = search_client.get(
        "/search", params={"q": "galaxies", "category": "astro-ph.GA", "page": 2}
    )
    assert first.status_code == second.status_code == 200
    assert "astro-ph.GA" in first.text
    assert 'rel="prev" href="/search?q=galaxies&amp;category=astro-ph.GA"' in second.text
    dated = search_client.get(
        "/search", params={"q": "galaxies", "since": "2026-03-20", "until": "2026-03-20"}
    )
    assert "20 March 2026" in dated.text and "19 March 2026" not in dated.text


def test_bad_dates_are_a_readable_400(search_client: TestClient) -> None:
    page = search_client.get("/search", params={"q": "x", "since": "yesterday"})
    assert page.status_code == 400
    assert "is not a date" in page.text


def test_hostile_queries_render_inert(search_client: TestClient) -> None:
    hostile = '<script>alert(1)</script>" onmouseover="x'
    page = search_client.get("/search", params={"q": hostile})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_a_paper_page_lists_similar_papers(search_client: TestClient) -> None:
    page = search_client.get("/papers/2603.12270")
    assert page.status_code == 200
    assert "Similar papers" in page.text
    similar = page.text.split('id="similar-title"')[1]
    assert similar.count('href="/papers/') == 8
    assert 'href="/papers/2603.12270"' not in similar


def test_an_arxiv_id_shows_that_paper_alone_and_offers_its_similar_papers(
    search_client: TestClient,
) -> None:
    page = search_client.get("/search", params={"q": "arXiv:2603.12270v1"})
    assert page.status_code == 200
    cards = page.text.split('<ol class="cards"')[1].split("</ol>")[0]
    assert cards.count('<article class="card"') == 1 and 'href="/papers/2603.12270"' in cards
    assert 'href="/papers/2603.12270#similar-title">Papers similar to arXiv:2603.12270' in page.text


def test_a_query_over_the_limit_is_a_400_that_does_not_repeat_it(
    search_client: TestClient,
) -> None:
    query = "zq" * 5_000
    for path in ("/search", "/search.rss", "/api/papers/search"):
        response = search_client.get(path, params={"q": query})
        assert response.status_code in (400, 422), path
        # The page's own text; the header's sign-in link carries the address to come back to.
        said = response.text.split("<main", 1)[-1].split("</main>", 1)[0]
        assert "zqzq" not in said, path
        assert "1,000 characters" in response.text or "at most 1000 characters" in response.text
    api = search_client.get("/api/papers/search", params={"q": query}).json()
    assert api["error"] == "q: String should have at most 1000 characters"
    limit = search_client.get("/search", params={"q": "x" * 1_000})
    assert limit.status_code == 200


def _listed(page: str) -> list[str]:
    cards = page[page.index('<ol class="cards"') : page.index("</ol>")]
    return list(
        dict.fromkeys(re.findall(r'<h2 class="card-title[^>]*><a href="/papers/([^"]+)"', cards))
    )


def test_search_sorts_its_best_matches_by_date_or_by_upvotes(
    search_client: TestClient, sample_hub: Hub
) -> None:
    best = _listed(search_client.get("/search", params={"q": "language models"}).text)
    newest = search_client.get("/search", params={"q": "language models", "sort": "newest"})
    assert "best matches, newest first" in newest.text
    ids = _listed(newest.text)
    with sample_hub.db.read() as conn:
        papers = get_papers(conn, ids)
    days = [paper_day(papers[pid]) for pid in ids]
    assert days == sorted(days, reverse=True) and len(set(days)) > 1
    assert 'rel="next" href="/search?q=language+models&amp;sort=newest&amp;page=2"' in newest.text
    # One upvote lifts a match from the middle of the list to the top.
    lifted = best[7]
    with sample_hub.db.write() as conn:
        reader = get_or_create_user(conn, "reader@example.org")
        set_upvote(conn, reader.user_id, lifted, on=True)
    voted = search_client.get("/search", params={"q": "language models", "sort": "upvotes"})
    assert _listed(voted.text)[0] == lifted
    assert _listed(voted.text)[1:4] == [pid for pid in best if pid != lifted][:3]  # ties: relevance
    unknown = search_client.get("/search", params={"q": "language models", "sort": "x"})
    assert _listed(unknown.text) == best
