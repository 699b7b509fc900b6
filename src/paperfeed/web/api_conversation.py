"""The JSON API of the conversation: a paper's comments as a thread (public), commenting and
replying, and the token owner's notifications with their read marks (Bearer tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from paperfeed.community import comments as comment_service
from paperfeed.community import notifications
from paperfeed.community.comments import MAX_COMMENT_CHARS, CommentRefused, NoSuchComment
from paperfeed.community.limits import RateLimited
from paperfeed.community.papers import NoSuchPaper, active_paper, paper_community
from paperfeed.community.threads import ThreadEntry
from paperfeed.web import ratelimit
from paperfeed.web.api_community import ApiUser
from paperfeed.web.deps import HubDep

router = APIRouter(prefix="/api", tags=["community"])

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid `Authorization: Bearer` token"}
}


class CommentOut(BaseModel):
    id: int
    parent_id: int | None = Field(description="The comment it replies to; null: top level")
    depth: int = Field(description="Its depth in the thread as the page shows it (0: top)")
    author: str | None = Field(description="Display name or @handle; null when removed")
    handle: str | None = Field(description="The author's @handle; null when removed")
    body: str | None = Field(description="Plain text; null for a hidden or deleted comment")
    removed: bool = Field(
        description="Hidden by a curator or deleted, kept only because replies need it"
    )
    mentions: list[str] = Field(description="The handles it mentions, as members")
    created_at: dt.datetime
    edited_at: dt.datetime | None


class CommentsOut(BaseModel):
    paper_id: str
    count: int = Field(description="Visible comments")
    comments: list[CommentOut] = Field(description="Depth-first: each reply after its parent")


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS * 2)
    parent_id: int | None = Field(
        default=None, ge=1, le=2**62, description="Reply to this comment of the same paper"
    )


def _comment(entry: ThreadEntry) -> CommentOut:
    c = entry.comment
    gone = entry.placeholder
    return CommentOut(
        id=c.comment_id,
        parent_id=c.parent_id,
        depth=entry.depth,
        author=None if gone else c.author,
        handle=None if gone else c.handle,
        body=None if gone else c.body,
        removed=gone,
        mentions=[] if gone else sorted(c.mentions),
        created_at=c.created_at,
        edited_at=None if gone else c.edited_at,
    )


@router.get("/papers/{paper_id:path}/comments", responses={404: {}})
def api_comments(hub: HubDep, paper_id: str) -> CommentsOut:
    """A paper's comments as a thread, as a signed-out reader sees them."""
    try:
        active_paper(db=hub.db, paper_id=paper_id)
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="No such paper") from None
    community = paper_community(db=hub.db, paper_id=paper_id, user=None)
    return CommentsOut(
        paper_id=paper_id,
        count=len(community.comments),
        comments=[_comment(entry) for entry in community.thread],
    )


@router.post(
    "/papers/{paper_id:path}/comments",
    status_code=201,
    responses={**_UNAUTHORIZED, 400: {}, 404: {}, 429: {}},
)
def api_add_comment(hub: HubDep, user: ApiUser, paper_id: str, body: CommentIn) -> CommentOut:
    """Comment on a paper, or reply to one of its comments (`parent_id`)."""
    try:
        comment_id = comment_service.add_comment(
            db=hub.db,
            user_id=user.user_id,
            paper_id=paper_id,
            body=body.body,
            parent_id=body.parent_id,
        )
    except CommentRefused as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except NoSuchPaper:
        raise HTTPException(status_code=404, detail="No such paper") from None
    except NoSuchComment:
        raise HTTPException(status_code=404, detail="No such comment to reply to") from None
    except RateLimited as exc:
        raise ratelimit.too_many(exc) from None
    community = paper_community(db=hub.db, paper_id=paper_id, user=None)
    entry = next(e for e in community.thread if e.comment.comment_id == comment_id)
    return _comment(entry)


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="reply, mention or activity (a comment on your paper)")
    paper_id: str
    paper_title: str
    comment_id: int
    excerpt: str
    actor: str = Field(description="Who wrote the comment")
    created_at: dt.datetime
    read: bool


class NotificationsOut(BaseModel):
    unread: int
    notifications: list[NotificationOut] = Field(description="Newest first, 50 a page")
    next_page: int | None


class ReadIn(BaseModel):
    ids: list[int] | None = Field(
        default=None, max_length=500, description="These notifications; absent: all of them"
    )


class ReadOut(BaseModel):
    marked: int
    unread: int


@router.get("/notifications", responses=_UNAUTHORIZED)
def api_notifications(
    hub: HubDep,
    user: ApiUser,
    page: int = Query(default=1, ge=1, le=1000),
    unread: bool = False,
) -> NotificationsOut:
    """Your notifications: replies to your comments, mentions, comments on your papers."""
    found, unread_count = notifications.notifications_page(
        db=hub.db, user_id=user.user_id, page=page, unread_only=unread
    )
    return NotificationsOut(
        unread=unread_count,
        notifications=[
            NotificationOut(
                id=n.notification_id,
                kind=n.kind,
                paper_id=n.paper_id,
                paper_title=n.paper_title,
                comment_id=n.comment_id,
                excerpt=n.excerpt,
                actor=n.actor,
                created_at=n.created_at,
                read=n.read,
            )
            for n in found[: notifications.PAGE_SIZE]
        ],
        next_page=page + 1 if len(found) > notifications.PAGE_SIZE else None,
    )


@router.post("/notifications/read", responses=_UNAUTHORIZED)
def api_read(hub: HubDep, user: ApiUser, body: ReadIn) -> ReadOut:
    """Mark notifications read: `ids`, or all of them."""
    marked = notifications.mark_read(db=hub.db, user_id=user.user_id, ids=body.ids)
    return ReadOut(
        marked=marked, unread=notifications.unread_count(db=hub.db, user_id=user.user_id)
    )
