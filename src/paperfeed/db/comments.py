"""Comments in the store: readers' comments on papers and their replies, the members they
@mention, and curators hiding them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from paperfeed.db.schema import comment_mentions, comments, users, utc_now
from paperfeed.db.users import public_name

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
    parent_id: int | None = None
    handle: str | None = None
    deleted: bool = False
    # The members it mentions, by the handle as written (lower case): their user ids.
    mentions: dict[str, int] = field(default_factory=dict)


def add_comment(
    conn: Connection, paper_id: str, user_id: int, body: str, parent_id: int | None = None
) -> int:
    result = conn.execute(
        insert(comments).values(
            paper_id=paper_id,
            user_id=user_id,
            body=body,
            created_at=utc_now(),
            parent_id=parent_id,
        )
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


def thread_comments(conn: Connection, paper_id: str) -> list[Comment]:
    """Every comment of a paper, hidden and deleted ones too (the service blanks them for
    readers, so replies keep their context), oldest first."""
    return _comment_rows(conn, comments.c.paper_id == paper_id)


def comments_by(conn: Connection, user_id: int, *, limit: int = 20) -> list[Comment]:
    """A member's latest visible comments, newest first."""
    condition = and_(
        comments.c.user_id == user_id,
        comments.c.hidden_at.is_(None),
        comments.c.deleted_at.is_(None),
    )
    return _comment_rows(conn, condition, newest_first=True, limit=limit)


def _comment_rows(
    conn: Connection, condition: Any, *, newest_first: bool = False, limit: int | None = None
) -> list[Comment]:
    order = (comments.c.created_at, comments.c.comment_id)
    query = (
        select(comments, users.c.handle, users.c.display_name)
        .join(users, users.c.user_id == comments.c.user_id)
        .where(condition)
        .order_by(*(c.desc() for c in order) if newest_first else order)
        .limit(limit)
    )
    rows = list(conn.execute(query))
    mentions = mentions_of(conn, [r.comment_id for r in rows])
    return [
        Comment(
            r.comment_id,
            r.paper_id,
            r.user_id,
            r.display_name or public_name(r.handle, r.user_id),
            r.body,
            r.created_at,
            r.edited_at,
            r.hidden_at is not None,
            r.parent_id,
            r.handle,
            r.deleted_at is not None,
            mentions.get(r.comment_id, {}),
        )
        for r in rows
    ]


def mentions_of(conn: Connection, comment_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """The mentions of each comment: handle as written → user id."""
    found: dict[int, dict[str, int]] = {}
    if not comment_ids:
        return found
    rows = conn.execute(
        select(comment_mentions).where(comment_mentions.c.comment_id.in_(list(comment_ids)))
    )
    for row in rows:
        found.setdefault(row.comment_id, {})[row.handle] = row.user_id
    return found


def record_mentions(conn: Connection, comment_id: int, mentioned: dict[str, int]) -> set[int]:
    """Keep exactly these mentions for a comment; return the user ids newly mentioned."""
    before = {v for v in mentions_of(conn, [comment_id]).get(comment_id, {}).values()}
    conn.execute(delete(comment_mentions).where(comment_mentions.c.comment_id == comment_id))
    seen: set[int] = set()
    for handle, user_id in mentioned.items():
        if user_id in seen:
            continue
        seen.add(user_id)
        conn.execute(
            insert(comment_mentions).values(comment_id=comment_id, user_id=user_id, handle=handle)
        )
    return seen - before


def has_replies(conn: Connection, comment_id: int) -> bool:
    count = conn.scalar(
        select(func.count()).select_from(comments).where(comments.c.parent_id == comment_id)
    )
    return bool(count)


def edit_comment(conn: Connection, comment_id: int, user_id: int, body: str) -> bool:
    """Change the text of one's own comment; False if it is not theirs (or gone)."""
    result = conn.execute(
        update(comments)
        .where(
            comments.c.comment_id == comment_id,
            comments.c.user_id == user_id,
            comments.c.deleted_at.is_(None),
        )
        .values(body=body, edited_at=utc_now())
    )
    return result.rowcount == 1


def delete_comment(conn: Connection, comment_id: int, user_id: int) -> bool:
    """Delete one's own comment; one with replies is blanked instead, so they keep their
    place in the thread."""
    mine = and_(comments.c.comment_id == comment_id, comments.c.user_id == user_id)
    if has_replies(conn, comment_id):
        result = conn.execute(update(comments).where(mine).values(body="", deleted_at=utc_now()))
        conn.execute(delete(comment_mentions).where(comment_mentions.c.comment_id == comment_id))
    else:
        result = conn.execute(delete(comments).where(mine))
    return result.rowcount == 1


def set_comment_hidden(
    conn: Connection, comment_id: int, moderator_id: int, *, hidden: bool
) -> bool:
    values = {"hidden_at": utc_now(), "hidden_by": moderator_id} if hidden else {"hidden_at": None}
    result = conn.execute(
        update(comments).where(comments.c.comment_id == comment_id).values(values)
    )
    return result.rowcount == 1
