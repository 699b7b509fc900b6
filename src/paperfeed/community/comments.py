"""Comments: readers write, edit and delete their own; curators hide them (kept, not deleted)."""

from __future__ import annotations

from paperfeed.community import limits
from paperfeed.community.papers import active_paper
from paperfeed.db import comments as store
from paperfeed.db.comments import MAX_COMMENT_CHARS, Comment
from paperfeed.db.engine import Database

__all__ = [
    "MAX_COMMENT_CHARS",
    "Comment",
    "CommentRefused",
    "NoSuchComment",
    "add_comment",
    "comment_text",
    "delete_comment",
    "edit_comment",
    "hide_comment",
    "own_comment",
]


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
    return text


def add_comment(*, db: Database, user_id: int, paper_id: str, body: str) -> int:
    """Comment on an active paper; return the new comment's id.

    Raises `CommentRefused`, `NoSuchPaper` or `RateLimited` (in that order of checking).
    """
    text = comment_text(body)
    active_paper(db=db, paper_id=paper_id)
    limits.hit(db=db, limit=limits.COMMENT_PER_USER, who=str(user_id))
    with db.write() as conn:
        return store.add_comment(conn, paper_id, user_id, text)


def own_comment(*, db: Database, comment_id: int, user_id: int) -> Comment:
    """The reader's own comment; `NoSuchComment` if it is gone or someone else's."""
    with db.read() as conn:
        comment = store.get_comment(conn, comment_id)
    if comment is None or comment.user_id != user_id:
        raise NoSuchComment(comment_id)
    return comment


def edit_comment(*, db: Database, comment_id: int, user_id: int, body: str) -> Comment:
    """Change the text of one's own comment; return the comment as it was before."""
    comment = own_comment(db=db, comment_id=comment_id, user_id=user_id)
    text = comment_text(body)
    with db.write() as conn:
        store.edit_comment(conn, comment_id, user_id, text)
    return comment


def delete_comment(*, db: Database, comment_id: int, user_id: int) -> Comment:
    """Delete one's own comment; return it as it was."""
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
