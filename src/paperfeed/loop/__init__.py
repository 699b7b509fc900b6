"""The daily loop: fetch arXiv's listing, embed and index it, feature per policy, send digests,
on a schedule run by `paperfeed worker` (docs/daily-loop.md)."""
