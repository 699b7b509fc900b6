"""`/healthz`: whether the store, the search indexes and the daily loop's schedule are healthy,
as JSON, for a load balancer or a monitor: 200 when they are, 503 when one is not."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from paperfeed.loop.status import loop_status
from paperfeed.web.deps import HubDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(hub: HubDep) -> JSONResponse:
    """Answer 200 with the status when all is healthy; 503 (same body) when not."""
    found = loop_status(hub, now=dt.datetime.now(dt.UTC))
    body = found.as_json()
    body.pop("problems")  # error texts stay in `paperfeed status`, not on a public URL
    return JSONResponse(
        body, status_code=200 if found.healthy else 503, headers={"Cache-Control": "no-store"}
    )
