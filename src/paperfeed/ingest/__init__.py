"""Ingestion: one module per source of paper metadata, all behind the `Source` protocol.

`FetchError` is what every network source raises when a site cannot be reached. It is loaded
on first use, so that a module of this package can be imported without the HTTP client (the
process that parses a large snapshot imports `snapshot` alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paperfeed.ingest._http import FetchError

__all__ = ["FetchError"]


def __getattr__(name: str) -> Any:
    if name == "FetchError":
        from paperfeed.ingest._http import FetchError

        return FetchError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
