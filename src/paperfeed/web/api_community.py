"""The JSON API's write side: upvotes, submissions, collections and their notes, for scripts.

Calls authenticate with `Authorization: Bearer <token>` (tokens are made on /settings). They
skip the CSRF check, since a browser never attaches that header by itself, and cookies never
authenticate here. The read-only API lives in the lists' module.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from paperfeed.community import collections
from paperfeed.community.accounts import User, api_token_user
from paperfeed.community.collections import Collection, ItemNote
from paperfeed.community.limits import RateLimited
from paperfeed.community.links import LinksRefused, NotAllowed, edit_links
from paperfeed.community.papers import NoSuchPaper
from paperfeed.community.submit import SubmitError, submit_paper
from paperfeed.community.upvotes import upvote
from paperfeed.hub import Hub
from paperfeed.web import ratelimit
from paperfeed.web.deps import Fetcher, HubDep, RowId, get_hub

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
        user = api_token_user(db=hub.db, token=token.strip())
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


class CollectionItemOut(BaseModel):
    paper_id: str
    added_at: dt.datetime | None = Field(default=None, description="When it was collected (UTC)")
    note: str = Field(description="The owner's note, plain text ('' for none)")
    read: bool | None = Field(
        default=None, description="Whether the owner marked it read (only shown to the owner)"
    )
    read_at: dt.datetime | None = Field(default=None, description="When (UTC), to the owner")


class CollectionOut(BaseModel):
    id: int
    name: str
    description: str
    public: bool
    owner: str
    papers: list[str] | None = Field(
        default=None, description="Paper ids, newest first (only on single collections)"
    )
    items: list[CollectionItemOut] | None = Field(
        default=None, description="The papers with notes and read state (single collections)"
    )
    unread: int | None = Field(default=None, description="Items not marked read (to the owner)")


class ItemIn(BaseModel):
    note: str | None = Field(
        default=None,
        max_length=collections.MAX_NOTE_CHARS,
        description="Your note, plain text; '' clears it, absent leaves it",
    )
    read: bool | None = Field(default=None, description="Mark read or unread; absent leaves it")


def _item(
    paper_id: str, added: dt.datetime | None, note: ItemNote | None, owner: bool
) -> CollectionItemOut:
    note = note or ItemNote()
    return CollectionItemOut(
        paper_id=paper_id,
        added_at=added,
        note=note.note,
        read=note.is_read if owner else None,
        read_at=note.read_at if owner else None,
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


_NO_PAPER = "No such paper"


def _vote(hub: Hub, user: User, paper_id: str, on: bool) -> UpvoteOut:
    try:
        stats = upvote(db=hub.db, user_id=user.user_id, paper_id=paper_id, on=on)
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail=_NO_PAPER) from None
    return UpvoteOut(paper_id=paper_id, upvoted=stats.upvoted, upvotes=stats.upvotes)


@router.post("/papers/{paper_id:path}/upvote", responses=_UNAUTHORIZED)
def api_upvote(hub: HubDep, user: ApiUser, paper_id: str) -> UpvoteOut:
    """Upvote a paper (idempotent: a second call changes nothing)."""
    return _vote(hub, user, paper_id, True)


@router.delete("/papers/{paper_id:path}/upvote", responses=_UNAUTHORIZED)
def api_remove_upvote(hub: HubDep, user: ApiUser, paper_id: str) -> UpvoteOut:
    """Withdraw your upvote (idempotent)."""
    return _vote(hub, user, paper_id, False)


class LinksIn(BaseModel):
    """A paper's links in Hugging Face's names; an empty or missing one removes it."""

    model_config = ConfigDict(populate_by_name=True)

    github_repo: str | None = Field(
        default=None,
        alias="githubRepo",
        max_length=1000,
        description="A GitHub or GitLab repository",
        examples=["https://github.com/owner/name"],
    )
    project_page: str | None = Field(
        default=None, alias="projectPage", max_length=1000, description="The project's page"
    )


class LinksOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    paper_id: str
    github_repo: str | None = Field(alias="githubRepo")
    project_page: str | None = Field(alias="projectPage")
    github_stars: int | None = Field(alias="githubStars")


@router.post(
    "/papers/{paper_id:path}/links",
    response_model_by_alias=True,
    responses={
        **_UNAUTHORIZED,
        400: {"description": "Not a repository or web address"},
        403: {"description": "Not the paper's submitter or a curator"},
        404: {},
        429: {},
    },
)
def api_links(hub: HubDep, user: ApiUser, paper_id: str, body: LinksIn) -> LinksOut:
    """Set a paper's repository and project page (its submitter or a curator)."""
    try:
        links = edit_links(
            db=hub.db,
            paper_id=paper_id,
            user=user,
            github_repo=body.github_repo,
            project_page=body.project_page,
        )
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail=_NO_PAPER) from None
    except NotAllowed as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except LinksRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return LinksOut(
        paper_id=paper_id,
        github_repo=links.github_repo,
        project_page=links.project_page,
        github_stars=links.github_stars,
    )


@router.post(
    "/submit",
    responses={**_UNAUTHORIZED, 400: {"description": "Not an arXiv paper"}, 429: {}},
)
def api_submit(hub: HubDep, user: ApiUser, fetcher: Fetcher, body: SubmitIn) -> SubmitOut:
    """Feature an arXiv paper today (fetched from arXiv when the hub lacks it)."""
    try:
        done = submit_paper(
            db=hub.db, fetcher=fetcher, user_id=user.user_id, text=body.paper, embedder=hub.embedder
        )
    except SubmitError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return SubmitOut(
        paper_id=done.paper_id, featured_on=done.featured_on, newly_featured=done.newly_featured
    )


@router.get("/collections", responses=_UNAUTHORIZED)
def api_my_collections(hub: HubDep, user: ApiUser) -> list[CollectionOut]:
    """Your collections, public and private."""
    return [_out(c) for c in collections.reader_collections(db=hub.db, user_id=user.user_id)]


@router.post("/collections", status_code=201, responses={**_UNAUTHORIZED, 409: {}})
def api_new_collection(hub: HubDep, user: ApiUser, body: CollectionIn) -> CollectionOut:
    """Make a collection."""
    name = " ".join(body.name.split())
    if not name:
        raise HTTPException(status_code=422, detail="A collection needs a name")
    try:
        collection = collections.create_collection(
            db=hub.db,
            user_id=user.user_id,
            name=name,
            description=body.description.strip(),
            is_public=body.public,
        )
    except collections.DuplicateName as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return _out(collection, [])


@router.get("/collections/{collection_id:int}", responses={**_UNAUTHORIZED, 404: {}})
def api_collection(hub: HubDep, user: ApiUser, collection_id: RowId) -> CollectionOut:
    """One collection (yours, or anyone's public one) with its papers."""
    try:
        shown = collections.collection_page(
            db=hub.db, collection_id=collection_id, user_id=user.user_id
        )
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail="No such collection") from None
    out = _out(shown.collection, [p.paper_id for p, _ in shown.items])
    owner = shown.collection.user_id == user.user_id
    out.items = [
        _item(p.paper_id, added, shown.notes.get(p.paper_id), owner) for p, added in shown.items
    ]
    out.unread = shown.unread if owner else None
    return out


def _collect(hub: Hub, user: User, collection_id: int, paper_id: str, present: bool) -> None:
    try:
        collections.collect(
            db=hub.db,
            collection_id=collection_id,
            user_id=user.user_id,
            paper_id=paper_id,
            present=present,
        )
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail=_NO_PAPER) from None
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail="You have no such collection") from None


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


@router.patch(
    "/collections/{collection_id:int}/items/{paper_id:path}",
    responses={**_UNAUTHORIZED, 400: {}, 404: {}, 429: {}},
)
def api_annotate(
    hub: HubDep, user: ApiUser, collection_id: RowId, paper_id: str, body: ItemIn
) -> CollectionItemOut:
    """Write your note on a paper of your collection and/or mark it read or unread."""
    try:
        saved = collections.annotate(
            db=hub.db,
            collection_id=collection_id,
            user_id=user.user_id,
            paper_id=paper_id,
            note=body.note,
            read=body.read,
        )
    except collections.NoteRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail="You have no such collection") from None
    except collections.NotInCollection:
        raise HTTPException(status_code=404, detail="That paper is not in the collection") from None
    return _item(paper_id, None, saved, True)
