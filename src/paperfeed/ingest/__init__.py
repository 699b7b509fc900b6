"""Ingestion: one module per source of paper metadata, all behind the `Source` protocol.

`FetchError` is what every network source raises when a site cannot be reached.
"""

from paperfeed.ingest._http import FetchError

__all__ = ["FetchError"]
