"""Similar papers: from stored vectors, the paper itself excluded, no model call."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.hub import Hub
from paperfeed.search.similar import PaperNotFound, similar_papers
from tests.search.fakes import FakeEmbedder


def test_similar_papers_exclude_the_paper_and_call_no_model(hub: Hub) -> None:
    assert isinstance(hub.embedder, FakeEmbedder)
    hub.search_index.ensure_fresh()
    calls = len(hub.embedder.calls)
    hits = similar_papers(hub.search_index, "2603.12270v1", limit=10)
    assert len(hits) == 10
    assert "2603.12270" not in [h.paper.paper_id for h in hits]
    assert all(h.vector_rank is not None for h in hits)
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
    vectors = hub.search_index.vectors
    assert vectors is not None
    own = vectors.vector("2603.12270")
    assert own is not None
    for hit in hits:
        theirs = vectors.vector(hit.paper.paper_id)
        assert theirs is not None
        assert hit.score == pytest.approx(float(np.dot(own, theirs)), abs=1e-4)
    assert hits[0].score > 0.05  # a similarity, not a rank-fusion value like 1/61 = 0.0164
    assert [h.vector_rank for h in hits] == sorted(h.vector_rank or 0 for h in hits)
