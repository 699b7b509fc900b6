"""Subscribing: double opt-in with a single-use, expiring link, at most a few mails a day.

Called by the web form and the JSON API (web/digest_pages.py). A reader signed in with the
same address has proved it already (the sign-in link), so it is confirmed at once. Anyone else
gets the same answer and the same daily limit whatever the address's state (new, pending,
subscribed, unsubscribed), so the form cannot tell who is on the list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from paperfeed.addresses import normalize_address
from paperfeed.db import Database
from paperfeed.db.digests import (
    Preferences,
    Subscriber,
    add_subscriber,
    confirm_subscriber,
    count_in_window,
    set_confirmation,
)
from paperfeed.digest.render import Renderer
from paperfeed.mail import Mailer
from paperfeed.settings import Settings

CONFIRM_HOURS = 48
_DAY = dt.timedelta(days=1)


class TooManyConfirmations(Exception):
    """This address was sent its daily share of confirmation mails already."""


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """`confirmed`: digests start now; `mailed`: a confirmation link went out."""

    outcome: Literal["confirmed", "mailed", "already"]
    subscriber: Subscriber


def token_hash(token: str) -> str:
    """Confirmation tokens are stored hashed: a leaked table confirms nobody."""
    return hashlib.sha256(token.encode()).hexdigest()


def request_subscription(
    *,
    db: Database,
    mailer: Mailer | None,
    settings: Settings,
    email: str,
    preferences: Preferences,
    now: dt.datetime,
    user_id: int | None = None,
    user_email: str | None = None,
) -> SubscribeResult:
    """Subscribe `email`: confirm it when the signed-in reader owns it, else mail a link.

    Raises InvalidAddress for what is not one address, and TooManyConfirmations past
    `digest_confirmations_per_day` requests for the address in a day, whatever its state.
    """
    address = normalize_address(email)
    owned = user_email is not None and normalize_address(user_email) == address
    with db.write() as conn:
        if not owned:
            # Counted before the address is looked at: a subscribed address reaches the limit
            # on the same request as a new one (issue #9: the limit told them apart).
            bucket = f"digest:confirm:{address}"[:200]
            sent = count_in_window(conn, bucket=bucket, window=_DAY, now=now)
            if sent > settings.digest_confirmations_per_day:
                raise TooManyConfirmations(address)
        subscriber, created = add_subscriber(
            conn,
            email=address,
            now=now,
            confirmed=owned,
            preferences=preferences,
            user_id=user_id if owned else None,
        )
    if subscriber.receives or (subscriber.confirmed_at is not None and not created):
        return SubscribeResult("confirmed" if owned else "already", subscriber)
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        set_confirmation(
            conn,
            subscriber_id=subscriber.subscriber_id,
            token_hash=token_hash(token),
            expires_at=now + dt.timedelta(hours=CONFIRM_HOURS),
        )
    renderer = Renderer(settings)
    url = f"{renderer.base}/digest/confirm?token={token}"
    message = renderer.confirmation(email_address=address, confirm_url=url, hours=CONFIRM_HOURS)
    if mailer is None:
        raise RuntimeError("the hub has no mailer (Hub builds one)")
    mailer.send(message)
    return SubscribeResult("mailed", subscriber)


def confirm(*, db: Database, token: str, now: dt.datetime) -> Subscriber | None:
    """Use a confirmation link (once, before it expires); the confirmed subscriber or None."""
    with db.write() as conn:
        return confirm_subscriber(conn, token_hash=token_hash(token), now=now)
