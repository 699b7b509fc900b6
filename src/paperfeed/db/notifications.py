"""Notifications in the store: what a member is told (a reply, a mention, a comment on a paper
they submitted), read marks, their mail settings, and the mail ledger that carries them.

The ledger follows the digest's (docs/digests.md): a mail row with a fixed Message-ID is
written, and its notifications tied to it, before anything is sent; senders claim rows under a
lease; a row is marked `sending` in its own commit before the message is handed over, so a
sender that dies mid-send leaves a row nobody sends again (at most once).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from paperfeed.db.schema import (
    comments,
    feed_entries,
    notification_mails,
    notification_settings,
    notifications,
    papers,
    users,
)
from paperfeed.db.users import public_name

REPLY, MENTION, ACTIVITY = "reply", "mention", "activity"
KINDS = (REPLY, MENTION, ACTIVITY)  # one notification per member and comment: the first wins


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: int
    kind: str
    paper_id: str
    paper_title: str
    comment_id: int
    excerpt: str
    actor: str
    actor_id: int | None
    created_at: dt.datetime
    read: bool


def add_notifications(
    conn: Connection,
    *,
    recipients: dict[int, str],
    paper_id: str,
    comment_id: int,
    actor_id: int,
    now: dt.datetime,
) -> list[int]:
    """Notify each member in `recipients` (user id → kind) of a comment, once per comment;
    the comment's author is never told of their own. Return who was newly notified."""
    wanted = {uid: kind for uid, kind in recipients.items() if uid != actor_id}
    if not wanted:
        return []
    already = set(
        conn.scalars(
            select(notifications.c.user_id).where(
                notifications.c.comment_id == comment_id,
                notifications.c.user_id.in_(list(wanted)),
            )
        )
    )
    new = [uid for uid in wanted if uid not in already]
    for uid in new:
        conn.execute(
            insert(notifications).values(
                user_id=uid,
                kind=wanted[uid],
                paper_id=paper_id,
                comment_id=comment_id,
                actor_id=actor_id,
                created_at=now,
            )
        )
    return new


def _visible() -> ColumnElement[bool]:
    # A hidden or deleted comment takes its notifications off the page (and out of mail).
    return and_(comments.c.hidden_at.is_(None), comments.c.deleted_at.is_(None))


def list_notifications(
    conn: Connection, user_id: int, *, limit: int = 50, offset: int = 0, unread_only: bool = False
) -> list[Notification]:
    """A member's notifications, newest first."""
    condition = and_(notifications.c.user_id == user_id, _visible())
    if unread_only:
        condition = and_(condition, notifications.c.read_at.is_(None))
    return _notification_rows(conn, condition, limit=limit, offset=offset)


def _notification_rows(
    conn: Connection, condition: ColumnElement[bool], *, limit: int | None = None, offset: int = 0
) -> list[Notification]:
    actor = users.alias("actor")
    query = (
        select(
            notifications,
            papers.c.title,
            comments.c.body,
            actor.c.handle,
            actor.c.display_name,
        )
        .join(comments, comments.c.comment_id == notifications.c.comment_id)
        .join(papers, papers.c.paper_id == notifications.c.paper_id)
        .outerjoin(actor, actor.c.user_id == notifications.c.actor_id)
        .where(condition)
        .order_by(notifications.c.created_at.desc(), notifications.c.notification_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        Notification(
            r.notification_id,
            r.kind,
            r.paper_id,
            r.title,
            r.comment_id,
            _excerpt(r.body),
            (r.display_name or public_name(r.handle, r.actor_id))
            if r.actor_id is not None
            else "a former member",
            r.actor_id,
            r.created_at,
            r.read_at is not None,
        )
        for r in conn.execute(query)
    ]


def _excerpt(body: str, limit: int = 200) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unread_count(conn: Connection, user_id: int) -> int:
    query = (
        select(func.count())
        .select_from(notifications.join(comments))
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None), _visible())
    )
    return int(conn.scalar(query) or 0)


def mark_read(
    conn: Connection, user_id: int, *, ids: Iterable[int] | None, now: dt.datetime
) -> int:
    """Mark a member's notifications read (`ids`, or all when None); return how many changed."""
    condition = and_(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
    if ids is not None:
        condition = and_(condition, notifications.c.notification_id.in_(list(ids)))
    return conn.execute(update(notifications).where(condition).values(read_at=now)).rowcount


def submitters(conn: Connection, paper_id: str) -> list[int]:
    """The members who submitted the paper (featured it through /submit)."""
    query = (
        select(feed_entries.c.featured_by)
        .where(
            feed_entries.c.paper_id == paper_id,
            feed_entries.c.source == "submit",
            feed_entries.c.featured_by.is_not(None),
        )
        .distinct()
    )
    return [int(uid) for uid in conn.scalars(query)]


# Mail settings


def email_enabled(conn: Connection, user_id: int) -> bool:
    found = conn.scalar(
        select(notification_settings.c.email).where(notification_settings.c.user_id == user_id)
    )
    return bool(found)


def set_email(conn: Connection, user_id: int, *, on: bool, now: dt.datetime) -> None:
    """Turn a member's notification mail on (from now on: nothing older is mailed) or off."""
    values = {"email": on, "email_since": now if on else None, "updated_at": now}
    changed = conn.execute(
        update(notification_settings)
        .where(notification_settings.c.user_id == user_id)
        .values(values)
    ).rowcount
    if not changed:
        conn.execute(insert(notification_settings).values(user_id=user_id, **values))


# The mail ledger


@dataclass(frozen=True, slots=True)
class MailRow:
    mail_id: int
    user_id: int
    email: str
    message_id: str
    attempts: int


def open_mails(
    conn: Connection, *, now: dt.datetime, every: dt.timedelta, domain: str
) -> list[int]:
    """Write one mail row (pending, Message-ID fixed) for each member who wants mail, has
    unmailed unread notifications since they turned it on, and got no mail in the last
    `every`; tie those notifications to it. Return the new mail ids."""
    recent = (
        select(notification_mails.c.user_id)
        .where(notification_mails.c.created_at > now - every)
        .scalar_subquery()
    )
    waiting = and_(
        notifications.c.mail_id.is_(None),
        notifications.c.read_at.is_(None),
        notifications.c.created_at >= notification_settings.c.email_since,
        _visible(),
    )
    due = conn.execute(
        select(notifications.c.user_id)
        .join(
            notification_settings,
            notification_settings.c.user_id == notifications.c.user_id,
        )
        .join(comments, comments.c.comment_id == notifications.c.comment_id)
        .where(
            notification_settings.c.email.is_(True),
            waiting,
            notifications.c.user_id.not_in(recent),
        )
        .distinct()
    ).scalars()
    made: list[int] = []
    for user_id in sorted(due):
        message_id = f"<notify.{user_id}.{secrets.token_hex(8)}@{domain}>"
        result = conn.execute(
            insert(notification_mails).values(
                user_id=user_id,
                state="pending",
                message_id=message_id,
                attempts=0,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        mail_id = int(key[0])
        since = select(notification_settings.c.email_since).where(
            notification_settings.c.user_id == user_id
        )
        visible_ids = select(comments.c.comment_id).where(_visible())
        conn.execute(
            update(notifications)
            .where(
                notifications.c.user_id == user_id,
                notifications.c.mail_id.is_(None),
                notifications.c.read_at.is_(None),
                notifications.c.created_at >= since.scalar_subquery(),
                notifications.c.comment_id.in_(visible_ids),
            )
            .values(mail_id=mail_id)
        )
        made.append(mail_id)
    return made


def mail_waiting(conn: Connection, *, now: dt.datetime) -> bool:
    """Whether a notification mail job has anything to do: a mail to send (or retry, or give
    up on), or a notification waiting for a member who wants mail."""
    open_mail = select(notification_mails.c.mail_id).where(
        or_(
            notification_mails.c.state.in_(("pending", "claimed", "sending")),
            and_(
                notification_mails.c.state == "deferred",
                notification_mails.c.next_attempt_at <= now,
            ),
        )
    )
    if conn.execute(open_mail.limit(1)).first() is not None:
        return True
    waiting = (
        select(notifications.c.notification_id)
        .join(
            notification_settings,
            notification_settings.c.user_id == notifications.c.user_id,
        )
        .where(
            notification_settings.c.email.is_(True),
            notifications.c.mail_id.is_(None),
            notifications.c.read_at.is_(None),
            notifications.c.created_at >= notification_settings.c.email_since,
        )
    )
    return conn.execute(waiting.limit(1)).first() is not None


def claim_mails(
    conn: Connection, *, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[MailRow]:
    """Claim up to `limit` mails under a lease: pending ones, deferred ones whose time came,
    and claimed ones whose sender's lease ran out (it died before handing anything over).
    Atomic (BEGIN IMMEDIATE on SQLite, SKIP LOCKED on PostgreSQL)."""
    candidates = (
        select(notification_mails.c.mail_id)
        .where(
            or_(
                notification_mails.c.state == "pending",
                and_(
                    notification_mails.c.state == "deferred",
                    notification_mails.c.next_attempt_at <= now,
                ),
                and_(
                    notification_mails.c.state == "claimed",
                    notification_mails.c.lease_until < now,
                ),
            )
        )
        .order_by(notification_mails.c.mail_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = sorted(
        conn.execute(
            update(notification_mails)
            .where(notification_mails.c.mail_id.in_(candidates))
            .values(state="claimed", lease_owner=owner, lease_until=now + lease)
            .returning(notification_mails.c.mail_id)
        ).scalars()
    )
    if not ids:
        return []
    rows = conn.execute(
        select(notification_mails, users.c.email)
        .join(users, users.c.user_id == notification_mails.c.user_id)
        .where(notification_mails.c.mail_id.in_(ids))
        .order_by(notification_mails.c.mail_id)
    )
    return [MailRow(r.mail_id, r.user_id, r.email, r.message_id, r.attempts) for r in rows]


def give_up_abandoned(conn: Connection, *, now: dt.datetime) -> int:
    """Mails left `sending` by a sender that died while handing one over: the server may have
    it, so it is never sent again (`unknown`); its notifications stay on the page."""
    return conn.execute(
        update(notification_mails)
        .where(
            notification_mails.c.state == "sending",
            notification_mails.c.lease_until < now,
        )
        .values(state="unknown", finished_at=now, last_error="sender stopped mid-send")
    ).rowcount


def mail_notifications(conn: Connection, mail_id: int) -> list[Notification]:
    """The notifications a mail carries (hidden or deleted comments left out), newest first."""
    return _notification_rows(conn, and_(notifications.c.mail_id == mail_id, _visible()))


def set_mail_state(
    conn: Connection,
    mail_id: int,
    *,
    owner: str,
    state: str,
    now: dt.datetime,
    lease: dt.timedelta | None = None,
    code: int | None = None,
    error: str | None = None,
    next_attempt_at: dt.datetime | None = None,
    attempted: bool = False,
) -> bool:
    """Move a mail this sender holds to `state`; False if its claim was taken over."""
    values: dict[str, object] = {"state": state, "last_code": code, "last_error": error}
    if lease is not None:
        values["lease_until"] = now + lease
    if state in ("sent", "failed", "skipped", "unknown"):
        values["finished_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if attempted:
        values["attempts"] = notification_mails.c.attempts + 1
    return (
        conn.execute(
            update(notification_mails)
            .where(
                notification_mails.c.mail_id == mail_id,
                notification_mails.c.lease_owner == owner,
                notification_mails.c.state.in_(("claimed", "sending")),
            )
            .values(values)
        ).rowcount
        == 1
    )


def mail_counts(conn: Connection) -> dict[str, int]:
    """How many notification mails are in each state."""
    rows = conn.execute(
        select(notification_mails.c.state, func.count()).group_by(notification_mails.c.state)
    )
    return {state: int(count) for state, count in rows}


def mails_of(conn: Connection, user_id: int) -> Sequence[tuple[int, str]]:
    """A member's mails (id, state), oldest first."""
    rows = conn.execute(
        select(notification_mails.c.mail_id, notification_mails.c.state)
        .where(notification_mails.c.user_id == user_id)
        .order_by(notification_mails.c.mail_id)
    )
    return [(int(r.mail_id), str(r.state)) for r in rows]
