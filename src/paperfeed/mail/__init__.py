"""Outgoing mail: one `Mailer` seam, with an SMTP sender and a development mailbox.

`build_mailer` picks the development mailbox while no SMTP host is set, so a fresh hub can
sign readers in (the magic link shows up at /dev/mailbox) without any mail server.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from paperfeed.db import Database
from paperfeed.db.mailbox import store_message
from paperfeed.settings import Settings

__all__ = ["DevMailbox", "MailError", "Mailer", "SmtpMailer", "build_mailer"]


class MailError(RuntimeError):
    """A message could not be handed over for delivery."""


class Mailer(Protocol):
    """Something that delivers one email message (or raises MailError)."""

    def send(self, message: EmailMessage) -> None: ...


def _complete(message: EmailMessage, sender: str) -> EmailMessage:
    # Fill the headers every message needs, without overwriting what the caller set.
    if "From" not in message:
        message["From"] = sender
    if "Date" not in message:
        message["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in message:
        domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


class DevMailbox:
    """Keeps every message in the store's `dev_mailbox` table instead of sending it."""

    def __init__(self, db: Database, *, sender: str = "paperfeed <paperfeed@localhost>") -> None:
        self.db = db
        self.sender = sender
        self.last_id: int | None = None

    def send(self, message: EmailMessage) -> None:
        _complete(message, self.sender)
        with self.db.write() as conn:
            self.last_id = store_message(conn, message)


class SmtpMailer:
    """Sends through the SMTP server in Settings (plain, STARTTLS or implicit TLS)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs settings.smtp_host")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.tls = settings.smtp_tls
        self.timeout_s = settings.smtp_timeout_s
        self.sender = settings.mail_from

    def send(self, message: EmailMessage) -> None:
        _complete(message, self.sender)
        try:
            with self._connect() as smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"could not send mail through {self.host}:{self.port}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout_s,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)


def build_mailer(settings: Settings, db: Database) -> Mailer:
    """The mailer the settings ask for: SMTP when a host is set, else the development mailbox."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return DevMailbox(db, sender=settings.mail_from)
