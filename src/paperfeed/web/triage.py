"""`/new`: the curator's triage page of a listing day (new, cross-lists, replacements), ranked by
community interest, with feature/unfeature in one click that comes back to the same place.

Curators only. The listing comes from `paperfeed.loop.triage`; featuring from the community
service, so an unfeature here is remembered and the worker's policy never undoes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.community.featuring import feature_paper, unfeature_paper
from paperfeed.community.papers import NoSuchPaper
from paperfeed.loop.triage import triage_day
from paperfeed.search.index import contract_of
from paperfeed.web.auth import Curator
from paperfeed.web.deps import HubDep
from paperfeed.web.rendering import templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

KIND_TITLES = {"new": "New submissions", "cross-list": "Cross-lists", "replacement": "Replacements"}


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=400, detail="Give the day as YYYY-MM-DD.") from None


def _category(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > 32 or not all(c.isalnum() or c in ".-" for c in cleaned):
        raise HTTPException(status_code=400, detail="That is not an arXiv category.")
    return cleaned


def _here(day: dt.date | None, category: str | None) -> str:
    params = {k: v for k, v in (("day", day and day.isoformat()), ("category", category)) if v}
    return "/new" + (f"?{urlencode(params)}" if params else "")


@router.get("/new", name="triage")
def triage_page(
    request: Request,
    hub: HubDep,
    user: Curator,
    day: Annotated[str | None, Query(max_length=10)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The day's announcements for curators, ranked by what members upvoted and saved."""
    settings = hub.settings
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
        days=settings.auto_feature_window_days
    )
    found = triage_day(
        db=hub.db,
        day=_day(day),
        category=_category(category),
        contract=contract_of(hub.embedder) if hub.embedder is not None else None,
        since=since,
    )
    context = {
        "section": "new",
        "triage": found,
        "kind_titles": KIND_TITLES,
        "here": _here(found.day if day else None, found.category),
        "policy": settings.auto_feature,
    }
    return templates.TemplateResponse(request, "new.html", context)


@router.post("/new/feature", name="triage-feature")
def triage_feature(
    hub: HubDep,
    user: Curator,
    paper_id: Annotated[str, Form(max_length=64)],
    day: Annotated[str, Form(max_length=10)],
    action: Annotated[str, Form(max_length=10)] = "add",
    category: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Feature a paper on the listing day, or take it off; back to the same row of /new."""
    when = _day(day)
    assert when is not None
    try:
        if action == "remove":
            unfeature_paper(db=hub.db, paper_id=paper_id, day=when, user_id=user.user_id)
        else:
            feature_paper(db=hub.db, paper_id=paper_id, day=when, user_id=user.user_id)
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="There is no such paper here.") from None
    target = _here(when, _category(category)) + f"#paper-{paper_id}"
    return RedirectResponse(target, status_code=303)
