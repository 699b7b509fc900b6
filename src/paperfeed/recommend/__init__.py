"""For you: per-reader recommendations with explanations (service.py), over a batched
class-balanced logistic regression on paper vectors (model.py)."""

from paperfeed.recommend.service import (
    Ask,
    ForYou,
    Pick,
    Seed,
    WindowPool,
    for_you,
    recommend,
    recommend_many,
    window_pool,
)

__all__ = [
    "Ask",
    "ForYou",
    "Pick",
    "Seed",
    "WindowPool",
    "for_you",
    "recommend",
    "recommend_many",
    "window_pool",
]
