"""Outgoing mail: one `Sender` seam, with an SMTP sender and the development mailbox behind it.

`build_senders` picks the development mailbox while no SMTP host is set, so a fresh hub can
sign readers in (the magic link shows up at /dev/mailbox) without any mail server. `Hub` builds
it once; digests take a sender per worker from it, and `Mailer` sends single messages with it.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from paperfeed.db import Database
from paperfeed.mail.dev_mailbox import MailboxSender
from paperfeed.mail.sender import (
    ConnectError,
    MailError,
    Outcome,
    Sender,
    SenderFactory,
    send_message,
)
from paperfeed.mail.smtp import SmtpSender
from paperfeed.settings import Settings

__all__ = [
    "ConnectError",
    "MailError",
    "MailboxSender",
    "Mailer",
    "Outcome",
    "Sender",
    "SenderFactory",
    "SmtpSender",
    "build_senders",
]


def build_senders(settings: Settings, db: Database) -> SenderFactory:
    """The senders the settings ask for: SMTP when a host is set, else the development mailbox."""
    if settings.smtp_host:

        def smtp(hook: Callable[[str], None] | None = None) -> Sender:
            return SmtpSender.from_settings(settings, hook)

        return smtp

    def mailbox(hook: Callable[[str], None] | None = None) -> Sender:
        return MailboxSender(db)

    return mailbox


class Mailer:
    """Sends one message at a time (sign-in links, confirmations) through the hub's senders."""

    def __init__(self, senders: SenderFactory, *, mail_from: str) -> None:
        self.senders = senders
        self.mail_from = mail_from

    def send(self, message: EmailMessage) -> None:
        """Fill From, Date and Message-ID if missing and send; raise MailError on failure."""
        send_message(self.senders(), message, mail_from=self.mail_from)
