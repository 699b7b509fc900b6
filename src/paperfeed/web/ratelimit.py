"""Rate limits on the actions a script could abuse: asking for sign-in mail, submitting,
commenting. Over the limit, the request gets 429 with Retry-After and changes nothing.

Counters live in the store (`rate_limits`), so all workers of a hub count together. Clients
are told apart by their address as the server sees it; behind a reverse proxy that is the
proxy's, so run uvicorn with --proxy-headers there (docs/web.md).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from fastapi import HTTPException, Request

from paperfeed.db.community import hit_rate_limit
from paperfeed.hub import Hub


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` hits per `window` for one key."""

    action: str
    limit: int
    window: dt.timedelta

    def describe(self) -> str:
        minutes = int(self.window.total_seconds() // 60)
        return f"{self.limit} per {minutes} minutes"


SIGN_IN_PER_CLIENT = Limit("sign-in:ip", 10, dt.timedelta(minutes=10))
SIGN_IN_PER_EMAIL = Limit("sign-in:email", 5, dt.timedelta(minutes=60))
SUBMIT_PER_USER = Limit("submit:user", 10, dt.timedelta(minutes=60))
COMMENT_PER_USER = Limit("comment:user", 10, dt.timedelta(minutes=10))


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def enforce(hub: Hub, limit: Limit, who: str) -> None:
    """Count one hit for `who`; raise 429 with Retry-After when over the limit."""
    with hub.db.write() as conn:
        wait = hit_rate_limit(
            conn, f"{limit.action}:{who}"[:200], limit=limit.limit, window=limit.window
        )
    if wait > 0:
        seconds = math.ceil(wait)
        raise HTTPException(
            status_code=429,
            detail=f"Too many requests ({limit.describe()}). Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
