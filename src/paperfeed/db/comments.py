"""Comments in the store: readers' comments on papers, and curators hiding them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from paperfeed.db.schema import comments, users, utc_now

MAX_COMMENT_CHARS = 5000


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    paper_id: str
    user_id: int
    author: str
    body: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    hidden: bool


def add_comment(conn: Connection, paper_id: str, user_id: int, body: str) -> int:
    result = conn.execute(
        insert(comments).values(paper_id=paper_id, user_id=user_id, body=body, created_at=utc_now())
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get_comment(conn: Connection, comment_id: int) -> Comment | None:
    rows = _comment_rows(conn, comments.c.comment_id == comment_id)
    return rows[0] if rows else None


def list_comments(conn: Connection, paper_id: str, *, include_hidden: bool) -> list[Comment]:
    """A paper's comments, oldest first; hidden ones only for moderators."""
    condition = comments.c.paper_id == paper_id
    if not include_hidden:
        condition = and_(condition, comments.c.hidden_at.is_(None))
    return _comment_rows(conn, condition)


def _comment_rows(conn: Connection, condition: Any) -> list[Comment]:
    query = (
        select(comments, users.c.email, users.c.display_name)
        .join(users, users.c.user_id == comments.c.user_id)
        .where(condition)
        .order_by(comments.c.created_at, comments.c.comment_id)
    )
    return [
        Comment(
            r.comment_id,
            r.paper_id,
            r.user_id,
            r.display_name or r.email.split("@", 1)[0],
            r.body,
            r.created_at,
            r.edited_at,
            r.hidden_at is not None,
        )
        for r in conn.execute(query)
    ]


def edit_comment(conn: Connection, comment_id: int, user_id: int, body: str) -> bool:
    """Change the text of one's own comment; False if it is not theirs (or gone)."""
    result = conn.execute(
        update(comments)
        .where(comments.c.comment_id == comment_id, comments.c.user_id == user_id)
        .values(body=body, edited_at=utc_now())
    )
    return result.rowcount == 1


def delete_comment(conn: Connection, comment_id: int, user_id: int) -> bool:
    result = conn.execute(
        delete(comments).where(comments.c.comment_id == comment_id, comments.c.user_id == user_id)
    )
    return result.rowcount == 1


def set_comment_hidden(
    conn: Connection, comment_id: int, moderator_id: int, *, hidden: bool
) -> bool:
    values = {"hidden_at": utc_now(), "hidden_by": moderator_id} if hidden else {"hidden_at": None}
    result = conn.execute(
        update(comments).where(comments.c.comment_id == comment_id).values(values)
    )
    return result.rowcount == 1
