"""Notification mail: a job (the worker's every pass, and `paperfeed notifications send`) that
mails each member who turned it on their new notifications, at most one mail per
`PAPERFEED_NOTIFY_MAIL_EVERY_MINUTES`, each notification at most once.

Through the ledger in db/notifications.py, as digests go (docs/digests.md), with one change:
a mail is marked `sending` in its own commit before it is handed over, and a mail whose sender
died there, or whose connection dropped after the data was handed over, is never sent again
(`unknown`). A notification is a courtesy copy of what /notifications shows, so at most once
beats at least once here.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import quote

from paperfeed.community.notifications import link_key, signed_token
from paperfeed.db import notifications as store
from paperfeed.db.engine import Database
from paperfeed.db.notifications import MENTION, REPLY, MailRow, Notification
from paperfeed.mail.sender import (
    ConnectError,
    Sender,
    SenderFactory,
    envelope_address,
    message_bytes,
)
from paperfeed.settings import Settings
from paperfeed.wording import plural

log = logging.getLogger(__name__)

BATCH = 25


@dataclass
class MailRun:
    """What one run did."""

    opened: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "skipped": self.skipped,
            "unknown": self.unknown,
        }


def _line(item: Notification) -> str:
    if item.kind == REPLY:
        what = f"{item.actor} replied to your comment on"
    elif item.kind == MENTION:
        what = f"{item.actor} mentioned you on"
    else:
        what = f"{item.actor} commented on your paper"
    return f"{what} “{item.paper_title}”"


def render_mail(
    *,
    row: MailRow,
    items: list[Notification],
    settings: Settings,
    unsubscribe_url: str,
) -> bytes:
    """The mail of one ledger row: plain text, one block per notification, list headers."""
    base = settings.public_url.rstrip("/")
    blocks = []
    for item in items:
        url = f"{base}/papers/{quote(item.paper_id, safe='/')}#comment-{item.comment_id}"
        blocks.append(f"{_line(item)}:\n\n    {item.excerpt}\n\n{url}\n")
    subject = (
        f"{_line(items[0])}"
        if len(items) == 1
        else f"{plural(len(items), 'new notification')} on {settings.site_name}"
    )
    body = (
        "\n".join(blocks)
        + f"\nAll your notifications: {base}/notifications\n\n-- \n"
        + "You get this mail because you turned on notification mail in your settings "
        + f"({base}/settings).\nStop these mails with one click: {unsubscribe_url}\n"
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.email
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = row.message_id
    message["List-Id"] = f"{settings.site_name} notifications <notifications.{_domain(settings)}>"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message_bytes(message)


def _domain(settings: Settings) -> str:
    return envelope_address(settings.mail_from).rsplit("@", 1)[-1] or "localhost"


def _retry_at(settings: Settings, attempts: int, now: dt.datetime) -> dt.datetime:
    delay = min(settings.digest_retry_max_s, settings.digest_retry_base_s * 2 ** (attempts - 1))
    return now + dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))


def send_notification_mails(
    *,
    db: Database,
    senders: SenderFactory,
    settings: Settings,
    now: Callable[[], dt.datetime] | None = None,
    hook: Callable[[str], None] | None = None,
) -> MailRun:
    """Open the mails that are due and send every claimable one; return what happened."""
    clock = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    lease = dt.timedelta(seconds=settings.digest_lease_s)
    every = dt.timedelta(minutes=settings.notify_mail_every_minutes)
    owner = f"notify-{secrets.token_hex(6)}"
    point = hook or (lambda _p: None)
    run = MailRun()
    with db.write() as conn:
        run.unknown += store.give_up_abandoned(conn, now=clock())
        run.opened = len(store.open_mails(conn, now=clock(), every=every, domain=_domain(settings)))
    base = settings.public_url.rstrip("/")
    key = link_key(db=db)
    sender = senders(hook)
    try:
        while True:
            with db.write() as conn:
                rows = store.claim_mails(conn, owner=owner, now=clock(), lease=lease, limit=BATCH)
            if not rows:
                break
            point("claimed")
            for index, row in enumerate(rows):
                try:
                    _send_one(db, sender, settings, row, owner, lease, clock, base, key, run)
                except ConnectError as exc:
                    # The server is unreachable: nothing was handed over. Back they go.
                    run.errors.append(str(exc))
                    with db.write() as conn:
                        for left in rows[index:]:
                            store.set_mail_state(
                                conn,
                                left.mail_id,
                                owner=owner,
                                state="deferred",
                                now=clock(),
                                error=str(exc)[:500],
                                next_attempt_at=_retry_at(settings, 1, clock()),
                            )
                            run.deferred += 1
                    return run
    finally:
        sender.close()
    return run


def _send_one(
    db: Database,
    sender: Sender,
    settings: Settings,
    row: MailRow,
    owner: str,
    lease: dt.timedelta,
    clock: Callable[[], dt.datetime],
    base: str,
    key: bytes,
    run: MailRun,
) -> None:
    with db.read() as conn:
        items = [n for n in store.mail_notifications(conn, row.mail_id) if not n.read]
        wanted = store.email_enabled(conn, row.user_id)
    if not items or not wanted:
        # Read on the site, hidden, or mail turned off since the row was opened.
        with db.write() as conn:
            store.set_mail_state(conn, row.mail_id, owner=owner, state="skipped", now=clock())
        run.skipped += 1
        return
    token = signed_token(key, row.user_id)
    raw = render_mail(
        row=row,
        items=items,
        settings=settings,
        unsubscribe_url=f"{base}/notifications/unsubscribe/{token}",
    )
    with db.write() as conn:
        if not store.set_mail_state(
            conn, row.mail_id, owner=owner, state="sending", now=clock(), lease=lease
        ):
            return  # the claim was taken over: another sender has it
    outcome = sender.send(raw, sender=envelope_address(settings.mail_from), recipient=row.email)
    attempts = row.attempts + 1
    if outcome.kind == "sent":
        state, next_at = "sent", None
        run.sent += 1
    elif outcome.kind == "ambiguous":
        state, next_at = "unknown", None  # the server may have it: never twice
        run.unknown += 1
    elif outcome.kind == "deferred" and attempts < settings.digest_max_attempts:
        state, next_at = "deferred", _retry_at(settings, attempts, clock())
        run.deferred += 1
    else:
        state, next_at = "failed", None
        run.failed += 1
    with db.write() as conn:
        store.set_mail_state(
            conn,
            row.mail_id,
            owner=owner,
            state=state,
            now=clock(),
            code=outcome.code,
            error=None if state == "sent" else outcome.text[:500],
            next_attempt_at=next_at,
            attempted=True,
        )
