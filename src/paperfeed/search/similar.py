"""Similar papers: the paper's vector neighbours fused with its keyword neighbours.

No model call: the paper's vector comes from the index. Two lists are fused the way search fuses
its lists (`hybrid.fuse`: BM25 over the best BM25, cosines min-max normalized, an even mix):

- **vector neighbours**: the papers nearest to the paper's stored vector;
- **keyword neighbours**: BM25 of the paper's own most telling terms (`KeywordIndex.like_terms`:
  at most 32 terms of its title and abstract, rare ones first), so a rare technical term or a
  paper without arXiv categories still finds its neighbours.

Two older options stay, off by default because the CACM citation benchmark (docs/search.md)
showed no gain from them: average query expansion (`expansion`: the query vector plus the mean of
its nearest neighbours, Chum et al., ICCV 2007) and a bonus for shared arXiv categories
(`category_bonus` times the Jaccard overlap of the category sets; nothing for a paper without
categories). A paper without a vector gets keyword neighbours alone.

The order is that ranking's; each hit's `score` is what a reader can interpret: the cosine of the
two papers' stored vectors (keyword neighbours of a paper without a vector: BM25 over the best
BM25, in [0, 1]).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np

from paperfeed.db.papers import get_paper, get_papers, get_texts
from paperfeed.models import parse_arxiv_id
from paperfeed.search.hybrid import MAX_LIMIT, SearchHit, fuse
from paperfeed.search.index import SearchIndex
from paperfeed.search.keyword import LIKE_QUERY_TERMS


class PaperNotFound(LookupError):
    """No visible paper has that id."""


def similar_papers(
    index: SearchIndex,
    paper_id: str,
    *,
    limit: int = 10,
    since: dt.date | None = None,
    depth: int = 100,
    fusion: Literal["convex", "rrf"] = "convex",
    rrf_k: float = 60.0,
    vector_weight: float = 1.0,
    keyword_weight: float = 1.0,
    like_terms: int = LIKE_QUERY_TERMS,
    expansion: int = 5,
    expand_from: Literal["vectors", "fused"] = "fused",
    feedback_weight: float = 0.5,
    category_bonus: float = 0.0,
) -> list[SearchHit]:
    """Return the papers closest to `paper_id`, the paper itself excluded, best first.

    `keyword_weight=0` gives the vector neighbours alone, `vector_weight=0` the keyword ones.
    Each hit's `score` is its cosine similarity to the paper (see the module docstring), not
    the fused value that ordered it.
    """
    parsed = parse_arxiv_id(paper_id)
    key = parsed[0] if parsed else paper_id.strip()
    limit = max(0, min(limit, MAX_LIMIT))
    index.ensure_fresh()
    with index.db.read() as conn:
        stored = get_paper(conn, key)
    if stored is None:
        raise PaperNotFound(key)
    record = stored.record
    allowed = index.allowed_ids(since=since, until=None, categories=None)
    depth = max(depth, limit)

    vectors = index.vectors
    own_vector = vectors.vector(key) if vectors is not None else None
    keyword_hits: list[tuple[str, float]] = []
    use_keywords = keyword_weight > 0 or own_vector is None or vector_weight <= 0

    own_terms = (
        index.keyword.like_terms([(record.title, record.abstract, 1.0)], max_terms=like_terms)
        if use_keywords
        else {}
    )

    def keyword_neighbours(feedback: list[str]) -> list[tuple[str, float]]:
        """BM25 of the paper's own terms, plus its first neighbours' terms (`feedback`) weighing
        `feedback_weight` times as much as the own terms all together."""
        terms = dict(own_terms)
        if feedback and own_terms:
            with index.db.read() as conn:
                found = get_texts(conn, feedback)
            others = index.keyword.like_terms(
                [(title, abstract, 1.0) for title, abstract in found.values()],
                max_terms=like_terms,
            )
            scale = feedback_weight * sum(own_terms.values()) / (sum(others.values()) or 1.0)
            for term, weight in others.items():
                terms[term] = terms.get(term, 0.0) + scale * weight
        hits = index.keyword.search_terms(terms, limit=depth + 1, since=since)
        return [hit for hit in hits if hit[0] != key][:depth]

    if use_keywords:
        keyword_hits = keyword_neighbours([])

    def neighbours(
        query: np.ndarray | None, *, fill: bool = True
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(vector hits, fused list) for this query vector; `fill`: keyword-only hits are
        scored by their cosine too (else as the lowest cosine of the list)."""
        hits: list[tuple[str, float]] = []
        if vectors is not None and query is not None and vector_weight > 0:
            hits = vectors.search(query, k=depth, mask_ids=allowed, exclude={key})

        def cosines(ids: list[str]) -> dict[str, float]:
            assert vectors is not None and query is not None
            return dict(vectors.search(query, k=len(ids), mask_ids=set(ids)))

        return hits, fuse(
            keyword_hits,
            hits,
            fusion=fusion,
            keyword_weight=keyword_weight if hits else 1.0,
            vector_weight=vector_weight,
            rrf_k=rrf_k,
            cosines=cosines if hits and fill else None,
        )

    # A first pass that only picks the feedback papers skips the cosines of keyword-only hits
    # (the same nDCG@20 on CACM's citations, 7% less time).
    vector_hits, fused = neighbours(own_vector, fill=not (expansion > 0 and own_vector is not None))
    if expansion > 0 and vectors is not None and own_vector is not None and vector_hits:
        source = vector_hits if expand_from == "vectors" else fused
        found = [v for pid, _ in source[:expansion] if (v := vectors.vector(pid)) is not None]
        if found:
            query = own_vector + np.mean(found, axis=0)
            if use_keywords and feedback_weight > 0:
                keyword_hits = keyword_neighbours([pid for pid, _ in fused[:expansion]])
            vector_hits, fused = neighbours(query / np.linalg.norm(query))
    own = frozenset(record.categories or ())
    if category_bonus > 0 and own:

        def overlap(pid: str) -> float:
            facet = index.facets.get(pid)
            theirs = facet.categories if facet is not None else frozenset()
            return len(own & theirs) / len(own | theirs)

        fused = sorted(fused, key=lambda hit: -(hit[1] + category_bonus * overlap(hit[0])))
    chosen = [pid for pid, _ in fused[:limit]]
    vector_rank = {pid: rank for rank, (pid, _) in enumerate(vector_hits, start=1)}
    keyword_rank = {pid: rank for rank, (pid, _) in enumerate(keyword_hits, start=1)}
    if own_vector is not None and vectors is not None and chosen:
        similarity = dict(vectors.search(own_vector, k=len(chosen), mask_ids=set(chosen)))
    else:
        best = max((score for _, score in keyword_hits), default=0.0) or 1.0
        similarity = {pid: score / best for pid, score in keyword_hits}
    with index.db.read() as conn:
        papers = get_papers(conn, chosen)
    return [
        SearchHit(
            paper=papers[pid],
            score=similarity.get(pid, 0.0),
            keyword_rank=keyword_rank.get(pid),
            vector_rank=vector_rank.get(pid),
        )
        for pid in chosen
        if pid in papers
    ]
