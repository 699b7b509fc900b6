"""Community pages and forms: upvotes, comments, submissions, collections, featuring by
curators, settings (display name, API tokens) and user roles.

Every form posts back here with a CSRF token (csrf.py) and answers with a 303 to the page it
came from (`next`, same-site only), so it works without JavaScript and Back does not re-post.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.db.community import (
    MAX_COMMENT_CHARS,
    DuplicateName,
    Role,
    User,
    add_comment,
    card_stats,
    collection_papers,
    create_api_token,
    create_collection,
    delete_collection,
    delete_comment,
    edit_comment,
    feature_paper,
    get_collection,
    get_comment,
    get_user,
    list_api_tokens,
    list_users,
    public_collections,
    revoke_api_token,
    set_comment_hidden,
    set_display_name,
    set_in_collection,
    set_role,
    set_upvote,
    unfeature_paper,
    update_collection,
    user_collections,
)
from paperfeed.db.papers import get_paper, upsert_papers
from paperfeed.hub import Hub
from paperfeed.models import PaperStatus
from paperfeed.web import ratelimit
from paperfeed.web.auth import Admin, Curator, CurrentUser, OptionalUser, safe_next
from paperfeed.web.deps import HubDep
from paperfeed.web.pages import paper_url, templates
from paperfeed.web.submit import ArxivFetcher, SubmitError, parse_submission

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

# Row ids in paths: positive and within SQLite's 64-bit integers (larger ones would be a 500).
RowId = Annotated[int, Path(ge=1, le=2**62)]

MAX_NAME = 200
MAX_DESCRIPTION = 2000


def _back(next_path: str | None, fallback: str = "/") -> RedirectResponse:
    return RedirectResponse(safe_next(next_path or fallback), status_code=303)


def _active_paper(hub: Hub, paper_id: str) -> None:
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id)
    if stored is None or stored.record.status is not PaperStatus.ACTIVE:
        raise HTTPException(status_code=404, detail=f"There is no paper “{paper_id[:80]}” here.")


def today() -> dt.date:
    """The day submissions are featured on (UTC, like arXiv's announcements)."""
    return dt.datetime.now(dt.UTC).date()


# Upvotes


@router.post("/papers/{paper_id:path}/upvote", name="upvote")
def upvote(
    hub: HubDep,
    user: CurrentUser,
    paper_id: str,
    action: Annotated[str, Form()] = "add",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Cast (action=add) or withdraw (action=remove) the reader's one upvote; idempotent."""
    _active_paper(hub, paper_id)
    with hub.db.write() as conn:
        set_upvote(conn, user.user_id, paper_id, on=action != "remove")
    return _back(next, paper_url(paper_id))


# Comments


def _comment_text(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise HTTPException(status_code=400, detail="A comment needs some text.")
    if len(text) > MAX_COMMENT_CHARS:
        raise HTTPException(
            status_code=400, detail=f"Comments are at most {MAX_COMMENT_CHARS} characters."
        )
    return text


@router.post("/papers/{paper_id:path}/comments", name="add_comment")
def post_comment(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    paper_id: str,
    body: Annotated[str, Form(max_length=MAX_COMMENT_CHARS * 2)] = "",
) -> Response:
    text = _comment_text(body)
    _active_paper(hub, paper_id)
    ratelimit.enforce(hub, ratelimit.COMMENT_PER_USER, str(user.user_id))
    with hub.db.write() as conn:
        comment_id = add_comment(conn, paper_id, user.user_id, text)
    return RedirectResponse(f"{paper_url(paper_id)}#comment-{comment_id}", status_code=303)


def _own_comment(hub: Hub, comment_id: int, user: User) -> Any:
    with hub.db.read() as conn:
        comment = get_comment(conn, comment_id)
    if comment is None or comment.user_id != user.user_id:
        raise HTTPException(status_code=404, detail="You have no such comment.")
    return comment


@router.get("/comments/{comment_id}/edit", name="edit_comment")
def edit_comment_page(
    request: Request, hub: HubDep, user: CurrentUser, comment_id: RowId
) -> Response:
    comment = _own_comment(hub, comment_id, user)
    context = {"comment": comment, "max_chars": MAX_COMMENT_CHARS}
    return templates.TemplateResponse(request, "community/comment_edit.html", context)


@router.post("/comments/{comment_id}/edit")
def save_comment(
    hub: HubDep,
    user: CurrentUser,
    comment_id: RowId,
    body: Annotated[str, Form(max_length=MAX_COMMENT_CHARS * 2)] = "",
) -> Response:
    comment = _own_comment(hub, comment_id, user)
    text = _comment_text(body)
    with hub.db.write() as conn:
        edit_comment(conn, comment_id, user.user_id, text)
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comment-{comment_id}", status_code=303)


@router.post("/comments/{comment_id}/delete", name="delete_comment")
def remove_comment(hub: HubDep, user: CurrentUser, comment_id: RowId) -> Response:
    comment = _own_comment(hub, comment_id, user)
    with hub.db.write() as conn:
        delete_comment(conn, comment_id, user.user_id)
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comments", status_code=303)


@router.post("/comments/{comment_id}/hide", name="hide_comment")
def hide_comment(
    hub: HubDep,
    user: Curator,
    comment_id: RowId,
    hidden: Annotated[str, Form()] = "1",
) -> Response:
    """Curators hide a comment from readers (or show it again); it is kept, not deleted."""
    with hub.db.write() as conn:
        comment = get_comment(conn, comment_id)
        if comment is None:
            raise HTTPException(status_code=404, detail="There is no such comment.")
        set_comment_hidden(conn, comment_id, user.user_id, hidden=hidden == "1")
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comment-{comment_id}", status_code=303)


# Featuring: submissions by members, any day by curators


@router.get("/submit", name="submit")
def submit_page(request: Request, user: OptionalUser) -> Response:
    context = {"section": "submit", "value": "", "error": None}
    return templates.TemplateResponse(request, "community/submit.html", context)


def submit_paper(hub: Hub, fetcher: ArxivFetcher, user: User, text: str) -> tuple[str, bool]:
    """Feature the paper `text` names today; return its id and whether it is newly featured.

    Raises SubmitError with a message for the reader.
    """
    paper_id = parse_submission(text)
    ratelimit.enforce(hub, ratelimit.SUBMIT_PER_USER, str(user.user_id))
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id, include_hidden=True)
    if stored is None:
        record = fetcher.fetch(paper_id)
        if record is None:
            raise SubmitError(f"arXiv has no paper {paper_id}.")
        with hub.db.write() as conn:
            upsert_papers(conn, [record])
    elif stored.record.status is not PaperStatus.ACTIVE:
        raise SubmitError(f"The paper {paper_id} has been withdrawn or removed.")
    with hub.db.write() as conn:
        created = feature_paper(conn, paper_id, today(), user_id=user.user_id, source="submit")
    return paper_id, created


def arxiv_fetcher(request: Request) -> ArxivFetcher:
    """The app's fetcher (tests put one with their own transport on app.state)."""
    fetcher = getattr(request.app.state, "arxiv_fetcher", None)
    if isinstance(fetcher, ArxivFetcher):
        return fetcher
    hub: Hub = request.app.state.hub
    return ArxivFetcher(hub.settings)


@router.post("/submit")
def submit(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    paper: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        paper_id, _created = submit_paper(hub, arxiv_fetcher(request), user, paper)
    except SubmitError as exc:
        context = {"section": "submit", "value": paper[:300], "error": str(exc)}
        return templates.TemplateResponse(
            request, "community/submit.html", context, status_code=400
        )
    return RedirectResponse(f"{paper_url(paper_id)}?submitted=1", status_code=303)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=400, detail="Give the day as YYYY-MM-DD.") from None


@router.post("/papers/{paper_id:path}/feature", name="feature")
def feature(
    hub: HubDep,
    user: Curator,
    paper_id: str,
    day: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "add",
) -> Response:
    """Curators feature a paper on any day, or take it off a day's feed."""
    when = _day(day) if day else today()
    _active_paper(hub, paper_id)
    with hub.db.write() as conn:
        if action == "remove":
            unfeature_paper(conn, paper_id, when)
        else:
            feature_paper(conn, paper_id, when, user_id=user.user_id, source="curator")
    return RedirectResponse(f"{paper_url(paper_id)}#featured", status_code=303)


# Collections


@router.get("/collections", name="collections")
def collections_page(request: Request, hub: HubDep, user: OptionalUser) -> Response:
    with hub.db.read() as conn:
        mine = user_collections(conn, user.user_id) if user else []
        public = public_collections(conn)
    context = {"section": "collections", "mine": mine, "public": public, "error": None}
    return templates.TemplateResponse(request, "community/collections.html", context)


def _collection_fields(name: str, description: str) -> tuple[str, str]:
    clean = " ".join(name.split())
    if not clean:
        raise HTTPException(status_code=400, detail="A collection needs a name.")
    if len(clean) > MAX_NAME or len(description) > MAX_DESCRIPTION:
        raise HTTPException(status_code=400, detail="That name or description is too long.")
    return clean, description.strip()


@router.post("/collections")
def new_collection(
    hub: HubDep,
    user: CurrentUser,
    name: Annotated[str, Form(max_length=MAX_NAME * 2)] = "",
    description: Annotated[str, Form(max_length=MAX_DESCRIPTION * 2)] = "",
    public: Annotated[str, Form()] = "",
    paper_id: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Make a collection (and, from a paper page, put that paper in it)."""
    clean, text = _collection_fields(name, description)
    with hub.db.write() as conn:
        try:
            collection_id = create_collection(
                conn, user.user_id, clean, description=text, is_public=bool(public)
            )
        except DuplicateName as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        if paper_id:
            stored = get_paper(conn, paper_id)
            if stored is None:
                raise HTTPException(status_code=404, detail="There is no such paper.")
            set_in_collection(conn, collection_id, user.user_id, paper_id, present=True)
    return _back(next, f"/collections/{collection_id}")


def _visible_collection(hub: Hub, collection_id: int, user: User | None) -> Any:
    with hub.db.read() as conn:
        collection = get_collection(conn, collection_id)
    owner = user is not None and collection is not None and collection.user_id == user.user_id
    if collection is None or not (collection.is_public or owner):
        # Private collections are not found, rather than forbidden: their names stay private.
        raise HTTPException(status_code=404, detail="There is no such collection.")
    return collection


@router.get("/collections/{collection_id:int}", name="collection")
def collection_page(
    request: Request, hub: HubDep, user: OptionalUser, collection_id: RowId
) -> Response:
    collection = _visible_collection(hub, collection_id, user)
    with hub.db.read() as conn:
        items = collection_papers(conn, collection_id)
        stats = card_stats(
            conn, [p.paper_id for p, _ in items], user_id=user.user_id if user else None
        )
    context = {
        "section": "collections",
        "collection": collection,
        "items": items,
        "stats": stats,
        "owner": user is not None and user.user_id == collection.user_id,
    }
    return templates.TemplateResponse(request, "community/collection.html", context)


@router.post("/collections/{collection_id:int}/edit")
def edit_collection(
    hub: HubDep,
    user: CurrentUser,
    collection_id: RowId,
    name: Annotated[str, Form(max_length=MAX_NAME * 2)] = "",
    description: Annotated[str, Form(max_length=MAX_DESCRIPTION * 2)] = "",
    public: Annotated[str, Form()] = "",
) -> Response:
    clean, text = _collection_fields(name, description)
    with hub.db.write() as conn:
        try:
            changed = update_collection(
                conn,
                collection_id,
                user.user_id,
                name=clean,
                description=text,
                is_public=bool(public),
            )
        except DuplicateName as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
    if not changed:
        raise HTTPException(status_code=404, detail="You have no such collection.")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id:int}/delete")
def remove_collection(hub: HubDep, user: CurrentUser, collection_id: RowId) -> Response:
    with hub.db.write() as conn:
        if not delete_collection(conn, collection_id, user.user_id):
            raise HTTPException(status_code=404, detail="You have no such collection.")
    return RedirectResponse("/collections", status_code=303)


@router.post("/collections/{collection_id:int}/papers")
def collect(
    hub: HubDep,
    user: CurrentUser,
    collection_id: RowId,
    paper_id: Annotated[str, Form(max_length=64)] = "",
    action: Annotated[str, Form()] = "add",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Put a paper in one of the reader's collections, or take it out."""
    _active_paper(hub, paper_id)
    with hub.db.write() as conn:
        changed = set_in_collection(
            conn, collection_id, user.user_id, paper_id, present=action != "remove"
        )
    if changed is None:
        raise HTTPException(status_code=404, detail="You have no such collection.")
    return _back(next, f"/collections/{collection_id}")


# Settings: display name and API tokens


def _settings_page(
    request: Request, hub: Hub, user: User, *, new_token: str | None = None, status: int = 200
) -> Response:
    with hub.db.read() as conn:
        tokens = list_api_tokens(conn, user.user_id)
    context = {"section": "settings", "me_user": user, "tokens": tokens, "new_token": new_token}
    return templates.TemplateResponse(
        request, "community/settings.html", context, status_code=status
    )


@router.get("/settings", name="settings")
def settings_page(request: Request, hub: HubDep, user: CurrentUser) -> Response:
    return _settings_page(request, hub, user)


@router.post("/settings/profile")
def save_profile(
    hub: HubDep, user: CurrentUser, display_name: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    name = " ".join(display_name.split())[:MAX_NAME] or None
    with hub.db.write() as conn:
        set_display_name(conn, user.user_id, name)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/tokens")
def new_api_token(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Make an API token and show it once (only its hash is kept)."""
    label = " ".join(name.split())[:100] or "API token"
    with hub.db.write() as conn:
        token = create_api_token(conn, user.user_id, label)
    response = _settings_page(request, hub, user, new_token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(hub: HubDep, user: CurrentUser, token_id: RowId) -> Response:
    with hub.db.write() as conn:
        revoke_api_token(conn, user.user_id, token_id)
    return RedirectResponse("/settings", status_code=303)


# Roles (admins)


@router.get("/admin/users", name="admin_users")
def users_page(request: Request, hub: HubDep, user: Admin) -> Response:
    with hub.db.read() as conn:
        everyone = list_users(conn)
    context = {"section": "admin", "users": everyone, "roles": [r.value for r in Role]}
    return templates.TemplateResponse(request, "community/admin_users.html", context)


@router.post("/admin/users/{user_id}/role")
def change_role(
    hub: HubDep, user: Admin, user_id: RowId, role: Annotated[str, Form()] = ""
) -> Response:
    try:
        new_role = Role(role)
    except ValueError:
        raise HTTPException(status_code=400, detail="No such role.") from None
    if user_id == user.user_id and new_role is not Role.ADMIN:
        # The last admin demoting themself would leave nobody to give roles back.
        raise HTTPException(
            status_code=400, detail="You cannot take away your own admin role here."
        )
    with hub.db.write() as conn:
        if get_user(conn, user_id) is None:
            raise HTTPException(status_code=404, detail="There is no such user.")
        set_role(conn, user_id, new_role)
    return RedirectResponse("/admin/users", status_code=303)
