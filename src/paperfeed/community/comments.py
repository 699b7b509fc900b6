"""Comments: readers write, reply to, edit and delete their own, @mention members; curators
hide them (kept, not deleted). Each new comment notifies whom it concerns
(community/notifications.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from paperfeed.community import limits
from paperfeed.community.notifications import notify_comment
from paperfeed.community.papers import active_paper
from paperfeed.community.threads import MAX_DEPTH, ThreadEntry, comment_thread
from paperfeed.db import comments as store
from paperfeed.db.comments import MAX_COMMENT_CHARS, Comment
from paperfeed.db.engine import Database
from paperfeed.db.schema import utc_now
from paperfeed.db.users import users_by_handles
from paperfeed.handles import mentioned_handles

__all__ = [
    "MAX_COMMENT_CHARS",
    "MAX_DEPTH",
    "MAX_MENTIONS",
    "Comment",
    "CommentRefused",
    "NoSuchComment",
    "ThreadEntry",
    "add_comment",
    "comment_text",
    "comment_thread",
    "delete_comment",
    "edit_comment",
    "hide_comment",
    "own_comment",
]

# Mentions notify members: more than a few in one comment is a broadcast, not a conversation.
MAX_MENTIONS = 10


class CommentRefused(ValueError):
    """The text cannot be a comment; the message says why, for the reader."""


class NoSuchComment(LookupError):
    """No such comment (or, for edits and deletes, not the reader's own)."""


def comment_text(body: str) -> str:
    """The text of a comment as stored (line ends unified, trimmed); `CommentRefused` if empty
    or too long."""
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise CommentRefused("A comment needs some text.")
    if len(text) > MAX_COMMENT_CHARS:
        raise CommentRefused(f"Comments are at most {MAX_COMMENT_CHARS} characters.")
    if len(mentioned_handles(text)) > MAX_MENTIONS:
        raise CommentRefused(f"A comment may mention at most {MAX_MENTIONS} members.")
    return text


def _mentions(conn: Connection, text: str, author_id: int) -> dict[str, int]:
    found = users_by_handles(conn, mentioned_handles(text))
    return {handle: user.user_id for handle, user in found.items() if user.user_id != author_id}


def add_comment(
    *, db: Database, user_id: int, paper_id: str, body: str, parent_id: int | None = None
) -> int:
    """Comment on an active paper (or reply to one of its comments); return the new id.

    Raises `CommentRefused`, `NoSuchPaper`, `NoSuchComment` (a parent that is not a visible
    comment of this paper) or `RateLimited` (in that order of checking).
    """
    text = comment_text(body)
    active_paper(db=db, paper_id=paper_id)
    parent: Comment | None = None
    if parent_id is not None:
        with db.read() as conn:
            parent = store.get_comment(conn, parent_id)
        if parent is None or parent.paper_id != paper_id or parent.hidden or parent.deleted:
            raise NoSuchComment(parent_id)
    limits.hit(db=db, limit=limits.COMMENT_PER_USER, who=str(user_id))
    with db.write() as conn:
        comment_id = store.add_comment(conn, paper_id, user_id, text, parent_id)
        mentioned = store.record_mentions(conn, comment_id, _mentions(conn, text, user_id))
        notify_comment(
            conn,
            paper_id=paper_id,
            comment_id=comment_id,
            actor_id=user_id,
            parent_author=parent.user_id if parent else None,
            mentioned=mentioned,
            now=utc_now(),
        )
    return comment_id


def own_comment(*, db: Database, comment_id: int, user_id: int) -> Comment:
    """The reader's own comment; `NoSuchComment` if it is gone or someone else's."""
    with db.read() as conn:
        comment = store.get_comment(conn, comment_id)
    if comment is None or comment.user_id != user_id or comment.deleted:
        raise NoSuchComment(comment_id)
    return comment


def edit_comment(*, db: Database, comment_id: int, user_id: int, body: str) -> Comment:
    """Change the text of one's own comment; return the comment as it was before. Members
    newly mentioned are notified (once per comment, as for a new one)."""
    comment = own_comment(db=db, comment_id=comment_id, user_id=user_id)
    text = comment_text(body)
    with db.write() as conn:
        store.edit_comment(conn, comment_id, user_id, text)
        mentioned = store.record_mentions(conn, comment_id, _mentions(conn, text, user_id))
        notify_comment(
            conn,
            paper_id=comment.paper_id,
            comment_id=comment_id,
            actor_id=user_id,
            parent_author=None,
            mentioned=mentioned,
            now=utc_now(),
            watchers=False,
        )
    return comment


def delete_comment(*, db: Database, comment_id: int, user_id: int) -> Comment:
    """Delete one's own comment (one with replies is blanked, so they keep their place);
    return it as it was."""
    comment = own_comment(db=db, comment_id=comment_id, user_id=user_id)
    with db.write() as conn:
        store.delete_comment(conn, comment_id, user_id)
    return comment


def hide_comment(*, db: Database, comment_id: int, moderator_id: int, hidden: bool) -> Comment:
    """Hide a comment from readers (or show it again), as a curator; `NoSuchComment` if gone."""
    with db.write() as conn:
        comment = store.get_comment(conn, comment_id)
        if comment is None:
            raise NoSuchComment(comment_id)
        store.set_comment_hidden(conn, comment_id, moderator_id, hidden=hidden)
    return comment
