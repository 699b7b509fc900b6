"""Hybrid search over the real sample: fusion, pins, filters, fallbacks, hostile queries."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.db.papers import get_paper, upsert_papers
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.search.hybrid import MAX_QUERY_CHARS, QueryTooLong, checked_query, fuse, search
from tests.search.fakes import FakeEmbedder

TITLE = "Task-Specific Knowledge Distillation via Intermediate Probes"


def ids(hub: Hub, query: str, **kwargs: object) -> list[str]:
    results = search(hub.search_index, hub.embedder, query, **kwargs)  # type: ignore[arg-type]
    return [hit.paper.paper_id for hit in results.hits]


def test_a_topic_query_fuses_keyword_and_vector_lists(hub: Hub) -> None:
    results = search(hub.search_index, hub.embedder, "knowledge distillation probes", limit=10)
    assert results.mode == "hybrid"
    assert "2603.12270" in [hit.paper.paper_id for hit in results.hits[:3]]
    assert all(h.keyword_rank or h.vector_rank for h in results.hits)
    assert [h.score for h in results.hits] == sorted((h.score for h in results.hits), reverse=True)


def test_fusion_scores_keyword_hits_on_their_cosines_too() -> None:
    keyword = [("a", 12.0), ("b", 6.0), ("k", 3.0)]
    vector = [("v", 0.8), ("b", 0.6), ("w", 0.4)]
    asked: list[list[str]] = []

    def cosines(ids: list[str]) -> dict[str, float]:
        asked.append(ids)
        return {"a": 0.2, "k": 0.7}

    fused = dict(fuse(keyword, vector, cosines=cosines))
    assert asked == [["a", "k"]]
    # BM25 / 12, cosines min-max over 0.2 .. 0.8, half of each.
    assert fused == pytest.approx(
        {"a": 0.5, "b": 0.25 + 0.5 * 4 / 6, "k": 0.125 + 0.5 * 5 / 6, "v": 0.5, "w": 0.5 / 3}
    )
    assert list(dict(fuse(keyword, vector))) != list(fused)  # without cosines "k" only had BM25
    assert fuse(keyword, []) == [("a", 1.0), ("b", 0.5), ("k", 0.25)]
    assert [p for p, _ in fuse(keyword, vector, fusion="rrf")][:2] == ["b", "a"]
    leaning = fuse(keyword, vector, cosines=cosines, keyword_weight=1, vector_weight=3)
    assert leaning[0][0] == "v"


def test_search_fuses_by_convex_combination_unless_asked_for_rrf(hub: Hub) -> None:
    convex = search(hub.search_index, hub.embedder, "galaxy cluster mergers", limit=30)
    assert all(0.0 <= h.score <= 1.0 for h in convex.hits)
    rrf_run = search(
        hub.search_index, hub.embedder, "galaxy cluster mergers", limit=30, fusion="rrf"
    )
    assert all(h.score <= 2 / 61 for h in rrf_run.hits)
    assert [h.paper.paper_id for h in convex.hits] != [h.paper.paper_id for h in rrf_run.hits]
    # Keyword hits the vector list missed are ranked too, on their BM25 and their cosine.
    assert any(h.keyword_rank and not h.vector_rank for h in convex.hits)


@pytest.mark.parametrize(
    "query",
    [
        "2603.12270",
        "2603.12270v2",
        "arXiv:2603.12270",
        "https://arxiv.org/abs/2603.12270v1",
        "https://arxiv.org/pdf/2603.12270",
        TITLE,
        TITLE.lower() + ".",
    ],
)
def test_arxiv_ids_urls_and_exact_titles_are_pinned_first(hub: Hub, query: str) -> None:
    results = search(hub.search_index, hub.embedder, query, limit=5)
    assert results.hits[0].paper.paper_id == "2603.12270"
    assert results.hits[0].pinned


def test_filters_by_date_and_category(hub: Hub) -> None:
    friday = dt.date(2026, 3, 20)
    results = search(
        hub.search_index, hub.embedder, "galaxies", since=friday, until=friday, limit=50
    )
    assert results.hits
    assert all(hit.paper.announced == friday for hit in results.hits)
    astro = search(hub.search_index, hub.embedder, "galaxies", categories=["astro-ph.GA"], limit=50)
    assert astro.hits and all("astro-ph.GA" in (h.paper.categories or ()) for h in astro.hits)
    assert ids(hub, TITLE, categories=["math.NT"]) == [] or "2603.12270" not in ids(
        hub, TITLE, categories=["math.NT"]
    )


def test_paging_returns_disjoint_pages(hub: Hub) -> None:
    first = ids(hub, "language models", limit=10)
    second = ids(hub, "language models", limit=10, offset=10)
    assert len(first) == len(second) == 10
    assert not set(first) & set(second)
    assert ids(hub, "language models", limit=20) == first + second


def test_a_failing_embedder_still_gives_keyword_results(hub: Hub) -> None:
    results = search(hub.search_index, FakeEmbedder(fail=True), "knowledge distillation")
    assert results.mode == "keyword"
    assert results.hits and "semantic search failed" in results.notices[0]
    assert all(h.vector_rank is None for h in results.hits)


def test_no_embedder_means_keyword_only(hub: Hub) -> None:
    results = search(hub.search_index, None, "knowledge distillation")
    assert results.mode == "keyword" and results.hits


def test_a_slow_embedder_times_out_to_keyword_results(hub: Hub) -> None:
    import time

    class Slow(FakeEmbedder):
        def embed(self, texts, **kwargs):  # type: ignore[no-untyped-def,override]
            time.sleep(0.5)
            return super().embed(texts, **kwargs)

    results = search(hub.search_index, Slow(), "galaxies", embed_timeout_s=0.05)
    assert results.mode == "keyword"
    assert "timed out" in results.notices[0]


def test_the_index_follows_the_store(hub: Hub) -> None:
    index = hub.search_index
    index.ensure_fresh()
    with hub.db.write() as conn:
        upsert_papers(
            conn,
            [
                PaperRecord(
                    "2603.99901", "Quasicrystal zebra lattices", "Zebra tilings.", version=1
                ),
                PaperRecord("2603.12270", "", "", version=9, status=PaperStatus.WITHDRAWN),
            ],
        )
    index.ensure_fresh(force=True)
    assert ids(hub, "quasicrystal zebra")[0] == "2603.99901"
    assert "2603.12270" not in ids(hub, TITLE)
    with hub.db.read() as conn:
        assert get_paper(conn, "2603.12270") is None


HOSTILE = [
    '"',
    "NEAR(a b)",
    "title:x",
    "*",
    "AND OR NOT",
    "((((",
    ")))",
    "\x00",
    "a" * 10_000,
    "distillation " * 2_000,
    "🙂🙃",
    "שלום עולם",
    "\ud800",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(hub: Hub, query: str) -> None:
    results = search(hub.search_index, hub.embedder, query, limit=10)
    assert isinstance(results.hits, list)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_gives_results_or_nothing(hub: Hub, query: str) -> None:
    results = search(hub.search_index, hub.embedder, query, limit=5)
    assert len(results.hits) <= 5


@pytest.mark.parametrize(
    "query", ["2603.12270", "arXiv:2603.12270v2", "https://arxiv.org/abs/2603.12270v1"]
)
def test_an_arxiv_id_answers_that_paper_alone(hub: Hub, query: str) -> None:
    results = search(hub.search_index, hub.embedder, query, limit=20)
    assert [hit.paper.paper_id for hit in results.hits] == ["2603.12270"]
    assert results.mode == "id" and results.paper_id == "2603.12270"
    assert search(hub.search_index, hub.embedder, query, offset=20).hits == []


def test_an_unknown_or_filtered_out_id_answers_nothing_with_a_notice(hub: Hub) -> None:
    missing = search(hub.search_index, hub.embedder, "2403.99999")
    assert missing.hits == [] and missing.paper_id is None
    assert missing.notices == ["No paper arXiv:2403.99999 in this hub."]
    filtered = search(hub.search_index, hub.embedder, "2603.12270", categories=["math.NT"])
    assert filtered.hits == [] and "within these filters" in filtered.notices[0]


def test_without_a_keyword_match_only_close_vector_hits_count(hub: Hub) -> None:
    junk = "xqzvbnmlkj"
    # The FakeEmbedder hashes words into 64 buckets, so junk lands near papers: 0.6 cosine.
    assert search(hub.search_index, hub.embedder, junk, min_unsupported_cosine=0.0).hits
    assert search(hub.search_index, hub.embedder, junk, min_unsupported_cosine=0.99).hits == []
    # A query with keyword matches keeps its vector list whatever the cosines.
    supported = search(
        hub.search_index, hub.embedder, "knowledge distillation", min_unsupported_cosine=0.99
    )
    assert supported.mode == "hybrid" and any(hit.vector_rank for hit in supported.hits)


def test_one_query_length_limit_that_does_not_repeat_the_query() -> None:
    assert checked_query("  graph neural networks ") == "graph neural networks"
    assert checked_query("x" * MAX_QUERY_CHARS) == "x" * MAX_QUERY_CHARS
    with pytest.raises(QueryTooLong) as error:
        checked_query("q" * 10_000)
    assert "1,000 characters" in str(error.value) and "10,000" in str(error.value)
    assert "qqq" not in str(error.value)
