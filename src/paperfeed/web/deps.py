"""Request dependencies: routes receive the Hub by name (`hub: HubDep`), kept on `app.state`,
the arXiv fetcher submissions use, and the row ids paths carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from paperfeed.hub import Hub
from paperfeed.ingest.single import ArxivFetcher

# Row ids in paths: positive and within SQLite's 64-bit integers (larger ones would be a 500).
RowId = Annotated[int, Path(ge=1, le=2**62)]


def get_hub(request: Request) -> Hub:
    """Return the Hub that `create_app` stored on the application."""
    hub = request.app.state.hub
    if not isinstance(hub, Hub):  # pragma: no cover - a wiring mistake, not a request error
        raise RuntimeError("app.state.hub is not set; build the app with create_app(hub)")
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def arxiv_fetcher(request: Request) -> ArxivFetcher:
    """The app's fetcher (tests put one with their own transport on app.state)."""
    fetcher = getattr(request.app.state, "arxiv_fetcher", None)
    if isinstance(fetcher, ArxivFetcher):
        return fetcher
    return ArxivFetcher(get_hub(request).settings)


Fetcher = Annotated[ArxivFetcher, Depends(arxiv_fetcher)]
