"""The development mailbox as a `Sender`: each message kept in the store, none sent.

Used while no SMTP host is set, so a fresh hub can sign readers in (the link shows up at
/dev/mailbox) and preview digests without any mail server.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from paperfeed.db import Database
from paperfeed.db.mailbox import store_message
from paperfeed.mail.sender import Outcome


class MailboxSender:
    """Stores each message in the store's `dev_mailbox` table instead of sending it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.last_id: int | None = None
        self._last_raw: bytes | None = None

    def connect(self) -> None:
        """Nothing to open: the mailbox is a table in the store."""

    def send(self, raw: bytes, *, sender: str, recipient: str) -> Outcome:
        """Keep the message: once, whatever the number of its recipients (the mailbox lists
        each message under every address in its To, Cc and Bcc)."""
        if raw == self._last_raw and self.last_id is not None:
            return Outcome("sent", 250, f"stored in the development mailbox as #{self.last_id}")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.db.write() as conn:
            number = store_message(conn, message)
        self.last_id, self._last_raw = number, raw
        return Outcome("sent", 250, f"stored in the development mailbox as #{number}")

    def close(self) -> None:
        """Nothing to close."""
