"""Similar papers: nearest neighbours of a paper's stored vector, expanded by its neighbours.

No model call: the paper's vector comes from the index. The query is the paper's vector plus the
mean of its `expansion` nearest neighbours (average query expansion, Chum et al., ICCV 2007),
and papers listed in the same arXiv categories get a small bonus (`category_bonus` times the
Jaccard overlap of the two category sets). A paper without a vector gets keyword neighbours.

The order is that ranking's; each hit's `score` is what a reader can interpret: the cosine of the
two papers' stored vectors (keyword neighbours: BM25 over the best BM25, in [0, 1]).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from paperfeed.db.papers import get_paper, get_papers
from paperfeed.models import parse_arxiv_id
from paperfeed.ranking import rrf
from paperfeed.search.hybrid import MAX_LIMIT, SearchHit
from paperfeed.search.index import SearchIndex


class PaperNotFound(LookupError):
    """No visible paper has that id."""


def similar_papers(
    index: SearchIndex,
    paper_id: str,
    *,
    limit: int = 10,
    since: dt.date | None = None,
    depth: int = 100,
    rrf_k: float = 60.0,
    vector_weight: float = 1.0,
    keyword_weight: float = 0.0,
    expansion: int = 5,
    category_bonus: float = 0.03,
) -> list[SearchHit]:
    """Return the papers closest to `paper_id`, the paper itself excluded, best first.

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
    vector_ids: list[str] = []
    vector = index.vectors.vector(key) if index.vectors is not None else None
    own_vector = vector
    if vector is not None and index.vectors is not None:
        vectors = index.vectors
        if expansion > 0:
            nearest = vectors.search(vector, k=expansion, exclude={key})
            found = [v for pid, _ in nearest if (v := vectors.vector(pid)) is not None]
            if found:
                vector = vector + np.mean(found, axis=0)
                vector = vector / np.linalg.norm(vector)
        hits = vectors.search(vector, k=depth, mask_ids=allowed, exclude={key})
        own = frozenset(record.categories or ())

        def overlap(pid: str) -> float:
            facet = index.facets.get(pid)
            theirs = facet.categories if facet is not None else frozenset()
            union = own | theirs
            return len(own & theirs) / len(union) if union else 0.0

        hits = sorted(hits, key=lambda hit: -(hit[1] + category_bonus * overlap(hit[0])))
        vector_ids = [pid for pid, _ in hits]
    keyword_hits: list[tuple[str, float]] = []
    if keyword_weight > 0 or not vector_ids:
        text = f"{record.title} {record.abstract}"
        keyword_hits = [
            hit for hit in index.keyword.search(text, limit=depth + 1, since=since) if hit[0] != key
        ]
    keyword_ids = [pid for pid, _ in keyword_hits]
    fused = rrf(
        [vector_ids, keyword_ids],
        k=rrf_k,
        weights=[vector_weight, keyword_weight if vector_ids else 1.0],
    )[:limit]
    vector_rank = {pid: rank for rank, pid in enumerate(vector_ids, start=1)}
    keyword_rank = {pid: rank for rank, pid in enumerate(keyword_ids, start=1)}
    chosen = [pid for pid, _ in fused]
    if own_vector is not None and index.vectors is not None and chosen:
        similarity = dict(index.vectors.search(own_vector, k=len(chosen), mask_ids=set(chosen)))
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
