"""The mail seam: one `Sender` protocol, what a send came to (`Outcome`), and `send_message`.

Digests call a `Sender` directly (raw bytes, one recipient, status codes kept); sign-in mail and
confirmations go through `send_message`, which fills the headers and raises `MailError`.
"""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Literal, Protocol

OutcomeKind = Literal["sent", "deferred", "failed", "ambiguous"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send.

    `sent`: the server said 250 after the data. `deferred`: a 4xx, or the connection broke
    before the message was handed over. `failed`: a 5xx. `ambiguous`: the connection broke
    after the message was handed over, so the server may or may not have it.
    """

    kind: OutcomeKind
    code: int | None
    text: str
    hard_bounce: bool = False


class ConnectError(RuntimeError):
    """The server could not be reached (nothing was sent)."""


class MailError(RuntimeError):
    """A message could not be handed over for delivery."""


class Sender(Protocol):
    """Delivers one message to one recipient; keeps its connection between calls."""

    def connect(self) -> None: ...

    def send(self, raw: bytes, *, sender: str, recipient: str) -> Outcome: ...

    def close(self) -> None: ...


class SenderFactory(Protocol):
    """Makes a sender (one per thread: each holds its own connection).

    `hook` is told the points where a crash could duplicate a message (tests kill there).
    """

    def __call__(self, hook: Callable[[str], None] | None = None) -> Sender: ...


def complete_headers(message: EmailMessage, mail_from: str) -> EmailMessage:
    """Fill the headers every message needs, without overwriting what the caller set."""
    if "From" not in message:
        message["From"] = mail_from
    if "Date" not in message:
        message["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in message:
        domain = mail_from.rsplit("@", 1)[-1].strip("> ") or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


def recipients_of(message: EmailMessage) -> list[str]:
    """The lower-cased addresses in To, Cc and Bcc, each once, in order."""
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    found = [address.lower() for _, address in getaddresses(fields) if address]
    return list(dict.fromkeys(found))


def envelope_address(mail_from: str) -> str:
    """The bare address of a From header (`Name <a@b>` gives `a@b`)."""
    return getaddresses([mail_from])[0][1] or mail_from


def send_message(sender: Sender, message: EmailMessage, *, mail_from: str) -> None:
    """Complete `message` and send it to each of its recipients; raise MailError if one fails."""
    complete_headers(message, mail_from)
    recipients = recipients_of(message)
    del message["Bcc"]
    # As smtplib.send_message writes it: the message's own policy, CRLF line ends.
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    envelope = envelope_address(str(message["From"]))
    try:
        for recipient in recipients:
            outcome = sender.send(raw, sender=envelope, recipient=recipient)
            if outcome.kind != "sent":
                raise MailError(f"could not send mail to {recipient}: {outcome.text}")
    except ConnectError as exc:
        raise MailError(f"could not send mail: {exc}") from exc
    finally:
        sender.close()


def message_bytes(message: EmailMessage) -> bytes:
    """`message` as the development mailbox keeps it (998-octet lines, CRLF)."""
    # SMTP's 998-octet lines, not 78: folding would encode List-Unsubscribe, which must
    # stay a plain <url> list (RFC 2369), in the mailbox copy of a digest.
    return message.as_bytes(policy=email.policy.SMTP.clone(max_line_length=998))
