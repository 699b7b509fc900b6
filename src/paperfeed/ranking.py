"""Ranking formulas as pure functions: reciprocal rank fusion (and, later, trending scores)."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(
    ranked_lists: Sequence[Sequence[str]],
    *,
    k: float = 60.0,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked lists of ids by reciprocal rank: score(d) = Σ w_i / (k + rank_i(d)).

    Ranks start at 1; an id missing from a list adds nothing for it. Ties keep the order of
    first appearance. Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms
    Condorcet and individual rank learning methods", SIGIR 2009; k = 60 as there, and as in
    Alex Garcia's "Hybrid full-text search and vector search with SQLite" (2024).
    """
    if weights is None:
        weights = [1.0] * len(ranked_lists)
    if len(weights) != len(ranked_lists):
        raise ValueError("one weight per ranked list")
    scores: dict[str, float] = {}
    for ranked, weight in zip(ranked_lists, weights, strict=True):
        seen: set[str] = set()
        for rank, item in enumerate(ranked, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
