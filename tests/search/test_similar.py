"""Similar papers: from stored vectors, the paper itself excluded, no model call."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from paperfeed.db.papers import get_paper
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource
from paperfeed.search.indexer import embed_papers
from paperfeed.search.similar import PaperNotFound, similar_papers
from tests.search.fakes import FakeEmbedder


def test_similar_papers_exclude_the_paper_and_call_no_model(hub: Hub) -> None:
    assert isinstance(hub.embedder, FakeEmbedder)
    hub.search_index.ensure_fresh()
    calls = len(hub.embedder.calls)
    hits = similar_papers(hub.search_index, "2603.12270v1", limit=10)
    assert len(hits) == 10
    assert "2603.12270" not in [h.paper.paper_id for h in hits]
    assert all(h.vector_rank is not None or h.keyword_rank is not None for h in hits)
    assert any(h.vector_rank is not None for h in hits)
    assert any(h.keyword_rank is not None for h in hits)
    assert len(hub.embedder.calls) == calls


def test_similar_papers_respect_since(hub: Hub) -> None:
    day = dt.date(2026, 3, 19)
    hits = similar_papers(hub.search_index, "2603.12270", limit=20, since=day)
    assert hits and all(h.paper.announced is not None and h.paper.announced >= day for h in hits)


def test_unknown_paper_is_reported(hub: Hub) -> None:
    with pytest.raises(PaperNotFound):
        similar_papers(hub.search_index, "0000.00000")


def test_similar_scores_are_cosine_similarities_in_the_ranked_order(hub: Hub) -> None:
    import numpy as np

    hits = similar_papers(hub.search_index, "2603.12270", limit=10)
    plain = similar_papers(hub.search_index, "2603.12270", limit=10, keyword_weight=0, expansion=0)
    vectors = hub.search_index.vectors
    assert vectors is not None
    own = vectors.vector("2603.12270")
    assert own is not None
    for hit in hits:
        theirs = vectors.vector(hit.paper.paper_id)
        assert theirs is not None
        assert hit.score == pytest.approx(float(np.dot(own, theirs)), abs=1e-4)
    assert hits[0].score > 0.05  # a similarity, not a rank-fusion value like 1/61 = 0.0164
    # The vector neighbours alone, unexpanded, come in cosine order.
    assert [h.vector_rank for h in plain] == list(range(1, 11))
    assert [h.score for h in plain] == sorted((h.score for h in plain), reverse=True)


def _add_papers(hub: Hub, tmp_path: Path, records: list[dict[str, object]]) -> None:
    """Import papers from a snapshot file and embed them (FakeEmbedder)."""
    path = tmp_path / "more.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    run_ingest(hub.db, SnapshotSource(path))
    assert hub.embedder is not None
    embed_papers(hub.db, hub.embedder)


def _sample_paper(hub: Hub, paper_id: str) -> dict[str, object]:
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id)
    assert stored is not None
    return {"title": stored.record.title, "abstract": stored.record.abstract}


def test_a_paper_without_categories_gets_keyword_and_vector_neighbours(
    hub: Hub, tmp_path: Path
) -> None:
    # CACM-like: no arXiv categories; its text restates a sample paper's.
    text = _sample_paper(hub, "2603.12270")
    _add_papers(hub, tmp_path, [{"id": "9001", "date": "2026-03-20", **text}])
    hits = similar_papers(hub.search_index, "9001", limit=10)
    assert hits[0].paper.paper_id == "2603.12270"
    assert hits[0].keyword_rank == 1 and hits[0].vector_rank == 1
    assert all(h.keyword_rank is not None or h.vector_rank is not None for h in hits)
    assert any(h.keyword_rank is None for h in hits) or any(h.vector_rank is None for h in hits)
    assert {h.paper.paper_id for h in hits} == {
        h.paper.paper_id
        for h in similar_papers(hub.search_index, "9001", limit=10, category_bonus=0.5)
    }  # no categories: the bonus changes nothing


def test_a_rare_shared_term_brings_its_paper_in(hub: Hub, tmp_path: Path) -> None:
    first = "Learning quasiperiodicitron models"
    second = "A quasiperiodicitron view of cellular automata"
    _add_papers(
        hub,
        tmp_path,
        [
            {"id": "9002", "date": "2026-03-20", "title": first, "abstract": ""},
            {"id": "9003", "date": "2026-03-20", "title": second, "abstract": ""},
        ],
    )
    hub.search_index.ensure_fresh(force=True)
    terms = hub.search_index.keyword.like_terms([(first, "", 1.0)])
    assert next(iter(terms)) == "quasiperiodicitron"  # the rarest term leads, weighs most
    assert terms["quasiperiodicitron"] == max(terms.values())
    keyword_only = similar_papers(hub.search_index, "9002", limit=10, vector_weight=0)
    assert keyword_only[0].paper.paper_id == "9003"
    # Fused with the vector list (meaningless here: the fake vectors of a three-word title).
    hits = similar_papers(hub.search_index, "9002", limit=10, feedback_weight=0)
    assert hits[0].paper.paper_id == "9003" and hits[0].keyword_rank == 1
    hits = similar_papers(hub.search_index, "9002", limit=10)
    assert "9003" in [h.paper.paper_id for h in hits]


def test_terms_most_papers_hold_stay_out_of_the_keyword_query(hub: Hub) -> None:
    """A term held by more than `max_share` of the papers is left out (its posting list is most
    of a keyword search's cost at scale), and a rarer term takes its place."""
    from paperfeed.search.keyword import _TEXT_FIELDS

    index = hub.search_index
    index.ensure_fresh()
    text = _sample_paper(hub, "2603.12270")
    paper = [(text["title"], text["abstract"], 1.0)]
    unbounded = index.keyword.like_terms(paper, max_terms=8, max_share=1.0)
    searcher = index.keyword._index.searcher()
    share = {
        term: max(searcher.doc_freq(field, term) for field in _TEXT_FIELDS) / searcher.num_docs
        for term in unbounded
    }
    cap = sorted(share.values())[len(share) // 2]  # half of the unbounded terms are above it
    capped = index.keyword.like_terms(paper, max_terms=8, max_share=cap)
    assert capped and all(
        max(searcher.doc_freq(field, term) for field in _TEXT_FIELDS) <= cap * searcher.num_docs
        for term in capped
    )
    assert any(share[t] > cap for t in unbounded)
    assert len(capped) == len(unbounded)  # rarer terms took the places of the common ones


def test_one_vector_search_and_bounded_keyword_queries(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feedback round scores the expanded vector against the candidates found, so a call
    searches all vectors once (twice with second_search="full") and the keyword index once (the
    feedback papers come from the vector neighbours), within FEEDBACK_TERMS terms (#15
    latency)."""
    from paperfeed.search.similar import FEEDBACK_TERMS, LIKE_TERMS

    index = hub.search_index
    index.ensure_fresh()
    vectors = index.vectors
    assert vectors is not None
    searches: list[int] = []
    queries: list[int] = []
    search, search_terms = vectors.search, index.keyword.search_terms

    def counted_search(*args: object, **kwargs: object) -> list[tuple[str, float]]:
        searches.append(1)
        return search(*args, **kwargs)  # type: ignore[arg-type]

    def counted_terms(terms: dict[str, float], **kwargs: object) -> list[tuple[str, float]]:
        queries.append(len(terms))
        return search_terms(terms, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vectors, "search", counted_search)
    monkeypatch.setattr(index.keyword, "search_terms", counted_terms)
    pooled = similar_papers(index, "2603.12270", limit=10)
    # One keyword query: the paper's own terms and its vector neighbours' terms together.
    assert len(searches) == 1 and len(queries) == 1
    assert LIKE_TERMS < queries[0] <= FEEDBACK_TERMS
    searches.clear()
    queries.clear()
    similar_papers(index, "2603.12270", limit=10, expand_from="fused")
    assert len(searches) == 1 and len(queries) == 2  # a first keyword query picks feedback
    assert queries[0] <= LIKE_TERMS and LIKE_TERMS < queries[1] <= FEEDBACK_TERMS
    searches.clear()
    full = similar_papers(index, "2603.12270", limit=10, second_search="full")
    assert len(searches) == 2
    assert len(pooled) == len(full) == 10
