"""The JSON API's write side: upvotes, submissions and collections, for scripts.

Calls authenticate with `Authorization: Bearer <token>` (tokens are made on /settings). They
skip the CSRF check, since a browser never attaches that header by itself, and cookies never
authenticate here. The read-only API lives in the lists' module.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from paperfeed.db.community import (
    Collection,
    DuplicateName,
    User,
    card_stats,
    collection_papers,
    create_collection,
    get_collection,
    set_in_collection,
    set_upvote,
    token_user,
    user_collections,
)
from paperfeed.db.papers import get_paper
from paperfeed.hub import Hub
from paperfeed.models import PaperStatus
from paperfeed.web.community import RowId, arxiv_fetcher, submit_paper, today
from paperfeed.web.deps import HubDep, get_hub
from paperfeed.web.submit import SubmitError

router = APIRouter(prefix="/api", tags=["community"])

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid `Authorization: Bearer` token"}
}


def api_user(request: Request, hub: Annotated[Hub, Depends(get_hub)]) -> User:
    """The owner of the request's Bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and 10 < len(token.strip()) < 200:
        with hub.db.write() as conn:
            user = token_user(conn, token.strip())
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="Send a token made on /settings as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="paperfeed"'},
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]


class UpvoteOut(BaseModel):
    paper_id: str
    upvoted: bool = Field(description="Whether the token's owner now upvotes the paper")
    upvotes: int = Field(description="Imported upvotes plus readers' upvotes")


class SubmitIn(BaseModel):
    paper: str = Field(
        min_length=1,
        max_length=300,
        description="An arXiv id or arxiv.org link",
        examples=["2401.00001"],
    )


class SubmitOut(BaseModel):
    paper_id: str
    featured_on: dt.date
    newly_featured: bool


class CollectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    public: bool = False


class CollectionOut(BaseModel):
    id: int
    name: str
    description: str
    public: bool
    owner: str
    papers: list[str] | None = Field(
        default=None, description="Paper ids, newest first (only on single collections)"
    )


def _out(collection: Collection, papers: list[str] | None = None) -> CollectionOut:
    return CollectionOut(
        id=collection.collection_id,
        name=collection.name,
        description=collection.description,
        public=collection.is_public,
        owner=collection.owner,
        papers=papers,
    )


def _require_paper(hub: Hub, paper_id: str) -> None:
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id)
    if stored is None or stored.record.status is not PaperStatus.ACTIVE:
        raise HTTPException(status_code=404, detail="No such paper")


def _vote(hub: Hub, user: User, paper_id: str, on: bool) -> UpvoteOut:
    _require_paper(hub, paper_id)
    with hub.db.write() as conn:
        set_upvote(conn, user.user_id, paper_id, on=on)
        stats = card_stats(conn, [paper_id], user_id=user.user_id)[paper_id]
    return UpvoteOut(paper_id=paper_id, upvoted=stats.upvoted, upvotes=stats.upvotes)


@router.post("/papers/{paper_id:path}/upvote", responses=_UNAUTHORIZED)
def api_upvote(hub: HubDep, user: ApiUser, paper_id: str) -> UpvoteOut:
    """Upvote a paper (idempotent: a second call changes nothing)."""
    return _vote(hub, user, paper_id, True)


@router.delete("/papers/{paper_id:path}/upvote", responses=_UNAUTHORIZED)
def api_remove_upvote(hub: HubDep, user: ApiUser, paper_id: str) -> UpvoteOut:
    """Withdraw your upvote (idempotent)."""
    return _vote(hub, user, paper_id, False)


@router.post(
    "/submit",
    responses={**_UNAUTHORIZED, 400: {"description": "Not an arXiv paper"}, 429: {}},
)
def api_submit(request: Request, hub: HubDep, user: ApiUser, body: SubmitIn) -> SubmitOut:
    """Feature an arXiv paper today (fetched from arXiv when the hub lacks it)."""
    try:
        paper_id, created = submit_paper(hub, arxiv_fetcher(request), user, body.paper)
    except SubmitError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return SubmitOut(paper_id=paper_id, featured_on=today(), newly_featured=created)


@router.get("/collections", responses=_UNAUTHORIZED)
def api_my_collections(hub: HubDep, user: ApiUser) -> list[CollectionOut]:
    """Your collections, public and private."""
    with hub.db.read() as conn:
        return [_out(c) for c in user_collections(conn, user.user_id)]


@router.post("/collections", status_code=201, responses={**_UNAUTHORIZED, 409: {}})
def api_new_collection(hub: HubDep, user: ApiUser, body: CollectionIn) -> CollectionOut:
    """Make a collection."""
    name = " ".join(body.name.split())
    if not name:
        raise HTTPException(status_code=422, detail="A collection needs a name")
    with hub.db.write() as conn:
        try:
            collection_id = create_collection(
                conn,
                user.user_id,
                name,
                description=body.description.strip(),
                is_public=body.public,
            )
        except DuplicateName as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        collection = get_collection(conn, collection_id)
    assert collection is not None
    return _out(collection, [])


@router.get("/collections/{collection_id:int}", responses={**_UNAUTHORIZED, 404: {}})
def api_collection(hub: HubDep, user: ApiUser, collection_id: RowId) -> CollectionOut:
    """One collection (yours, or anyone's public one) with its papers."""
    with hub.db.read() as conn:
        collection = get_collection(conn, collection_id)
        if collection is None or not (collection.is_public or collection.user_id == user.user_id):
            raise HTTPException(status_code=404, detail="No such collection")
        papers = [p.paper_id for p, _ in collection_papers(conn, collection_id)]
    return _out(collection, papers)


def _collect(hub: Hub, user: User, collection_id: int, paper_id: str, present: bool) -> None:
    _require_paper(hub, paper_id)
    with hub.db.write() as conn:
        changed = set_in_collection(conn, collection_id, user.user_id, paper_id, present=present)
    if changed is None:
        raise HTTPException(status_code=404, detail="You have no such collection")


@router.put(
    "/collections/{collection_id:int}/papers/{paper_id:path}",
    status_code=204,
    responses={**_UNAUTHORIZED, 404: {}},
)
def api_collect(hub: HubDep, user: ApiUser, collection_id: RowId, paper_id: str) -> None:
    """Put a paper in your collection (idempotent)."""
    _collect(hub, user, collection_id, paper_id, True)


@router.delete(
    "/collections/{collection_id:int}/papers/{paper_id:path}",
    status_code=204,
    responses={**_UNAUTHORIZED, 404: {}},
)
def api_uncollect(hub: HubDep, user: ApiUser, collection_id: RowId, paper_id: str) -> None:
    """Take a paper out of your collection (idempotent)."""
    _collect(hub, user, collection_id, paper_id, False)
