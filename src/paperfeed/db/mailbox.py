"""The development mailbox: outgoing mail kept in the store when no SMTP server is set."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from sqlalchemy import Connection, select

from paperfeed.db.schema import dev_mailbox, utc_now


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message in the development mailbox."""

    message_id: int
    recipients: tuple[str, ...]
    subject: str
    sent_at: dt.datetime
    raw: bytes

    def parsed(self) -> EmailMessage:
        """The message parsed back with the modern email API."""
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


def recipients_of(message: EmailMessage) -> list[str]:
    """The lower-cased addresses in To, Cc and Bcc, each once, in order."""
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    found = [address.lower() for _, address in getaddresses(fields) if address]
    return list(dict.fromkeys(found))


def store_message(conn: Connection, message: EmailMessage) -> int:
    """Keep `message` in the mailbox; return its id."""
    result = conn.execute(
        dev_mailbox.insert().values(
            recipients=",".join(recipients_of(message)),
            subject=str(message.get("Subject", "")),
            sent_at=utc_now(),
            # SMTP's 998-octet lines, not 78: folding would encode List-Unsubscribe, which must
            # stay a plain <url> list (RFC 2369), in the mailbox copy of a digest.
            raw=message.as_bytes(policy=email.policy.SMTP.clone(max_line_length=998)),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_messages(
    conn: Connection, *, to: str | None = None, limit: int = 100
) -> list[StoredMessage]:
    """The newest messages first, optionally only those sent to the address `to`."""
    query = select(dev_mailbox).order_by(dev_mailbox.c.message_id.desc())
    if to is None:
        rows = conn.execute(query.limit(limit))
        return [_stored(row) for row in rows]
    wanted = to.strip().lower()
    found: list[StoredMessage] = []
    # A LIKE narrows the scan; the exact comparison rules out "bob@x" matching "ebob@x".
    for row in conn.execute(query.where(dev_mailbox.c.recipients.contains(wanted))):
        message = _stored(row)
        if wanted in message.recipients:
            found.append(message)
            if len(found) >= limit:
                break
    return found


def get_message(conn: Connection, message_id: int) -> StoredMessage | None:
    """One message by id, or None."""
    row = conn.execute(select(dev_mailbox).where(dev_mailbox.c.message_id == message_id)).first()
    return _stored(row) if row is not None else None


def _stored(row: object) -> StoredMessage:
    return StoredMessage(
        message_id=row.message_id,  # type: ignore[attr-defined]
        recipients=tuple(filter(None, row.recipients.split(","))),  # type: ignore[attr-defined]
        subject=row.subject,  # type: ignore[attr-defined]
        sent_at=row.sent_at,  # type: ignore[attr-defined]
        raw=bytes(row.raw),  # type: ignore[attr-defined]
    )
