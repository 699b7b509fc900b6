"""Similar papers: the paper's vector neighbours fused with its keyword neighbours.

No model call: the paper's vector comes from the index. Two lists are fused the way search fuses
its lists (`hybrid.fuse`: BM25 over the best BM25, cosines min-max normalized, an even mix):

- **vector neighbours**: the papers nearest to the paper's stored vector;
- **keyword neighbours**: BM25 of the paper's own most telling terms (`KeywordIndex.like_terms`:
  at most `LIKE_TERMS` terms of its title and abstract, rare ones first), so a rare technical
  term or a paper without arXiv categories still finds its neighbours.

Then one feedback round: the vector becomes the paper's vector plus the mean vector of its 5
nearest vector neighbours (average query expansion, Chum et al., ICCV 2007), and their terms join
the keyword query (at most `FEEDBACK_TERMS` terms in all), so one keyword search holds the
paper's own terms and its neighbours'. The expanded vector is scored against the candidates both
lists found, not searched among all papers again: on CACM's citations the same nDCG@20, one
exact vector search (95k papers: ~25 ms on a busy core) less.

Terms held by more than `MAX_TERM_SHARE` of the papers never enter the keyword query (as
Lucene's MoreLikeThis `maxDocFreqPct`): they add little to BM25 and their posting lists are
most of its cost, which grows with the number of papers (1M papers: 6.2 to 8.9 ms per keyword
search without the cap, 5.3 to 5.9 ms with it): tantivy-py scores every posting of a query's
terms (no block-max WAND). `title_only_share` (off by default) looks terms held by more than
that share up in titles only. Feedback papers taken from the fused list instead (a first
keyword search of the own terms alone) score the same on CACM within 0.001 (docs/search.md)
for one more keyword search.

A bonus for shared arXiv categories (`category_bonus` times the Jaccard overlap of the
category sets) stays an option, off by default: the CACM citation benchmark (docs/search.md)
showed no gain from it, and a paper without categories never gets it. A paper without a vector
gets keyword neighbours alone.

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

# The paper's own terms in its keyword query, and the terms of that query once its first
# neighbours' terms joined (the heaviest kept). Chosen on the tuning half of CACM's citations
# (docs/search.md): the nDCG@20 of 32 and 64 terms, with fewer terms for tantivy to look up.
LIKE_TERMS = 16
FEEDBACK_TERMS = 24
# Terms held by more papers than this share are left out of the keyword query (of the caps
# tried, 20/10/5/3/2 %, the one that cost nothing on the tuning half); candidates per list
# (vector neighbours, keyword neighbours). Both for speed at 1M papers (docs/search.md).
MAX_TERM_SHARE = 0.2
DEPTH = 50
# Terms held by more papers than this share are looked up in titles only (their abstract
# postings are most of what the keyword query reads at 1M papers). Off: at 5% it saved 1.2 ms
# of 3.8 at 1M for 0.0012 nDCG@20 on the tuning half (docs/search.md, stop 23).
TITLE_ONLY_SHARE = 1.0


class PaperNotFound(LookupError):
    """No visible paper has that id."""


def similar_papers(
    index: SearchIndex,
    paper_id: str,
    *,
    limit: int = 10,
    since: dt.date | None = None,
    depth: int = DEPTH,
    fusion: Literal["convex", "rrf"] = "convex",
    rrf_k: float = 60.0,
    vector_weight: float = 1.0,
    keyword_weight: float = 1.0,
    like_terms: int = LIKE_TERMS,
    max_share: float = MAX_TERM_SHARE,
    title_only_share: float = TITLE_ONLY_SHARE,
    expansion: int = 5,
    expand_from: Literal["vectors", "fused"] = "vectors",
    feedback_weight: float = 0.5,
    feedback_terms: int = FEEDBACK_TERMS,
    second_search: Literal["pool", "full"] = "pool",
    category_bonus: float = 0.0,
) -> list[SearchHit]:
    """Return the papers closest to `paper_id`, the paper itself excluded, best first.

    `keyword_weight=0` gives the vector neighbours alone, `vector_weight=0` the keyword ones.
    `second_search`: after the feedback round, the expanded vector is scored against the
    candidates both lists found (`pool`), or searched among all papers again (`full`, the
    pre-#15 way). Each hit's `score` is its cosine similarity to the paper (see the module
    docstring), not the fused value that ordered it.
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
    use_vectors = vectors is not None and own_vector is not None and vector_weight > 0

    own_terms = (
        index.keyword.like_terms(
            [(record.title, record.abstract, 1.0)], max_terms=like_terms, max_share=max_share
        )
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
                max_share=max_share,
            )
            scale = feedback_weight * sum(own_terms.values()) / (sum(others.values()) or 1.0)
            for term, weight in others.items():
                terms[term] = terms.get(term, 0.0) + scale * weight
            if len(terms) > feedback_terms:
                terms = dict(sorted(terms.items(), key=lambda tw: -tw[1])[:feedback_terms])
        hits = index.keyword.search_terms(
            terms, limit=depth + 1, since=since, title_only_share=title_only_share
        )
        return [hit for hit in hits if hit[0] != key][:depth]

    def cosines_to(query: np.ndarray, ids: list[str]) -> dict[str, float]:
        """The cosines of these papers' stored vectors to `query` (a unit vector): one look-up."""
        assert vectors is not None
        found, matrix = vectors.vectors_of(ids)
        return dict(zip(found, (matrix @ query).tolist(), strict=True))

    vector_hits: list[tuple[str, float]] = []
    if use_vectors:
        assert vectors is not None and own_vector is not None
        vector_hits = vectors.search(own_vector, k=depth, mask_ids=allowed, exclude={key})

    def fused_with(
        hits: list[tuple[str, float]], similarity: dict[str, float] | None
    ) -> list[tuple[str, float]]:
        """The fusion of the keyword list and these vector hits; `similarity` holds the cosines
        of keyword-only hits (else they count as the lowest cosine of the list)."""
        return fuse(
            keyword_hits,
            hits,
            fusion=fusion,
            keyword_weight=keyword_weight if hits else 1.0,
            vector_weight=vector_weight,
            rrf_k=rrf_k,
            cosines=(lambda ids: {p: similarity[p] for p in ids if p in similarity})
            if hits and similarity is not None
            else None,
        )

    expanding = expansion > 0 and use_vectors and bool(vector_hits)
    # Feedback papers picked from the vector neighbours alone need no first keyword search: the
    # one keyword search then holds the paper's own terms and its neighbours' terms.
    feedback_first = expanding and expand_from == "vectors" and feedback_weight > 0
    if use_keywords and not feedback_first:
        keyword_hits = keyword_neighbours([])
    fused: list[tuple[str, float]] = []
    if use_vectors and not expanding:
        assert own_vector is not None
        missing = [pid for pid, _ in keyword_hits]
        fused = fused_with(vector_hits, cosines_to(own_vector, missing))
    elif not feedback_first:
        # A first pass that only picks the feedback papers skips the cosines of keyword-only
        # hits (the same nDCG@20 on CACM's citations, 7% less time).
        fused = fused_with(vector_hits, None)
    own_cosines: dict[str, float] | None = None  # the candidates' cosines to the paper, if known
    if expanding:
        assert vectors is not None and own_vector is not None
        source = vector_hits if expand_from == "vectors" else fused
        feedback = [pid for pid, _ in source[:expansion]]
        first_keyword_hits = keyword_hits
        if use_keywords and feedback_weight > 0:
            keyword_hits = keyword_neighbours(feedback)
        if second_search == "full":
            found_ids, found = vectors.vectors_of(feedback)
        else:
            # One look-up for every candidate (the feedback papers are among them): their
            # cosines to the expanded vector and, for the hits shown, to the paper itself.
            pool = [pid for pid, _ in vector_hits] + [pid for pid, _ in keyword_hits]
            pool_ids, matrix = vectors.vectors_of(dict.fromkeys(pool + feedback))
            row = {pid: i for i, pid in enumerate(pool_ids)}
            found_ids = [pid for pid in feedback if pid in row]
            found = matrix[[row[pid] for pid in found_ids]]
        if not found_ids:  # no feedback paper has a vector (removed meanwhile): no feedback round
            keyword_hits = (
                keyword_neighbours([]) if feedback_first and use_keywords else first_keyword_hits
            )
            fused = fused_with(vector_hits, None)
        else:
            query = own_vector + found.mean(axis=0)
            query /= np.linalg.norm(query)
            if second_search == "full":
                vector_hits = vectors.search(query, k=depth, mask_ids=allowed, exclude={key})
                similarity = cosines_to(query, [pid for pid, _ in keyword_hits])
            else:
                # The expanded vector lands near the first neighbours: score it against the
                # candidates both lists found rather than search all papers again.
                candidates = set(pool)  # not a feedback paper that neither list holds
                similarity = {
                    pid: cosine
                    for pid, cosine in zip(pool_ids, (matrix @ query).tolist(), strict=True)
                    if pid in candidates
                }
                own_cosines = dict(zip(pool_ids, (matrix @ own_vector).tolist(), strict=True))
                vector_hits = sorted(similarity.items(), key=lambda hit: -hit[1])[:depth]
            fused = fused_with(vector_hits, similarity)
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
    if own_cosines is not None:
        similarity = {pid: own_cosines[pid] for pid in chosen if pid in own_cosines}
    elif own_vector is not None and vectors is not None and chosen:
        similarity = cosines_to(own_vector, chosen)
    else:
        best = max((score for _, score in keyword_hits), default=0.0) or 1.0
        similarity = {pid: score / best for pid, score in keyword_hits}
    with index.db.read() as conn:
        papers = get_papers(conn, chosen)
    return [
        SearchHit(
            paper=papers[pid],
            score=min(1.0, max(-1.0, similarity.get(pid, 0.0))),
            keyword_rank=keyword_rank.get(pid),
            vector_rank=vector_rank.get(pid),
        )
        for pid in chosen
        if pid in papers
    ]
