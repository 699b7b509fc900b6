"""For you: the reader's page (`/for-you`), the card signals ("more like this", "not interested"),
the private feed (`/for-you/{token}.rss|.atom`, its token made and revoked on the page) and
`GET /api/for-you`. Each calls `paperfeed.recommend` (one ranking for all of them).

The private feed is read by feed readers, which send no cookie: its secret is in the URL. A new
link revokes the old one, and "Revoke" leaves none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperfeed.community.accounts import User
from paperfeed.community.limits import LIBRARY_PER_USER, TOPICS_PER_USER
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.recommend import ForYou, for_you
from paperfeed.recommend.library import (
    MAX_FILE_BYTES,
    ImportReport,
    LibraryFileError,
    forget_library,
    import_library,
    library_summary,
)
from paperfeed.recommend.signals import (
    NoSuchPaper,
    feed_token_made,
    feed_token_user,
    new_feed_token,
    parse_signal,
    record_signal,
    revoke_feed_token,
)
from paperfeed.recommend.topics import (
    MAX_CATEGORIES,
    MAX_SEARCH_CHARS,
    MAX_SEARCHES,
    TopicError,
    add_reader_topic,
    hub_categories,
    remove_reader_topic,
    set_reader_topics,
    show_topics,
)
from paperfeed.web import ratelimit
from paperfeed.web.api import PaperPublic, paper_public
from paperfeed.web.api_community import ApiUser
from paperfeed.web.auth import CurrentUser, safe_next
from paperfeed.web.cookies import HOME_COOKIE, clear_cookie, cookie_policy
from paperfeed.web.deps import HubDep
from paperfeed.web.feed_links import ATOM_TYPE, RSS_TYPE
from paperfeed.web.feeds import FeedEntry, FeedList, render_feed
from paperfeed.web.rendering import paper_url, templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["community"])

PAGE_SIZE = 30
FEED_SIZE = 30


def _list(hub: Hub, user_id: int, limit: int) -> ForYou:
    return for_you(
        hub.db, search_index=hub.search_index, user_id=user_id, limit=limit, embedder=hub.embedder
    )


def _page(
    request: Request,
    hub: Hub,
    user: User,
    *,
    new_feed: str | None = None,
    imported: ImportReport | None = None,
    problems: list[str] | None = None,
    topic_error: str | None = None,
    status_code: int = 200,
) -> Response:
    listing = _list(hub, user.user_id, PAGE_SIZE)
    ids = [paper.paper_id for paper, _ in listing.picks]
    with hub.db.read() as conn:
        stats = card_stats(conn, ids, user_id=user.user_id)
    base = str(hub.settings.public_url).rstrip("/")
    context = {
        "section": "for-you",
        "listing": listing,
        "stats": stats,
        "feed_made": feed_token_made(db=hub.db, user_id=user.user_id),
        "new_feed": {fmt: f"{base}/for-you/{new_feed}.{fmt}" for fmt in ("rss", "atom")}
        if new_feed
        else None,
        "library": library_summary(db=hub.db, user_id=user.user_id),
        "imported": imported,
        "problems": problems,
        "max_library_mib": MAX_FILE_BYTES // (1024 * 1024),
        "topics": show_topics(db=hub.db, user_id=user.user_id),
        "hub_categories": hub_categories(hub.search_index),
        "topic_error": topic_error,
        "max_categories": MAX_CATEGORIES,
        "max_searches": MAX_SEARCHES,
        "max_search_chars": MAX_SEARCH_CHARS,
    }
    response = templates.TemplateResponse(request, "for_you.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/for-you", name="for_you")
def for_you_page(request: Request, hub: HubDep, user: CurrentUser) -> Response:
    """The reader's picks of the week, each with why; choosing it makes it the home page."""
    response = _page(request, hub, user)
    if HOME_COOKIE in request.cookies:
        clear_cookie(response, HOME_COOKIE, cookie_policy(hub.settings).secure)
    return response


@router.post("/papers/{paper_id:path}/signal", name="signal")
def signal(
    hub: HubDep,
    user: CurrentUser,
    paper_id: str,
    kind: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """ "More like this" (kind=more), "not interested" (kind=less) or neither (kind=none)."""
    try:
        record_signal(db=hub.db, user_id=user.user_id, paper_id=paper_id, kind=parse_signal(kind))
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="There is no such paper here.") from None
    return RedirectResponse(safe_next(next or paper_url(paper_id)), status_code=303)


@router.post("/for-you/feed")
def make_feed_link(request: Request, hub: HubDep, user: CurrentUser) -> Response:
    """Make the private feed's link, shown once; any earlier link stops working."""
    token = new_feed_token(db=hub.db, user_id=user.user_id)
    return _page(request, hub, user, new_feed=token)


@router.post("/for-you/feed/revoke")
def revoke_feed_link(hub: HubDep, user: CurrentUser) -> Response:
    revoke_feed_token(db=hub.db, user_id=user.user_id)
    return RedirectResponse("/for-you", status_code=303)


@router.post("/for-you/library")
def upload_library(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    library: Annotated[UploadFile, File()],
) -> Response:
    """Import a BibTeX or CSL-JSON file as the reader's library (replacing theirs); the page
    shows what became of each entry, or every problem of a file refused whole."""
    ratelimit.enforce(hub, LIBRARY_PER_USER, str(user.user_id))
    data = library.file.read(MAX_FILE_BYTES + 1)
    name = (library.filename or "library").rsplit("/", 1)[-1][:200]
    try:
        report = import_library(
            db=hub.db,
            search_index=hub.search_index,
            embedder=hub.embedder,
            user_id=user.user_id,
            data=data,
            source=name,
        )
    except LibraryFileError as exc:
        return _page(request, hub, user, problems=exc.problems[:20], status_code=400)
    return _page(request, hub, user, imported=report)


@router.post("/for-you/library/forget")
def forget_library_page(hub: HubDep, user: CurrentUser) -> Response:
    forget_library(db=hub.db, user_id=user.user_id)
    return RedirectResponse("/for-you#library", status_code=303)


@router.post("/for-you/topics/add")
def add_topic_form(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    kind: Annotated[str, Form(max_length=10)],
    value: Annotated[str, Form(max_length=2000)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Choose a category (kind=category) or save a search (kind=search, from the search page
    too); the page shows why one cannot be kept."""
    ratelimit.enforce(hub, TOPICS_PER_USER, str(user.user_id))
    try:
        add_reader_topic(
            db=hub.db, search_index=hub.search_index, user_id=user.user_id, kind=kind, value=value
        )
    except TopicError as exc:
        return _page(request, hub, user, topic_error=str(exc), status_code=400)
    return RedirectResponse(safe_next(next or "/for-you#topics"), status_code=303)


@router.post("/for-you/topics/remove")
def remove_topic_form(
    hub: HubDep,
    user: CurrentUser,
    kind: Annotated[str, Form(max_length=10)],
    value: Annotated[str, Form(max_length=2000)],
) -> Response:
    ratelimit.enforce(hub, TOPICS_PER_USER, str(user.user_id))
    remove_reader_topic(db=hub.db, user_id=user.user_id, kind=kind, value=value)
    return RedirectResponse("/for-you#topics", status_code=303)


@router.get("/for-you/{token}.{fmt}")
def private_feed(request: Request, hub: HubDep, token: str, fmt: str) -> Response:
    """The reader's For you list as RSS or Atom, each item's text starting with why."""
    if fmt not in ("rss", "atom"):
        raise HTTPException(status_code=404, detail="Feeds end in .rss or .atom.")
    user = feed_token_user(db=hub.db, token=token)
    if user is None:
        raise HTTPException(status_code=404, detail="This feed link was revoked or never made.")
    listing = _list(hub, user.user_id, FEED_SIZE)
    feed = FeedList(
        title=f"For {user.name}",
        description="Papers picked for one reader from their upvotes and signals (private).",
        page_path="/for-you",
        entries=[
            FeedEntry(paper, paper.announced or listing.until, pick.reason)
            for paper, pick in listing.picks
        ],
    )
    body = render_feed(request, feed, "rss" if fmt == "rss" else "atom")
    media = RSS_TYPE if fmt == "rss" else ATOM_TYPE
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"},
    )


class PickPublic(BaseModel):
    paper: PaperPublic
    score: float = Field(description="Higher first; comparable within one list only")
    reason: str = Field(description="Why it is here, e.g. because you upvoted “…”")


class ForYouPublic(BaseModel):
    since: str | None = Field(description="First day of the window ranked (ISO date)")
    until: str | None = Field(description="Last day of the window ranked (ISO date)")
    picks: list[PickPublic]


@api_router.get("/for-you", response_model=ForYouPublic)
def api_for_you(
    request: Request,
    hub: HubDep,
    user: ApiUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ForYouPublic:
    """The token owner's For you picks of the week, best first, each with its reason."""
    listing = _list(hub, user.user_id, limit)
    ids = [paper.paper_id for paper, _ in listing.picks]
    with hub.db.read() as conn:
        stats = card_stats(conn, ids, user_id=user.user_id)
    return ForYouPublic(
        since=listing.since.isoformat() if listing.since else None,
        until=listing.until.isoformat() if listing.until else None,
        picks=[
            PickPublic(
                paper=paper_public(request, paper, stats[paper.paper_id]),
                score=round(pick.score, 6),
                reason=pick.reason,
            )
            for paper, pick in listing.picks
        ],
    )


class TopicsPublic(BaseModel):
    categories: list[str] = Field(
        default_factory=list,
        max_length=MAX_CATEGORIES,
        description=f"arXiv categories the hub has papers in (at most {MAX_CATEGORIES})",
    )
    searches: list[str] = Field(
        default_factory=list,
        max_length=MAX_SEARCHES,
        description=f"Saved searches, each at most {MAX_SEARCH_CHARS} characters "
        f"(at most {MAX_SEARCHES})",
    )


@api_router.get("/for-you/topics", response_model=TopicsPublic)
def api_topics(hub: HubDep, user: ApiUser) -> TopicsPublic:
    """The token owner's chosen categories and saved searches (For you's topics)."""
    topics = show_topics(db=hub.db, user_id=user.user_id)
    return TopicsPublic(categories=list(topics.categories), searches=list(topics.searches))


@api_router.put(
    "/for-you/topics",
    response_model=TopicsPublic,
    responses={400: {"description": "Not a category of this hub, or a search too long"}, 429: {}},
)
def api_set_topics(hub: HubDep, user: ApiUser, body: TopicsPublic) -> TopicsPublic:
    """Replace the token owner's categories and saved searches (all or nothing)."""
    ratelimit.enforce(hub, TOPICS_PER_USER, str(user.user_id))
    try:
        topics = set_reader_topics(
            db=hub.db,
            search_index=hub.search_index,
            user_id=user.user_id,
            categories=body.categories,
            searches=body.searches,
        )
    except TopicError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return TopicsPublic(categories=list(topics.categories), searches=list(topics.searches))
