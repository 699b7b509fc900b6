"""Author pages: one author's papers, co-authors and categories (`/authors/{key}`), following an
author, claiming an author page, the curators' queue of claims, and the same in the JSON API.

Each route calls `paperfeed.community.authors`; forms post with a CSRF token and answer 303.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperfeed.community import authors
from paperfeed.community.authors import ClaimRefused, NoSuchAuthor
from paperfeed.community.limits import RateLimited
from paperfeed.db.cache import cached
from paperfeed.db.upvotes import CardStats, card_stats
from paperfeed.hub import Hub
from paperfeed.web import ratelimit
from paperfeed.web.api import PaperPublic, paper_public
from paperfeed.web.api_community import ApiUser
from paperfeed.web.auth import Curator, CurrentUser, OptionalUser, safe_next
from paperfeed.web.deps import HubDep, RowId
from paperfeed.web.paging import page_number
from paperfeed.web.rendering import templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
api_router = APIRouter(prefix="/api")

MAX_KEY = 128
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid `Authorization: Bearer` token"}
}


def _no_author(key: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"No paper here has the author “{key[:80]}”.")


def _author_url(key: str, page: int = 1) -> str:
    return f"/authors/{key}" + (f"?page={page}" if page > 1 else "")


def _page_data(hub: Hub, key: str, page: int) -> tuple[authors.AuthorPage, dict[str, CardStats]]:
    """The author's page and its cards' counts as everyone sees them, cached until the store
    changes (the counts of 30 cards take ~60 ms to read on a 95k-paper store)."""

    def load() -> tuple[authors.AuthorPage, dict[str, CardStats]]:
        found = authors.author_page(db=hub.db, key=key, page=page)
        with hub.db.read() as conn:
            return found, card_stats(conn, [p.paper_id for p in found.papers], user_id=None)

    try:
        return cached(hub.db, ("author-page", key, page), load)
    except NoSuchAuthor:
        raise _no_author(key) from None


@router.get("/authors/{key}", name="author")
def author(
    request: Request,
    hub: HubDep,
    user: OptionalUser,
    key: str,
    page: str | None = None,
    paper: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """One author's papers (newest first, 30 to a page), co-authors and categories."""
    if len(key) > MAX_KEY:
        raise _no_author(key)
    if paper:
        # A name written with an initial links here with its paper: which person it is
        # depends on that paper's co-authors.
        person = authors.resolve(hub.db, key=key, paper_id=paper)
        return RedirectResponse(_author_url(person), status_code=303)
    number = page_number(page)
    found, stats = _page_data(hub, key, number)
    me = user.user_id if user else None
    if me is not None:  # the reader's own upvotes show on the cards
        with hub.db.read() as conn:
            stats = card_stats(conn, [p.paper_id for p in found.papers], user_id=me)
    context = {
        "author": found,
        "stats": stats,
        "following": me is not None and authors.is_following(db=hub.db, user_id=me, key=key),
        "my_claim": next(
            (c for c in authors.claims_of(db=hub.db, user_id=me) if c.author_key == key), None
        )
        if me is not None
        else None,
        "offset": (found.page - 1) * authors.PAGE_SIZE,
        "prev_page_url": _author_url(key, found.page - 1) if found.page > 1 else None,
        "next_page_url": _author_url(key, found.page + 1) if found.page < found.pages else None,
    }
    return templates.TemplateResponse(request, "author.html", context)


@router.post("/authors/{key}/follow", name="follow_author")
def follow_author(
    hub: HubDep,
    user: CurrentUser,
    key: str,
    action: Annotated[str, Form()] = "add",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Follow (action=add) or stop following (action=remove) an author; idempotent."""
    try:
        authors.follow(db=hub.db, user_id=user.user_id, key=key, on=action != "remove")
    except NoSuchAuthor:
        raise _no_author(key) from None
    return RedirectResponse(safe_next(next or _author_url(key)), status_code=303)


@router.post("/authors/{key}/claim", name="claim_author")
def claim_author(
    hub: HubDep,
    user: CurrentUser,
    key: str,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Ask a curator to confirm that the signed-in member is this author (5 an hour)."""
    try:
        authors.request_claim(db=hub.db, user=user, key=key, note=note)
    except NoSuchAuthor:
        raise _no_author(key) from None
    except ClaimRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse(_author_url(key), status_code=303)


@router.get("/admin/claims", name="admin_claims")
def claims_page(request: Request, hub: HubDep, user: Curator) -> Response:
    """The claims of author pages waiting for a curator."""
    context = {"section": "admin", "claims": authors.pending_claims(db=hub.db)}
    response = templates.TemplateResponse(request, "community/admin_claims.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/claims/{claim_id}/decide")
def decide_claim(
    hub: HubDep, user: Curator, claim_id: RowId, decision: Annotated[str, Form()] = ""
) -> Response:
    """Approve (decision=approve) or refuse (decision=refuse) a pending claim."""
    if decision not in ("approve", "refuse"):
        raise HTTPException(status_code=400, detail="Approve or refuse.")
    try:
        authors.decide_claim(
            db=hub.db, curator=user, claim_id=claim_id, approve=decision == "approve"
        )
    except ClaimRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse("/admin/claims", status_code=303)


# The JSON API


class CoauthorPublic(BaseModel):
    key: str
    name: str
    papers: int = Field(description="Papers written together")


class CategoryCount(BaseModel):
    category: str
    papers: int


class AuthorPublic(BaseModel):
    key: str = Field(description="Family name and given name, folded: `vaswani-ashish`")
    name: str
    url: str
    total: int = Field(description="The author's visible papers")
    page: int
    pages: int
    papers: list[PaperPublic] = Field(description="This page of the papers, newest first")
    coauthors: list[CoauthorPublic]
    categories: list[CategoryCount]
    followers: int
    claimed_by: str | None = Field(description="The member whose claim a curator approved")


class FollowOut(BaseModel):
    key: str
    following: bool


@api_router.get("/authors/{key}", tags=["papers"], responses={404: {}})
def api_author(
    request: Request,
    hub: HubDep,
    key: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    paper: Annotated[str | None, Query(max_length=64)] = None,
) -> AuthorPublic:
    """One author: a page of their papers (30, newest first), co-authors and categories.

    `paper` reads the key as the name written on that paper (an initial may be a full name's).
    """
    if len(key) > MAX_KEY:
        raise _no_author(key)
    if paper:
        key = authors.resolve(hub.db, key=key, paper_id=paper)
    found, stats = _page_data(hub, key, page)
    base = str(hub.settings.public_url).rstrip("/")
    return AuthorPublic(
        key=found.key,
        name=found.name,
        url=f"{base}/authors/{found.key}",
        total=found.total,
        page=found.page,
        pages=found.pages,
        papers=[paper_public(request, p, stats[p.paper_id]) for p in found.papers],
        coauthors=[CoauthorPublic(key=c.key, name=c.name, papers=c.count) for c in found.coauthors],
        categories=[CategoryCount(category=c, papers=n) for c, n in found.categories],
        followers=found.followers,
        claimed_by=found.claimed_by.name if found.claimed_by else None,
    )


@api_router.put("/authors/{key}/follow", tags=["community"], responses={**_UNAUTHORIZED, 404: {}})
def api_follow(hub: HubDep, user: ApiUser, key: str) -> FollowOut:
    """Follow an author: their new papers come first in the token owner's For you."""
    if len(key) > MAX_KEY:
        raise _no_author(key)
    try:
        authors.follow(db=hub.db, user_id=user.user_id, key=key, on=True)
    except NoSuchAuthor:
        raise _no_author(key) from None
    return FollowOut(key=key, following=True)


@api_router.delete("/authors/{key}/follow", tags=["community"], responses=_UNAUTHORIZED)
def api_unfollow(hub: HubDep, user: ApiUser, key: str) -> FollowOut:
    """Stop following an author."""
    authors.follow(db=hub.db, user_id=user.user_id, key=key[:MAX_KEY], on=False)
    return FollowOut(key=key, following=False)


@api_router.get("/follows", tags=["community"], responses=_UNAUTHORIZED)
def api_follows(user: ApiUser, hub: HubDep) -> list[str]:
    """The author keys the token owner follows."""
    return authors.follows(db=hub.db, user_id=user.user_id)
