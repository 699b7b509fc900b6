"""Parameters of list pages: `?page=` (a whole number from 1, else a 400 page) and the Hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from paperfeed.hub import Hub
from paperfeed.web.deps import get_hub


async def _hub(request: Request) -> Hub:
    # `deps.get_hub` is a plain function, which FastAPI runs in the thread pool; the list
    # routes answer most requests from the cache on the event loop, so they skip that hop.
    return get_hub(request)


LoopHub = Annotated[Hub, Depends(_hub)]


def page_number(text: str | None) -> int:
    """Read `?page=`; absent means 1."""
    if text is None:
        return 1
    if text.isascii() and text.isdigit() and 0 < int(text) < 1_000_000:
        return int(text)
    raise HTTPException(status_code=400, detail="The page number must be a whole number from 1 up.")
