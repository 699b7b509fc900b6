"""Ranking formulas as pure functions: rank fusion and score fusion of result lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


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


def max_normalized(scores: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Divide scores by the best one: BM25's theoretical minimum is 0 (Bruch et al., below)."""
    top = max((score for _, score in scores), default=0.0)
    return {item: score / top if top > 0 else 0.0 for item, score in scores}


def min_max_normalized(scores: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Map scores onto [0, 1]: the lowest to 0, the highest to 1 (all to 1 when they are equal)."""
    values = [score for _, score in scores]
    low, high = min(values, default=0.0), max(values, default=0.0)
    span = high - low
    return {item: (score - low) / span if span > 0 else 1.0 for item, score in scores}


def convex_fusion(
    normalized: Sequence[Mapping[str, float]], *, weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Fuse normalized scores: score(d) = Σ w_i s_i(d), an id missing from a list adding 0.

    Ties keep the order of first appearance. Bruch, Gai & Ingber, "An Analysis of Fusion
    Functions for Hybrid Retrieval" (ACM TOIS 2023): a convex combination of normalized lexical
    and semantic scores beats reciprocal rank fusion, which throws away how far apart the
    scores are, and its one weight is robust across collections.
    """
    if len(weights) != len(normalized):
        raise ValueError("one weight per score list")
    scores: dict[str, float] = {}
    for mapping, weight in zip(normalized, weights, strict=True):
        for item, score in mapping.items():
            scores[item] = scores.get(item, 0.0) + weight * score
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
