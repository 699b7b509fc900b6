"""The mail seam: the development mailbox keeps messages; the SMTP sender talks to a real server;
`build_senders` picks one and `Mailer` sends whole messages through it."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from paperfeed.db import Database
from paperfeed.db.mailbox import get_message, list_messages
from paperfeed.mail import MailboxSender, Mailer, MailError, SmtpSender, build_senders
from paperfeed.mail.sender import send_message
from paperfeed.settings import Settings


def _message(to: str, subject: str, body: str = "Hello") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    return message


def test_dev_mailbox_stores_and_lists_newest_first(db: Database) -> None:
    mailbox = MailboxSender(db)
    hub = "Hub <hub@example.org>"
    send_message(mailbox, _message("Ada <ADA@example.org>", "First", "one"), mail_from=hub)
    first_id = mailbox.last_id
    two = _message("bob@example.org, ada@example.org", "Second", "two")
    send_message(mailbox, two, mail_from=hub)
    send_message(mailbox, _message("ebob@example.org", "Third", "three"), mail_from=hub)
    with db.read() as conn:
        everything = list_messages(conn)
        for_ada = list_messages(conn, to="ada@example.org")
        for_bob = list_messages(conn, to="Bob@Example.org")
        limited = list_messages(conn, limit=1)
        assert first_id is not None
        stored = get_message(conn, first_id)
        missing = get_message(conn, 10_000)
    assert [m.subject for m in everything] == ["Third", "Second", "First"]
    assert [m.subject for m in for_ada] == ["Second", "First"]
    assert [m.subject for m in for_bob] == ["Second"]  # not "ebob@example.org"
    assert [m.subject for m in limited] == ["Third"]
    assert missing is None
    assert stored is not None
    assert stored.recipients == ("ada@example.org",)
    parsed = stored.parsed()
    assert parsed["From"] == "Hub <hub@example.org>"
    assert parsed["Message-ID"] and parsed["Date"]
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "one"


def test_build_senders_picks_the_dev_mailbox_without_smtp_host(
    db: Database, tmp_path: Path
) -> None:
    assert isinstance(build_senders(Settings(data_dir=tmp_path), db)(), MailboxSender)
    smtp = build_senders(Settings(data_dir=tmp_path, smtp_host="127.0.0.1"), db)()
    assert isinstance(smtp, SmtpSender)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, MessageHandler]]:
    received: list[EmailMessage] = []

    class Keep(MessageHandler):
        def handle_message(self, message: email.message.Message) -> None:
            assert isinstance(message, EmailMessage)
            received.append(message)

    handler = Keep(message_class=EmailMessage)
    handler.received = received  # type: ignore[attr-defined]
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_mailer_delivers_through_smtp_to_a_real_server(
    smtp_server: tuple[Controller, MessageHandler], tmp_path: Path
) -> None:
    controller, handler = smtp_server
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_tls="none",
        smtp_timeout_s=5,
        mail_from="Hub <hub@example.org>",
    )
    mailer = Mailer(build_senders(settings, Database("sqlite://")), mail_from=settings.mail_from)
    mailer.send(_message("reader@example.org", "Your sign-in link", "click"))
    received: list[EmailMessage] = handler.received  # type: ignore[attr-defined]
    assert len(received) == 1
    got = received[0]
    assert got["Subject"] == "Your sign-in link"
    assert got["To"] == "reader@example.org"
    assert got["From"] == "Hub <hub@example.org>"
    assert got["X-RcptTo"] == "reader@example.org"
    plain = email.message_from_bytes(got.as_bytes(), policy=email.policy.default)
    assert isinstance(plain, EmailMessage)
    text = plain.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content().strip() == "click"


def test_mailer_reports_an_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_timeout_s=2
    )
    mailer = Mailer(lambda hook=None: SmtpSender.from_settings(settings, hook), mail_from="h@x.org")
    with pytest.raises(MailError, match="could not send mail"):
        mailer.send(_message("reader@example.org", "x"))
