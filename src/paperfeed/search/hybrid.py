"""Hybrid search: keyword (BM25) and semantic (vector) lists fused by their normalized scores.

The one `search()` the web pages, the JSON API, the feeds, the CLI and the digests all call.
BM25 scores and cosines are never compared raw: each list is normalized onto [0, 1] first, and
the fused score is their even mix (see `fuse` and docs/search.md for the measurements).

A query that is an arXiv id (or `arXiv:` label, or abs/pdf URL) answers that paper alone. The
vector list needs support: with no keyword match at all, only papers whose cosine reaches
`MIN_UNSUPPORTED_COSINE` are kept, so a junk query answers nothing rather than the nearest of
everything. `checked_query` holds the one query-length limit of the web, the API and the CLI.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from paperfeed.db.papers import get_papers
from paperfeed.models import PaperRecord, parse_arxiv_id
from paperfeed.ranking import convex_fusion, max_normalized, min_max_normalized, rrf
from paperfeed.search.embedder import Embedder
from paperfeed.search.index import SearchIndex, title_key
from paperfeed.search.vectors import VectorIndex

logger = logging.getLogger(__name__)

MAX_LIMIT = 1_000
# The longest query the web page, the search feeds, the API and the CLI accept (checked_query).
MAX_QUERY_CHARS = 1_000
# With no keyword match, a vector hit must reach this cosine to count (all-MiniLM-L6-v2: junk
# queries reach at most 0.31 on the sample, real ones at least 0.39; docs/search.md).
MIN_UNSUPPORTED_COSINE = 0.35
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
    """A page of results. `mode` says which lists were fused: hybrid or keyword; `id` for a
    query that named one paper, whose id is then `paper_id` (its similar papers are a click away).
    """

    query: str
    hits: list[SearchHit]
    mode: str
    offset: int
    limit: int
    notices: list[str] = field(default_factory=list)
    paper_id: str | None = None
    # How many papers the query found in all (both lists, within their depth): the most that
    # paging can show.
    total: int = 0


class QueryTooLong(ValueError):
    """A query over MAX_QUERY_CHARS; the message says so without repeating the query."""


def checked_query(query: str) -> str:
    """Return `query` stripped, or raise QueryTooLong when it is over MAX_QUERY_CHARS."""
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLong(
            f"A search query is at most {MAX_QUERY_CHARS:,} characters; this one has "
            f"{len(query):,}. Shorten it to its key words."
        )
    return query


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


def fuse(
    keyword: Sequence[tuple[str, float]],
    vector: Sequence[tuple[str, float]],
    *,
    fusion: Literal["convex", "rrf"] = "convex",
    keyword_weight: float = 1.0,
    vector_weight: float = 1.0,
    rrf_k: float = 60.0,
    cosines: Callable[[list[str]], Mapping[str, float]] | None = None,
) -> list[tuple[str, float]]:
    """Fuse a BM25 list and a cosine list, both (paper_id, score) best first.

    `convex` (the default): BM25 divided by the best BM25 (its minimum is 0), cosines min-max
    normalized over all candidates, then `keyword_weight : vector_weight` of each (Bruch et al.,
    TOIS 2023). `cosines` gives the cosines of keyword hits the vector list missed, so every
    candidate is judged on both scores rather than on a guess. `rrf`: reciprocal rank fusion.
    """
    if fusion == "rrf":
        return rrf(
            [[pid for pid, _ in keyword], [pid for pid, _ in vector]],
            k=rrf_k,
            weights=[keyword_weight, vector_weight],
        )
    if not vector or vector_weight <= 0:
        return list(max_normalized(keyword).items())
    similarity = dict(vector)
    missing = [pid for pid, _ in keyword if pid not in similarity]
    if missing and cosines is not None:
        similarity.update(cosines(missing))
    total = keyword_weight + vector_weight
    return convex_fusion(
        [max_normalized(keyword), min_max_normalized(list(similarity.items()))],
        weights=[keyword_weight / total, vector_weight / total],
    )


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
    fusion: Literal["convex", "rrf"] = "convex",
    min_unsupported_cosine: float = MIN_UNSUPPORTED_COSINE,
) -> SearchResults:
    """Search titles, abstracts and authors: keyword and vector lists fused (see `fuse`).

    An arXiv id answers that paper alone (mode `id`); an exact title is pinned first. If the
    embedder is missing, fails or takes longer than `embed_timeout_s`, keyword results still
    come back, with a notice. With no keyword match, vector hits below `min_unsupported_cosine`
    are dropped (its default is measured for the default model). The faces check the length
    first (`checked_query`); here a query is only cut at 10,000 characters.
    """
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    query = query[:10_000]
    index.ensure_fresh()
    notices: list[str] = []
    allowed = index.allowed_ids(since=since, until=until, categories=categories)
    named = parse_arxiv_id(query)
    if named is not None:
        return _named_paper(index, query, named[0], allowed, offset=offset, limit=limit)
    wanted = offset + limit
    depth = max(depth, wanted)
    keyword_hits = index.keyword.search(
        query, limit=depth, since=since, until=until, categories=categories
    )
    keyword_ids = [pid for pid, _ in keyword_hits]
    vector_hits: list[tuple[str, float]] = []
    cosines: Callable[[list[str]], Mapping[str, float]] | None = None
    mode = "keyword"
    if embedder is None:
        notices.append("semantic search is off: keyword results only")
    elif index.vectors is None or len(index.vectors) == 0:
        notices.append("no paper vectors yet (run `paperfeed index`): keyword results only")
    elif query.strip():
        try:
            vector = embed_query(embedder, query, timeout_s=embed_timeout_s)
            # Incomplete is fine here: the keyword list fills in (and a wide filter far from
            # the query would otherwise score every allowed paper: 1.8 s p95 at 1M).
            vector_hits = index.vectors.search(vector, k=depth, mask_ids=allowed, complete=False)
            cosines = _cosines_of(index.vectors, vector)
            mode = "hybrid"
        except FutureTimeout:
            notices.append("semantic search timed out: keyword results only")
        except Exception:  # a broken model must not take search down with it
            logger.exception("embedding the query failed")
            notices.append("semantic search failed: keyword results only")
    if not keyword_hits:
        # Nothing in the query matches a word of any paper: keep only close vector hits, or a
        # junk query would answer with the nearest of everything.
        vector_hits = [hit for hit in vector_hits if hit[1] >= min_unsupported_cosine]
    vector_ids = [pid for pid, _ in vector_hits]
    fused = fuse(
        keyword_hits,
        vector_hits,
        fusion=fusion,
        keyword_weight=keyword_weight,
        vector_weight=vector_weight,
        rrf_k=rrf_k,
        cosines=cosines,
    )
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
    return SearchResults(query, hits_out, mode, offset, limit, notices, total=len(ranked))


def _named_paper(
    index: SearchIndex,
    query: str,
    paper_id: str,
    allowed: frozenset[str] | None,
    *,
    offset: int,
    limit: int,
) -> SearchResults:
    """The answer to a query that is an arXiv id: that paper alone, or nothing and a notice."""
    present = paper_id in index.facets and (allowed is None or paper_id in allowed)
    if not present:
        notice = f"No paper arXiv:{paper_id} in this hub" + (
            " within these filters." if allowed is not None and paper_id in index.facets else "."
        )
        return SearchResults(query, [], "id", offset, limit, [notice])
    with index.db.read() as conn:
        papers = get_papers(conn, [paper_id])
    hits = []
    if paper_id in papers and offset == 0 and limit > 0:
        hits.append(SearchHit(paper=papers[paper_id], score=1.0, pinned=True))
    return SearchResults(query, hits, "id", offset, limit, [], paper_id=paper_id, total=1)


def _cosines_of(vectors: VectorIndex, query: np.ndarray) -> Callable[[list[str]], dict[str, float]]:
    """Score chosen papers against the query vector: exact, from the stored vectors."""

    def cosines(paper_ids: list[str]) -> dict[str, float]:
        return dict(vectors.search(query, k=len(paper_ids), mask_ids=set(paper_ids)))

    return cosines
