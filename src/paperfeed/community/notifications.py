"""Notifications: who is told of a new comment (the parent's author of a reply, the members
it @mentions, the paper's watchers), the notifications page's reads and read marks, and each
member's mail setting with its one-click unsubscribe link."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable

from sqlalchemy import Connection

from paperfeed.db import notifications as store
from paperfeed.db.authors import paper_claimants
from paperfeed.db.engine import Database
from paperfeed.db.notifications import ACTIVITY, MENTION, REPLY, Notification
from paperfeed.db.schema import utc_now
from paperfeed.db.sessions import site_key

__all__ = [
    "Notification",
    "email_enabled",
    "mark_read",
    "notifications_page",
    "notify_comment",
    "notify_paper_watchers",
    "paper_watchers",
    "set_email",
    "unread_count",
    "unsubscribe",
    "unsubscribe_token",
]

PAGE_SIZE = 50
LINK_KEY = "notify-links"  # the site key that signs unsubscribe links
_SIGNED = re.compile(r"^([0-9]{1,18})\.([A-Za-z0-9_-]{24})$")


def paper_watchers(conn: Connection, *, paper_id: str) -> set[int]:
    """The members told of every comment on a paper: its submitters and the members whose
    approved claim of an author page names one of its authors."""
    return set(store.submitters(conn, paper_id)) | paper_claimants(conn, paper_id)


def notify_paper_watchers(
    conn: Connection, *, paper_id: str, comment_id: int, actor_id: int, now: dt.datetime
) -> list[int]:
    """Tell the paper's watchers (`paper_watchers`) of a comment on it, as `activity`; members
    already told of this comment (as the replied-to or mentioned) are not told twice."""
    watchers = paper_watchers(conn, paper_id=paper_id)
    return store.add_notifications(
        conn,
        recipients=dict.fromkeys(watchers, ACTIVITY),
        paper_id=paper_id,
        comment_id=comment_id,
        actor_id=actor_id,
        now=now,
    )


def notify_comment(
    conn: Connection,
    *,
    paper_id: str,
    comment_id: int,
    actor_id: int,
    parent_author: int | None,
    mentioned: Iterable[int],
    now: dt.datetime,
    watchers: bool = True,
) -> None:
    """Notify of a new (or edited) comment, in its write transaction: the replied-to author
    (`reply`), then the mentioned (`mention`), then the paper's watchers (`activity`); one
    notification per member and comment, the first reason wins."""
    recipients: dict[int, str] = {}
    for user_id in mentioned:
        recipients[user_id] = MENTION
    if parent_author is not None:
        recipients[parent_author] = REPLY
    store.add_notifications(
        conn,
        recipients=recipients,
        paper_id=paper_id,
        comment_id=comment_id,
        actor_id=actor_id,
        now=now,
    )
    if watchers:
        notify_paper_watchers(
            conn, paper_id=paper_id, comment_id=comment_id, actor_id=actor_id, now=now
        )


def notifications_page(
    *, db: Database, user_id: int, page: int = 1, unread_only: bool = False
) -> tuple[list[Notification], int]:
    """One page of a member's notifications (newest first) and their unread count."""
    with db.read() as conn:
        found = store.list_notifications(
            conn,
            user_id,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
            unread_only=unread_only,
        )
        return found, store.unread_count(conn, user_id)


def unread_count(*, db: Database, user_id: int) -> int:
    with db.read() as conn:
        return store.unread_count(conn, user_id)


def mark_read(*, db: Database, user_id: int, ids: Iterable[int] | None) -> int:
    """Mark some (or, `ids` None, all) of a member's notifications read."""
    with db.write() as conn:
        return store.mark_read(conn, user_id, ids=ids, now=utc_now())


def email_enabled(*, db: Database, user_id: int) -> bool:
    with db.read() as conn:
        return store.email_enabled(conn, user_id)


def set_email(*, db: Database, user_id: int, on: bool) -> None:
    """Turn notification mail on (only what comes after is mailed) or off."""
    with db.write() as conn:
        store.set_email(conn, user_id, on=on, now=utc_now())


def _mac(key: bytes, user_id: int) -> str:
    digest = hmac.new(key, f"notify:{user_id}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def link_key(*, db: Database) -> bytes:
    """The site key that signs unsubscribe links (made on first use)."""
    with db.write() as conn:
        return site_key(conn, LINK_KEY)


def signed_token(key: bytes, user_id: int) -> str:
    """The secret of a member's unsubscribe link: `<user id>.<HMAC>` under `key`."""
    return f"{user_id}.{_mac(key, user_id)}"


def unsubscribe_token(*, db: Database, user_id: int) -> str:
    """The secret of a member's unsubscribe link."""
    return signed_token(link_key(db=db), user_id)


def token_user(*, db: Database, token: str) -> int | None:
    """The member an unsubscribe token belongs to, or None for a forged one."""
    match = _SIGNED.match(token)
    if match is None:
        return None
    user_id = int(match.group(1))
    with db.write() as conn:
        key = site_key(conn, LINK_KEY)
    return user_id if hmac.compare_digest(_mac(key, user_id), match.group(2)) else None


def unsubscribe(*, db: Database, token: str) -> bool:
    """Turn a member's notification mail off by their link; False for a forged token."""
    user_id = token_user(db=db, token=token)
    if user_id is None:
        return False
    set_email(db=db, user_id=user_id, on=False)
    return True
