"""paperfeed: a self-hostable research-paper hub (daily feed, trending, search, digests)."""

__version__ = "0.1.0"
