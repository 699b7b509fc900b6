"""The curators' triage in the JSON API: `/api/new` (a listing day ranked by community
interest, as the /new page shows it) and featuring or unfeaturing a paper on a day.

Calls authenticate with a curator's (or an admin's) Bearer token, like the rest of the write
API (api_community.py); the listing comes from `paperfeed.loop.triage`, featuring from the
community service, so an unfeature here is remembered and the worker's policy never undoes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from paperfeed.community.accounts import Role, User
from paperfeed.community.featuring import feature_paper, unfeature_paper
from paperfeed.community.papers import NoSuchPaper
from paperfeed.db.upvotes import card_stats
from paperfeed.loop.triage import triage_day
from paperfeed.search.index import contract_of
from paperfeed.web.api import PaperPublic, paper_public
from paperfeed.web.api_community import api_user
from paperfeed.web.deps import HubDep
from paperfeed.web.feed_links import CATEGORY_NAME

router = APIRouter(prefix="/api", tags=["curators"])

_ALIASES = ConfigDict(populate_by_name=True)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "A day or a category that cannot be read"},
    401: {"description": "No valid `Authorization: Bearer` token"},
    403: {"description": "The token's owner is not a curator"},
}


def api_curator(user: Annotated[User, Depends(api_user)]) -> User:
    """The Bearer token's owner, if a curator or an admin; 403 otherwise."""
    if not user.can(Role.CURATOR):
        raise HTTPException(status_code=403, detail="Only a curator can do that.")
    return user


ApiCurator = Annotated[User, Depends(api_curator)]


class TriagePaperPublic(BaseModel):
    """One paper of a listing day, as a curator triages it."""

    model_config = _ALIASES

    paper: PaperPublic
    kind: str = Field(description="new, cross-list or replacement (its strongest listing)")
    listed_in: list[str] = Field(
        alias="listedIn", description="the day's listings it appeared in (of those shown)"
    )
    score: float | None = Field(
        description="cosine to the centroid of what members upvoted and saved lately (the "
        "top:N feature policy's score); null without member interest or a vector"
    )
    reason: str = Field(description="the score in words")
    featured: bool = Field(description="on this day's feed")
    featured_note: str = Field(
        alias="featuredNote",
        description="who put it on the feed and why (the policy's recorded reason, a curator, "
        "a member's submission); empty when it is not on it",
    )
    vetoed: bool = Field(description="a curator took it off this day's feed")


class TriagePublic(BaseModel):
    """A listing day for curators, ranked within each kind."""

    model_config = _ALIASES

    day: dt.date | None = Field(description="the listing day; null before any fetch")
    days: list[dt.date] = Field(description="the listing days stored, newest first")
    categories: list[str] = Field(description="the categories listed that day")
    category: str | None
    policy: str = Field(description="the feature policy (PAPERFEED_AUTO_FEATURE)")
    total: int
    papers: list[TriagePaperPublic] = Field(
        description="new submissions, then cross-lists, then replacements; each kind ranked"
    )


class FeaturedOut(BaseModel):
    paper_id: str
    day: dt.date
    featured: bool = Field(description="whether the paper is now on that day's feed")
    changed: bool = Field(description="false when it already was (or was not)")


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=400, detail="Give the day as YYYY-MM-DD.") from None


@router.get("/new", response_model=TriagePublic, responses=_RESPONSES)
def api_triage(
    request: Request,
    hub: HubDep,
    user: ApiCurator,
    day: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    category: Annotated[str | None, Query(max_length=40, description="e.g. cs.CL")] = None,
) -> TriagePublic:
    """A listing day's announcements ranked by community interest (default: the newest day)."""
    chosen = (category or "").strip() or None
    if chosen is not None and not CATEGORY_NAME.match(chosen):
        raise HTTPException(status_code=400, detail="That is not an arXiv category.")
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
        days=hub.settings.auto_feature_window_days
    )
    found = triage_day(
        db=hub.db,
        day=_day(day),
        category=chosen,
        contract=contract_of(hub.embedder) if hub.embedder is not None else None,
        since=since,
    )
    items = [item for section in found.sections.values() for item in section]
    with hub.db.read() as conn:
        stats = card_stats(conn, [i.paper.paper_id for i in items], user_id=None)
    return TriagePublic(
        day=found.day,
        days=found.days,
        categories=found.categories,
        category=found.category,
        policy=hub.settings.auto_feature,
        total=found.total,
        papers=[
            TriagePaperPublic(
                paper=paper_public(request, i.paper, stats[i.paper.paper_id]),
                kind=i.kind,
                listedIn=list(i.categories),
                score=round(i.score, 6) if i.score is not None else None,
                reason=i.reason,
                featured=i.featured,
                featuredNote=i.featured_note,
                vetoed=i.vetoed,
            )
            for i in items
        ],
    )


def _set_featured(hub: HubDep, user: User, day: str, paper_id: str, on: bool) -> FeaturedOut:
    when = _day(day)
    assert when is not None
    try:
        if on:
            changed = feature_paper(db=hub.db, paper_id=paper_id, day=when, user_id=user.user_id)
        else:
            changed = unfeature_paper(db=hub.db, paper_id=paper_id, day=when, user_id=user.user_id)
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="No such paper") from None
    return FeaturedOut(paper_id=paper_id, day=when, featured=on, changed=changed)


@router.put("/new/{day}/featured/{paper_id:path}", responses={**_RESPONSES, 404: {}})
def api_feature(hub: HubDep, user: ApiCurator, day: str, paper_id: str) -> FeaturedOut:
    """Feature a paper on a day's feed (idempotent)."""
    return _set_featured(hub, user, day, paper_id, True)


@router.delete("/new/{day}/featured/{paper_id:path}", responses={**_RESPONSES, 404: {}})
def api_unfeature(hub: HubDep, user: ApiCurator, day: str, paper_id: str) -> FeaturedOut:
    """Take a paper off a day's feed; remembered, so the feature policy never puts it back."""
    return _set_featured(hub, user, day, paper_id, False)
