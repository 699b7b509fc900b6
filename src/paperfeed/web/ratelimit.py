"""Rate limits as the web answers them: over a limit (community/limits.py), the request gets
429 with Retry-After and changes nothing.

Clients are told apart by their address as the server sees it; behind a reverse proxy that is
the proxy's, so run uvicorn with --proxy-headers there (docs/web.md).
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from paperfeed.community.limits import Limit as Limit  # digest_pages.py defines its own
from paperfeed.community.limits import RateLimited, hit
from paperfeed.hub import Hub


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many(exc: RateLimited) -> HTTPException:
    """The 429 answer to a `RateLimited` action."""
    return HTTPException(
        status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
    )


def enforce(hub: Hub, limit: Limit, who: str) -> None:
    """Count one hit for `who`; raise 429 with Retry-After when over the limit."""
    try:
        hit(db=hub.db, limit=limit, who=who)
    except RateLimited as exc:
        raise too_many(exc) from None
