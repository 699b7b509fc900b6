"""Submitting a paper: the form (/submit) that features an arXiv paper today.

The route only parses the form and renders; `community.submit.submit_paper` checks the text,
counts the rate limit and fetches missing papers through `ingest.single` (never from here).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.community.limits import RateLimited
from paperfeed.community.submit import SubmitError, submit_paper
from paperfeed.web import ratelimit
from paperfeed.web.auth import CurrentUser, OptionalUser
from paperfeed.web.deps import Fetcher, HubDep
from paperfeed.web.rendering import paper_url, templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


@router.get("/submit", name="submit")
def submit_page(request: Request, user: OptionalUser) -> Response:
    context = {"section": "submit", "value": "", "error": None}
    return templates.TemplateResponse(request, "community/submit.html", context)


@router.post("/submit")
def submit(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    fetcher: Fetcher,
    paper: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        done = submit_paper(
            db=hub.db, fetcher=fetcher, user_id=user.user_id, text=paper, embedder=hub.embedder
        )
    except SubmitError as exc:
        context = {"section": "submit", "value": paper[:300], "error": str(exc)}
        return templates.TemplateResponse(
            request, "community/submit.html", context, status_code=400
        )
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse(f"{paper_url(done.paper_id)}?submitted=1", status_code=303)
