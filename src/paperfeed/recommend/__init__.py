"""For you: per-reader recommendations with explanations (service.py), over a batched
class-balanced logistic regression on paper vectors (model.py)."""

from paperfeed.recommend.service import Pick, Seed, WindowPool, recommend, window_pool

__all__ = ["Pick", "Seed", "WindowPool", "recommend", "window_pool"]
