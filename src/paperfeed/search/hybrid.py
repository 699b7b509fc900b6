"""Hybrid search: keyword (BM25) and semantic (vector) lists fused by reciprocal rank.

The one `search()` the web pages, the JSON API, the feeds, the CLI and the digests all call.
Never compares BM25 scores with cosines: only ranks are fused (see ranking.rrf).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np

from paperfeed.db.papers import get_papers
from paperfeed.models import PaperRecord, parse_arxiv_id
from paperfeed.ranking import rrf
from paperfeed.search.embedder import Embedder
from paperfeed.search.index import SearchIndex, title_key

logger = logging.getLogger(__name__)

MAX_LIMIT = 1_000
# One worker: queries are embedded one at a time, so a slow model cannot pile up threads.
_EMBED_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperfeed-embed")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the paper, its fused score, and where each list ranked it (1-based)."""

    paper: PaperRecord
    score: float
    keyword_rank: int | None = None
    vector_rank: int | None = None
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A page of results. `mode` says which lists were fused: hybrid, keyword or vector."""

    query: str
    hits: list[SearchHit]
    mode: str
    offset: int
    limit: int
    notices: list[str] = field(default_factory=list)


def _pinned(index: SearchIndex, query: str, allowed: frozenset[str] | None) -> list[str]:
    """An arXiv id (bare, versioned, abs/pdf URL) or an exact title is pinned first."""
    pins = []
    parsed = parse_arxiv_id(query)
    if parsed and parsed[0] in index.facets:
        pins.append(parsed[0])
    titled = index.titles.get(title_key(query))
    if titled is not None and titled not in pins:
        pins.append(titled)
    return [p for p in pins if allowed is None or p in allowed]


def embed_query(embedder: Embedder, query: str, *, timeout_s: float) -> np.ndarray:
    """Embed one query, giving up after `timeout_s` seconds."""
    future = _EMBED_POOL.submit(embedder.embed, [query])
    vectors: np.ndarray = future.result(timeout=timeout_s)
    return np.asarray(vectors[0], dtype=np.float32)


def search(
    index: SearchIndex,
    embedder: Embedder | None,
    query: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    categories: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    depth: int = 100,
    rrf_k: float = 60.0,
    keyword_weight: float = 1.0,
    vector_weight: float = 1.0,
    embed_timeout_s: float = 2.0,
) -> SearchResults:
    """Search titles, abstracts and authors: keyword and vector lists fused by RRF (k = 60).

    An arXiv id or an exact title is pinned first. If the embedder is missing, fails or takes
    longer than `embed_timeout_s`, keyword results still come back, with a notice.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    query = query[:10_000]
    index.ensure_fresh()
    notices: list[str] = []
    allowed = index.allowed_ids(since=since, until=until, categories=categories)
    wanted = offset + limit
    depth = max(depth, wanted)
    keyword_ids = [
        pid
        for pid, _ in index.keyword.search(
            query, limit=depth, since=since, until=until, categories=categories
        )
    ]
    vector_ids: list[str] = []
    mode = "keyword"
    if embedder is None:
        notices.append("semantic search is off: keyword results only")
    elif index.vectors is None or len(index.vectors) == 0:
        notices.append("no paper vectors yet (run `paperfeed index`): keyword results only")
    elif query.strip():
        try:
            vector = embed_query(embedder, query, timeout_s=embed_timeout_s)
            hits = index.vectors.search(vector, k=depth, mask_ids=allowed)
            vector_ids = [pid for pid, _ in hits]
            mode = "hybrid"
        except FutureTimeout:
            notices.append("semantic search timed out: keyword results only")
        except Exception:  # a broken model must not take search down with it
            logger.exception("embedding the query failed")
            notices.append("semantic search failed: keyword results only")
    fused = rrf([keyword_ids, vector_ids], k=rrf_k, weights=[keyword_weight, vector_weight])
    pins = _pinned(index, query, allowed)
    pinned_scores = {pid: float("inf") for pid in pins}
    ranked = [(pid, pinned_scores[pid]) for pid in pins] + [
        (pid, score) for pid, score in fused if pid not in pinned_scores
    ]
    page = ranked[offset : offset + limit]
    keyword_rank = {pid: rank for rank, pid in enumerate(keyword_ids, start=1)}
    vector_rank = {pid: rank for rank, pid in enumerate(vector_ids, start=1)}
    with index.db.read() as conn:
        papers = get_papers(conn, [pid for pid, _ in page])
    hits_out = [
        SearchHit(
            paper=papers[pid],
            score=score if score != float("inf") else 1.0,
            keyword_rank=keyword_rank.get(pid),
            vector_rank=vector_rank.get(pid),
            pinned=pid in pinned_scores,
        )
        for pid, score in page
        if pid in papers
    ]
    return SearchResults(query, hits_out, mode, offset, limit, notices)
