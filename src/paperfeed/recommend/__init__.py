"""For you: per-reader recommendations with explanations (service.py), over a batched
class-balanced logistic regression on paper vectors (model.py)."""

from paperfeed.recommend.service import (
    ForYou,
    Pick,
    Seed,
    WindowPool,
    for_you,
    recommend,
    window_pool,
)

__all__ = ["ForYou", "Pick", "Seed", "WindowPool", "for_you", "recommend", "window_pool"]
