"""Conversation pages and forms: notifications (page, read marks, mail setting, one-click
unsubscribe), members' pages and handles, reports on comments and the curators' queue.
Replies post through the comment form (community.py) with a `parent_id`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.community import accounts, notifications, reports
from paperfeed.community.comments import NoSuchComment
from paperfeed.community.limits import RateLimited
from paperfeed.db.comments import comments_by
from paperfeed.web import ratelimit
from paperfeed.web.auth import Curator, CurrentUser, OptionalUser, safe_next
from paperfeed.web.deps import HubDep, RowId
from paperfeed.web.rendering import paper_url, templates

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

_MAX_PAGE = 1000


# Notifications


@router.get("/notifications", name="notifications")
def notifications_page(
    request: Request,
    hub: HubDep,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=_MAX_PAGE)] = 1,
    unread: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    found, unread_count = notifications.notifications_page(
        db=hub.db, user_id=user.user_id, page=page, unread_only=unread == "1"
    )
    context = {
        "section": "notifications",
        "notifications": found[: notifications.PAGE_SIZE],
        "more": len(found) > notifications.PAGE_SIZE,
        "page": page,
        "unread_only": unread == "1",
        "unread_count": unread_count,
        "email_on": notifications.email_enabled(db=hub.db, user_id=user.user_id),
    }
    response = templates.TemplateResponse(request, "community/notifications.html", context)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.post("/notifications/read", name="notifications_read")
def read_notifications(
    hub: HubDep,
    user: CurrentUser,
    notification_id: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Mark one notification read (`notification_id`), or all of them."""
    notifications.mark_read(
        db=hub.db,
        user_id=user.user_id,
        ids=[notification_id] if notification_id is not None else None,
    )
    return RedirectResponse(safe_next(next or "/notifications"), status_code=303)


@router.post("/settings/notifications")
def save_notification_mail(
    hub: HubDep, user: CurrentUser, email: Annotated[str, Form(max_length=1)] = ""
) -> Response:
    """Turn notification mail on (email=1) or off."""
    notifications.set_email(db=hub.db, user_id=user.user_id, on=email == "1")
    return RedirectResponse("/settings#notifications-title", status_code=303)


_BAD_LINK = "This unsubscribe link is not valid. Turn notification mail off in your settings."


@router.get("/notifications/unsubscribe/{token}", name="notifications_unsubscribe")
def unsubscribe_page(request: Request, hub: HubDep, token: str) -> Response:
    """Ask (mail scanners open links): the POST below unsubscribes."""
    if notifications.token_user(db=hub.db, token=token) is None:
        raise HTTPException(status_code=404, detail=_BAD_LINK)
    context = {"token": token, "done": False}
    return templates.TemplateResponse(request, "community/notify_unsubscribe.html", context)


@router.post("/notifications/unsubscribe/{token}")
def unsubscribe(request: Request, hub: HubDep, token: str) -> Response:
    """RFC 8058 one-click unsubscribe (CSRF-exempt: mail clients post without cookies)."""
    if not notifications.unsubscribe(db=hub.db, token=token):
        raise HTTPException(status_code=404, detail=_BAD_LINK)
    context = {"token": token, "done": True}
    return templates.TemplateResponse(request, "community/notify_unsubscribe.html", context)


# Members and handles


@router.get("/members/{user_id}", name="member")
def member_page(request: Request, hub: HubDep, user: OptionalUser, user_id: RowId) -> Response:
    """A member's public page: name, @handle and latest comments (never their address)."""
    member = accounts.get_member(db=hub.db, user_id=user_id)
    if member is None:
        raise HTTPException(status_code=404, detail="There is no such member.")
    with hub.db.read() as conn:
        latest = comments_by(conn, user_id)
    context = {"member": member, "latest": latest}
    return templates.TemplateResponse(request, "community/member.html", context)


@router.post("/settings/handle")
def save_handle(
    hub: HubDep, user: CurrentUser, handle: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    try:
        accounts.set_handle(db=hub.db, user_id=user.user_id, handle=handle)
    except accounts.HandleRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except accounts.HandleTaken as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse("/settings#handle-title", status_code=303)


# Reports


@router.post("/comments/{comment_id}/report", name="report_comment")
def report(
    hub: HubDep,
    user: CurrentUser,
    comment_id: RowId,
    reason: Annotated[str, Form(max_length=reports.MAX_REASON_CHARS * 2)] = "",
) -> Response:
    """Report a comment to the curators (once per member and comment)."""
    try:
        paper_id = reports.report_comment(
            db=hub.db, user_id=user.user_id, comment_id=comment_id, reason=reason
        )
    except reports.ReportRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except NoSuchComment:
        raise HTTPException(status_code=404, detail="There is no such comment.") from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    return RedirectResponse(f"{paper_url(paper_id)}#comment-{comment_id}", status_code=303)


@router.get("/admin/reports", name="admin_reports")
def reports_page(request: Request, hub: HubDep, user: Curator) -> Response:
    context = {"section": "admin", "reported": reports.open_reports(db=hub.db)}
    return templates.TemplateResponse(request, "community/admin_reports.html", context)


@router.post("/admin/reports/{comment_id}")
def resolve_report(
    hub: HubDep, user: Curator, comment_id: RowId, action: Annotated[str, Form()] = ""
) -> Response:
    """Hide the reported comment (action=hide) or dismiss its reports (action=dismiss)."""
    try:
        if action == "hide":
            reports.hide_reported(db=hub.db, comment_id=comment_id, moderator_id=user.user_id)
        elif action == "dismiss":
            reports.dismiss_reports(db=hub.db, comment_id=comment_id, moderator_id=user.user_id)
        else:
            raise HTTPException(status_code=400, detail="Choose hide or dismiss.")
    except NoSuchComment:
        raise HTTPException(status_code=404, detail="No open report on that comment.") from None
    return RedirectResponse("/admin/reports", status_code=303)
