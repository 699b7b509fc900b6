"""Render mails: a digest (text and HTML parts, list headers, optional DKIM) and confirmations.

Templates are in digest/templates/email/; links start with settings.public_url. No I/O here
beyond reading templates and the DKIM key.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
import email.utils
import secrets
import threading
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
import markupsafe

from paperfeed.db.digests import Subscriber
from paperfeed.digest.compose import Candidate, DigestPlan
from paperfeed.settings import Settings
from paperfeed.tex import clean_tex
from paperfeed.wording import long_date, plural, short_authors

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Headers fold at 998 (RFC 5322's hard limit), not 78: the stdlib turns a URL longer than a
# folded line into an RFC 2047 encoded-word, which List-Unsubscribe must never contain.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
# Headers a DKIM signature covers: the list headers too, so nobody can swap the unsubscribe
# link of a signed digest (RFC 8058 §4 asks for exactly this).
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


@dataclass(frozen=True, slots=True)
class Links:
    """The reader's own links: manage, unsubscribe (web and mail), built from their token."""

    manage: str
    unsubscribe: str
    unsubscribe_mailto: str


@dataclass(frozen=True, slots=True)
class _RenderedItem:
    text: str
    html: markupsafe.Markup


class Renderer:
    """Renders mails for one hub's settings; templates are compiled once and shared."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = _environment()
        self._items: dict[tuple[str, str], _RenderedItem] = {}
        self._items_lock = threading.Lock()
        self.base = settings.public_url.rstrip("/")
        parsed = email.utils.parseaddr(settings.mail_from)
        self.from_address = parsed[1] or "paperfeed@localhost"
        self.from_name = parsed[0] or settings.site_name
        self.domain = self.from_address.rpartition("@")[2] or "localhost"
        host = urlsplit(self.base).hostname or self.domain
        self.list_id = f"{settings.site_name} digest <digest.{host}>"

    @cached_property
    def _dkim_key(self) -> bytes | None:
        path = self.settings.digest_dkim_key_file
        return path.read_bytes() if path is not None else None

    def links(self, subscriber: Subscriber) -> Links:
        token = quote(subscriber.token, safe="")
        return Links(
            manage=f"{self.base}/digest/manage/{token}",
            unsubscribe=f"{self.base}/digest/unsubscribe/{token}",
            unsubscribe_mailto=(f"mailto:{self.from_address}?subject=unsubscribe-{token}"),
        )

    def subject(self, plan: DigestPlan) -> str:
        label = "Daily" if plan.kind == "daily" else "Weekly"
        # The web's title style: "Daily papers · Friday, 20 March 2026 · 5 papers".
        return f"{label} papers · {long_date(plan.period)} · {plural(len(plan.items), 'paper')}"

    def digest(
        self,
        *,
        plan: DigestPlan,
        subscriber: Subscriber,
        message_id: str,
        now: dt.datetime | None = None,
    ) -> bytes:
        """The digest mail of one reader as it goes on the wire (CRLF, not dot-stuffed):
        text and HTML parts, list headers, its fixed Message-ID, DKIM-signed if configured.

        Assembled directly rather than through `EmailMessage`, which costs about 1.5 ms a
        message here, more than sending it; tests parse every part back with `email`.
        """
        links = self.links(subscriber)
        subject = self.subject(plan)
        context = {
            "plan": plan,
            "items": [self._item(item) for item in plan.items],
            "links": links,
            "site_name": self.settings.site_name,
            "base": self.base,
            "subject": subject,
            "email": subscriber.email,
        }
        text = self._digest_txt.render(context)
        html = self._digest_html.render(context)
        when = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
        headers = [
            ("From", self._from_header),
            ("To", _address_header(subscriber.email)),
            ("Subject", _text_header(subject)),
            ("Date", email.utils.format_datetime(when)),
            ("Message-ID", message_id),
            ("Auto-Submitted", "auto-generated"),
            ("List-Id", _text_header(self.list_id)),
            ("List-Unsubscribe", f"<{links.unsubscribe}>,\r\n <{links.unsubscribe_mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        raw = _multipart_alternative(headers, text, html)
        return self._sign(raw)

    def _item(self, item: Candidate) -> _RenderedItem:
        """One paper's text and HTML blocks, rendered once and shared by every reader."""
        key = (item.paper.paper_id, item.why)
        with self._items_lock:
            cached = self._items.get(key)
        if cached is not None:
            return cached
        context = {
            "item": {
                "paper": item.paper,
                "why": item.why,
                "url": f"{self.base}/papers/{quote(item.paper.paper_id, safe='/')}",
                "authors": short_authors(item.paper.authors, keep=4, most=4),
                "title": clean_tex(item.paper.title) or f"Untitled paper {item.paper.paper_id}",
            }
        }
        text = self.env.get_template("email/digest_item.txt").render(context).rstrip("\n")
        html = markupsafe.Markup(self.env.get_template("email/digest_item.html").render(context))
        rendered = _RenderedItem(text=text, html=html)
        with self._items_lock:
            if len(self._items) > 20_000:
                self._items.clear()
            self._items[key] = rendered
        return rendered

    @cached_property
    def _digest_txt(self) -> jinja2.Template:
        return self.env.get_template("email/digest.txt")

    @cached_property
    def _digest_html(self) -> jinja2.Template:
        return self.env.get_template("email/digest.html")

    @cached_property
    def _from_header(self) -> str:
        return email.utils.formataddr((self.from_name, self.from_address))

    def confirmation(self, *, email_address: str, confirm_url: str, hours: int) -> EmailMessage:
        """The double opt-in mail: one link that confirms the subscription."""
        context = {
            "confirm_url": confirm_url,
            "site_name": self.settings.site_name,
            "hours": hours,
            "email": email_address,
        }
        subject = f"Confirm your {self.settings.site_name} digest subscription"
        message = self._message(
            email_address, subject, email.utils.make_msgid(domain=self.domain), None
        )
        message.set_content(self.env.get_template("email/confirm.txt").render(context))
        message.add_alternative(
            self.env.get_template("email/confirm.html").render(context), subtype="html"
        )
        return message

    def _message(
        self, to: str, subject: str, message_id: str, now: dt.datetime | None
    ) -> EmailMessage:
        message = EmailMessage(policy=WIRE_POLICY)
        message["From"] = Address(self.from_name, addr_spec=self.from_address)
        message["To"] = to
        message["Subject"] = subject
        when = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
        message["Date"] = email.utils.format_datetime(when)
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        return message

    def _sign(self, raw: bytes) -> bytes:
        """Prepend a DKIM-Signature covering the list headers, when a key is configured."""
        key = self._dkim_key
        if key is None:
            return raw
        import dkim

        signature: bytes = dkim.sign(
            raw,
            self.settings.digest_dkim_selector.encode(),
            self.domain.encode(),
            key,
            include_headers=list(DKIM_HEADERS),
            linesep=b"\r\n",
        )
        return signature + raw


def _text_header(value: str) -> str:
    """An unstructured header: as is when ASCII, else RFC 2047 encoded-words."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(linesep="\r\n")


def _address_header(address: str) -> str:
    if not address.isascii():
        raise ValueError(f"{address!r}: internationalised addresses need SMTPUTF8 (not supported)")
    return address


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (binascii: C speed)."""
    body = "\n".join(text.splitlines()).encode("utf-8")
    return binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


def _multipart_alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    # "=_" never occurs in quoted-printable output, so the boundary cannot clash with a part.
    boundary = f"=_{secrets.token_hex(12)}"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head += f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n'
    parts = []
    for subtype, body in (("plain", text), ("html", html)):
        parts.append(
            f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode()
            + _qp(body)
            + b"\r\n"
        )
    return head.encode("ascii") + b"\r\n" + b"".join(parts) + f"--{boundary}--\r\n".encode()
