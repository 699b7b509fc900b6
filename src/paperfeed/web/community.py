"""Community pages and forms: upvotes, comments, collections, featuring by curators, settings
(display name, API tokens) and user roles; each route calls one `paperfeed.community` service.

Every form posts back here with a CSRF token (csrf.py) and answers with a 303 to the page it
came from (`next`, same-site only), so it works without JavaScript and Back does not re-post.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.community import accounts, authors, collections, comments, notifications
from paperfeed.community.accounts import Role, User
from paperfeed.community.comments import MAX_COMMENT_CHARS, CommentRefused, NoSuchComment
from paperfeed.community.featuring import feature_paper, today, unfeature_paper
from paperfeed.community.limits import RateLimited
from paperfeed.community.links import LinksRefused, NotAllowed, edit_links
from paperfeed.community.papers import NoSuchPaper
from paperfeed.community.upvotes import upvote as cast_upvote
from paperfeed.hub import Hub
from paperfeed.web import ratelimit
from paperfeed.web.auth import Admin, Curator, CurrentUser, OptionalUser, safe_next
from paperfeed.web.deps import HubDep, RowId
from paperfeed.web.rendering import paper_url, templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

MAX_NAME = 200
MAX_DESCRIPTION = 2000


def _back(next_path: str | None, fallback: str = "/") -> RedirectResponse:
    return RedirectResponse(safe_next(next_path or fallback), status_code=303)


def _no_paper(paper_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"There is no paper “{paper_id[:80]}” here.")


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
    try:
        cast_upvote(db=hub.db, user_id=user.user_id, paper_id=paper_id, on=action != "remove")
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    return _back(next, paper_url(paper_id))


# Code and project links


@router.post("/papers/{paper_id:path}/links", name="edit_links")
def post_links(
    hub: HubDep,
    user: CurrentUser,
    paper_id: str,
    github_repo: Annotated[str, Form(max_length=1000)] = "",
    project_page: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Set the paper's repository and project page (its submitter or a curator)."""
    try:
        edit_links(
            db=hub.db,
            paper_id=paper_id,
            user=user,
            github_repo=github_repo,
            project_page=project_page,
        )
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    except NotAllowed as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except LinksRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse(f"{paper_url(paper_id)}#links-title", status_code=303)


# Comments


@router.post("/papers/{paper_id:path}/comments", name="add_comment")
def post_comment(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    paper_id: str,
    body: Annotated[str, Form(max_length=MAX_COMMENT_CHARS * 2)] = "",
    parent_id: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    """Comment on a paper, or (with `parent_id`) reply to one of its comments."""
    try:
        comment_id = comments.add_comment(
            db=hub.db, user_id=user.user_id, paper_id=paper_id, body=body, parent_id=parent_id
        )
    except CommentRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    except NoSuchComment:
        raise HTTPException(
            status_code=404, detail="That comment is gone; it can no longer be replied to."
        ) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse(f"{paper_url(paper_id)}#comment-{comment_id}", status_code=303)


_NO_COMMENT = "You have no such comment."


@router.get("/comments/{comment_id}/edit", name="edit_comment")
def edit_comment_page(
    request: Request, hub: HubDep, user: CurrentUser, comment_id: RowId
) -> Response:
    try:
        comment = comments.own_comment(db=hub.db, comment_id=comment_id, user_id=user.user_id)
    except NoSuchComment:
        raise HTTPException(status_code=404, detail=_NO_COMMENT) from None
    context = {"comment": comment, "max_chars": MAX_COMMENT_CHARS}
    return templates.TemplateResponse(request, "community/comment_edit.html", context)


@router.post("/comments/{comment_id}/edit")
def save_comment(
    hub: HubDep,
    user: CurrentUser,
    comment_id: RowId,
    body: Annotated[str, Form(max_length=MAX_COMMENT_CHARS * 2)] = "",
) -> Response:
    try:
        comment = comments.edit_comment(
            db=hub.db, comment_id=comment_id, user_id=user.user_id, body=body
        )
    except NoSuchComment:
        raise HTTPException(status_code=404, detail=_NO_COMMENT) from None
    except CommentRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comment-{comment_id}", status_code=303)


@router.post("/comments/{comment_id}/delete", name="delete_comment")
def remove_comment(hub: HubDep, user: CurrentUser, comment_id: RowId) -> Response:
    try:
        comment = comments.delete_comment(db=hub.db, comment_id=comment_id, user_id=user.user_id)
    except NoSuchComment:
        raise HTTPException(status_code=404, detail=_NO_COMMENT) from None
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comments", status_code=303)


@router.post("/comments/{comment_id}/hide", name="hide_comment")
def hide_comment(
    hub: HubDep,
    user: Curator,
    comment_id: RowId,
    hidden: Annotated[str, Form()] = "1",
) -> Response:
    """Curators hide a comment from readers (or show it again); it is kept, not deleted."""
    try:
        comment = comments.hide_comment(
            db=hub.db, comment_id=comment_id, moderator_id=user.user_id, hidden=hidden == "1"
        )
    except NoSuchComment:
        raise HTTPException(status_code=404, detail="There is no such comment.") from None
    return RedirectResponse(f"{paper_url(comment.paper_id)}#comment-{comment_id}", status_code=303)


# Featuring by curators (submissions by members are in submit.py)


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
    try:
        if action == "remove":
            unfeature_paper(db=hub.db, paper_id=paper_id, day=when)
        else:
            feature_paper(db=hub.db, paper_id=paper_id, day=when, user_id=user.user_id)
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    return RedirectResponse(f"{paper_url(paper_id)}#featured", status_code=303)


# Collections


@router.get("/collections", name="collections")
def collections_page(request: Request, hub: HubDep, user: OptionalUser) -> Response:
    mine, public = collections.overview(db=hub.db, user_id=user.user_id if user else None)
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
    try:
        made = collections.create_collection(
            db=hub.db,
            user_id=user.user_id,
            name=clean,
            description=text,
            is_public=bool(public),
            paper_id=paper_id,
        )
    except collections.DuplicateName as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="There is no such paper.") from None
    return _back(next, f"/collections/{made.collection_id}")


@router.get("/collections/{collection_id:int}", name="collection")
def collection_page(
    request: Request, hub: HubDep, user: OptionalUser, collection_id: RowId
) -> Response:
    try:
        shown = collections.collection_page(
            db=hub.db, collection_id=collection_id, user_id=user.user_id if user else None
        )
    except collections.NoSuchCollection:
        # Private collections are not found, rather than forbidden: their names stay private.
        raise HTTPException(status_code=404, detail="There is no such collection.") from None
    context = {
        "section": "collections",
        "collection": shown.collection,
        "items": shown.items,
        "stats": shown.stats,
        "notes": shown.notes,
        "unread": shown.unread,
        "max_note_chars": collections.MAX_NOTE_CHARS,
        "owner": user is not None and user.user_id == shown.collection.user_id,
    }
    return templates.TemplateResponse(request, "community/collection.html", context)


_NOT_YOURS = "You have no such collection."


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
    try:
        collections.update_collection(
            db=hub.db,
            collection_id=collection_id,
            user_id=user.user_id,
            name=clean,
            description=text,
            is_public=bool(public),
        )
    except collections.DuplicateName as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail=_NOT_YOURS) from None
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id:int}/delete")
def remove_collection(hub: HubDep, user: CurrentUser, collection_id: RowId) -> Response:
    try:
        collections.delete_collection(db=hub.db, collection_id=collection_id, user_id=user.user_id)
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail=_NOT_YOURS) from None
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
    try:
        collections.collect(
            db=hub.db,
            collection_id=collection_id,
            user_id=user.user_id,
            paper_id=paper_id,
            present=action != "remove",
        )
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail=_NOT_YOURS) from None
    return _back(next, f"/collections/{collection_id}")


_NOT_COLLECTED = "That paper is not in this collection."


def item_anchor(paper_id: str) -> str:
    """The id of a paper's row on a collection page (a fragment needs no "/")."""
    return "item-" + paper_id.replace("/", "-")


def _annotate(
    hub: Hub,
    user: User,
    collection_id: int,
    paper_id: str,
    *,
    note: str | None = None,
    read: bool | None = None,
) -> Response:
    try:
        collections.annotate(
            db=hub.db,
            collection_id=collection_id,
            user_id=user.user_id,
            paper_id=paper_id,
            note=note,
            read=read,
        )
    except collections.NoteRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    except collections.NoSuchCollection:
        raise HTTPException(status_code=404, detail=_NOT_YOURS) from None
    except collections.NotInCollection:
        raise HTTPException(
            status_code=404, detail="That paper is not in this collection."
        ) from None
    return RedirectResponse(
        f"/collections/{collection_id}#{item_anchor(paper_id)}", status_code=303
    )


@router.post("/collections/{collection_id:int}/notes", name="collection_note")
def save_note(
    hub: HubDep,
    user: CurrentUser,
    collection_id: RowId,
    paper_id: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=collections.MAX_NOTE_CHARS * 2)] = "",
) -> Response:
    """The owner writes (or, empty, clears) their note on one paper of the collection."""
    return _annotate(hub, user, collection_id, paper_id, note=note)


@router.post("/collections/{collection_id:int}/read", name="collection_read")
def mark_read(
    hub: HubDep,
    user: CurrentUser,
    collection_id: RowId,
    paper_id: Annotated[str, Form(max_length=64)] = "",
    read: Annotated[str, Form()] = "1",
) -> Response:
    """The owner marks one paper of the collection read (read=1) or unread (read=0)."""
    return _annotate(hub, user, collection_id, paper_id, read=read != "0")


# Settings: display name and API tokens


def _settings_page(
    request: Request, hub: Hub, user: User, *, new_token: str | None = None, status: int = 200
) -> Response:
    tokens = accounts.list_api_tokens(db=hub.db, user_id=user.user_id)
    context = {
        "section": "settings",
        "me_user": user,
        "tokens": tokens,
        "new_token": new_token,
        "notify_email": notifications.email_enabled(db=hub.db, user_id=user.user_id),
        "notify_every": int(hub.settings.notify_mail_every_minutes),
        "my_authors": authors.my_papers(db=hub.db, user_id=user.user_id),
        "claims": authors.claims_of(db=hub.db, user_id=user.user_id),
        "follows": authors.follows(db=hub.db, user_id=user.user_id),
    }
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
    accounts.set_display_name(db=hub.db, user_id=user.user_id, name=name)
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
    token = accounts.create_api_token(db=hub.db, user_id=user.user_id, name=label)
    response = _settings_page(request, hub, user, new_token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(hub: HubDep, user: CurrentUser, token_id: RowId) -> Response:
    accounts.revoke_api_token(db=hub.db, user_id=user.user_id, token_id=token_id)
    return RedirectResponse("/settings", status_code=303)


# Roles (admins)


@router.get("/admin/users", name="admin_users")
def users_page(request: Request, hub: HubDep, user: Admin) -> Response:
    everyone = accounts.list_users(db=hub.db)
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
    try:
        accounts.change_role(db=hub.db, user_id=user_id, role=new_role)
    except accounts.NoSuchUser:
        raise HTTPException(status_code=404, detail="There is no such user.") from None
    return RedirectResponse("/admin/users", status_code=303)
