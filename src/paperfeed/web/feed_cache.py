"""The list-page cache, now `paperfeed.db.cache` (the trending service shares it): re-exported
for the pages that still import it from here."""

from paperfeed.db.cache import FeedCache, cached, peek

__all__ = ["FeedCache", "cached", "peek"]
