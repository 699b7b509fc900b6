"""`/admin/jobs`: the daily loop's job history for curators and admins, the latest run first,
with each run's duration, counts and error (`job_runs`, written by `paperfeed worker`).

What `paperfeed status` shows for the current periods, this shows for every period recorded.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse

from paperfeed.db.jobs import STATES, count_runs, list_runs
from paperfeed.loop.schedule import ALL_JOBS
from paperfeed.loop.status import duration_text
from paperfeed.web.auth import Curator
from paperfeed.web.deps import HubDep
from paperfeed.web.paging import page_number
from paperfeed.web.rendering import templates

PAGE_SIZE = 50

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    chosen = (value or "").strip()
    if not chosen:
        return None
    if chosen not in allowed:
        raise HTTPException(status_code=400, detail=f"A {what} is one of {', '.join(allowed)}.")
    return chosen


@router.get("/admin/jobs", name="admin_jobs")
def jobs_page(
    request: Request,
    hub: HubDep,
    user: Curator,
    job: Annotated[str | None, Query(max_length=20)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Every recorded run of the worker's jobs, the latest started first; errors in full."""
    chosen_job = _choice(job, ALL_JOBS, "job")
    chosen_state = _choice(state, STATES, "state")
    number = page_number(page)
    with hub.db.read() as conn:
        total = count_runs(conn, job=chosen_job, state=chosen_state)
        runs = list_runs(
            conn,
            job=chosen_job,
            state=chosen_state,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if number > pages:
        raise HTTPException(status_code=404, detail=f"The job history has {pages} page(s).")
    filters = "".join(
        f"&{key}={value}" for key, value in (("job", chosen_job), ("state", chosen_state)) if value
    )
    context = {
        "section": "admin",
        "runs": runs,
        "took": [duration_text(run) for run in runs],
        "total": total,
        "jobs": ALL_JOBS,
        "states": STATES,
        "job": chosen_job,
        "state": chosen_state,
        "page": number,
        "pages": pages,
        "prev_url": f"/admin/jobs?page={number - 1}{filters}" if number > 1 else None,
        "next_url": f"/admin/jobs?page={number + 1}{filters}" if number < pages else None,
    }
    return templates.TemplateResponse(request, "admin_jobs.html", context)
