"""Notification mail through the real mail seam to a real aiosmtpd server on 127.0.0.1: off by
default, batched per member, each notification mailed at most once through dropped connections
and a sender that dies mid-send, with a working one-click unsubscribe link."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from paperfeed.community import comments
from paperfeed.community.notification_mail import send_notification_mails
from paperfeed.community.notifications import mark_read, set_email, token_user
from paperfeed.db.notifications import mail_counts
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import User, get_or_create_user
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.settings import Settings
from tests.digest.conftest import FaultHandler, SmtpServer

PAPER = "2603.90003"
T0 = dt.datetime(2026, 12, 3, 9, 0, 0)


class DroppingHandler(FaultHandler):
    """Also drops the connection at RCPT (before any data) for the addresses asked."""

    drop_at_rcpt: set[str]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.drop_at_rcpt:
            self.drop_at_rcpt.discard(address)
            assert server.transport is not None
            server.transport.abort()
            return "250 OK"
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    handler = DroppingHandler()
    handler.drop_at_rcpt = set()
    running = SmtpServer(handler)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def hub(tmp_path: Path, server: SmtpServer) -> Iterator[Hub]:
    settings = Settings(
        data_dir=tmp_path,
        semantic_search=False,
        public_url="https://papers.example.org",
        mail_from="Papers <papers@papers.example.org>",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_tls="none",
        notify_mail_every_minutes=30,
    )
    made = Hub.from_settings(settings)
    with made.db.write() as conn:
        upsert_papers(
            conn,
            [
                PaperRecord(
                    paper_id=PAPER,
                    title="Mail Test Paper",
                    abstract="An abstract.",
                    authors=("A",),
                    categories=("cs.LG",),
                    primary_category="cs.LG",
                )
            ],
        )
    yield made
    made.close()


def _member(hub: Hub, address: str) -> User:
    with hub.db.write() as conn:
        return get_or_create_user(conn, address)


def _send(hub: Hub, at: dt.datetime, **kw: object) -> dict[str, int]:
    assert hub.senders is not None
    run = send_notification_mails(
        db=hub.db,
        senders=hub.senders,
        settings=hub.settings,
        now=lambda: at,
        **kw,  # type: ignore[arg-type]
    )
    return run.counts()


def _messages(server: SmtpServer) -> list[EmailMessage]:
    handler = server.handler
    assert isinstance(handler, FaultHandler)
    return handler.messages()


def _reply(hub: Hub, author: User, parent: int, body: str) -> int:
    return comments.add_comment(
        db=hub.db, user_id=author.user_id, paper_id=PAPER, body=body, parent_id=parent
    )


def test_nothing_is_mailed_until_a_member_turns_mail_on(hub: Hub, server: SmtpServer) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob@example.org")
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "Before the opt-in")
    assert _send(hub, T0)["opened"] == 0
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    # Only what comes after the opt-in is mailed.
    assert _send(hub, T0)["opened"] == 0
    assert _messages(server) == []


def test_notifications_are_batched_one_mail_per_member_per_interval(
    hub: Hub, server: SmtpServer
) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "First answer")
    comments.add_comment(db=hub.db, user_id=bob.user_id, paper_id=PAPER, body="@ada look")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert _send(hub, now)["sent"] == 1
    [mail] = _messages(server)
    assert mail["To"] == "ada@example.org" and mail["Subject"] == (
        "2 new notifications on paperfeed"
    )
    text = mail.get_content()
    assert "bob replied to your comment on “Mail Test Paper”" in text
    assert "bob mentioned you on “Mail Test Paper”" in text
    assert "https://papers.example.org/papers/2603.90003#comment-" in text
    # One-click unsubscribe, as digests do (RFC 8058), with a link that names Ada.
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail["List-Unsubscribe"].strip("<>")
    assert link in text
    assert token_user(db=hub.db, token=link.rsplit("/", 1)[1]) == ada.user_id
    # Another reply within the interval waits; after it, one more mail carries only it.
    _reply(hub, bob, top, "Second answer")
    assert _send(hub, now + dt.timedelta(minutes=10))["opened"] == 0
    assert _send(hub, now + dt.timedelta(minutes=31))["sent"] == 1
    second = _messages(server)[1]
    assert "Second answer" in second.get_content()
    assert "First answer" not in second.get_content()
    assert second["Message-ID"] != mail["Message-ID"]
    assert _send(hub, now + dt.timedelta(minutes=90))["opened"] == 0


def test_read_or_unsubscribed_notifications_are_not_mailed(hub: Hub, server: SmtpServer) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "Seen on the site")
    mark_read(db=hub.db, user_id=ada.user_id, ids=None)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert _send(hub, now)["opened"] == 0
    _reply(hub, bob, top, "Mail turned off after this")
    set_email(db=hub.db, user_id=ada.user_id, on=False)
    assert _send(hub, now)["opened"] == 0
    assert _messages(server) == []


def test_a_connection_dropped_before_the_data_loses_nothing_and_sends_nothing_twice(
    hub: Hub, server: SmtpServer
) -> None:
    members = [_member(hub, f"m{n}@example.org") for n in range(4)]
    bob = _member(hub, "bob@example.org")
    for member in members:
        set_email(db=hub.db, user_id=member.user_id, on=True)
        top = comments.add_comment(db=hub.db, user_id=member.user_id, paper_id=PAPER, body="Q")
        _reply(hub, bob, top, f"Answer for {member.handle}")
    handler = server.handler
    assert isinstance(handler, DroppingHandler)
    handler.drop_at_rcpt = {"m1@example.org"}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    first = _send(hub, now)
    assert first["deferred"] >= 1 and first["failed"] == 0
    # The retry comes after its backoff, on a new connection; the others are not sent again.
    later = _send(hub, now + dt.timedelta(hours=2))
    assert later["sent"] + first["sent"] == 4
    per = handler.per_recipient()
    assert per == {f"m{n}@example.org": 1 for n in range(4)}
    with hub.db.read() as conn:
        assert mail_counts(conn) == {"sent": 4}


def test_a_drop_after_the_data_is_never_resent(hub: Hub, server: SmtpServer) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "Dropped after the data")
    handler = server.handler
    assert isinstance(handler, FaultHandler)
    handler.drop_after_data = lambda _address: True
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert _send(hub, now)["unknown"] == 1
    handler.drop_after_data = lambda _address: False
    assert _send(hub, now + dt.timedelta(hours=3)) == {
        "opened": 0,
        "sent": 0,
        "deferred": 0,
        "failed": 0,
        "skipped": 0,
        "unknown": 0,
    }
    assert handler.per_recipient()["ada@example.org"] == 1  # the server kept it once


class Crash(BaseException):
    """Stands for the sender's process dying at a point (nothing after it runs)."""


def test_a_sender_dying_mid_send_never_sends_twice_and_one_dying_before_loses_nothing(
    hub: Hub, server: SmtpServer
) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "Crash test")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def die_at(point: str):  # type: ignore[no-untyped-def]
        def hook(reached: str) -> None:
            if reached == point:
                raise Crash(point)

        return hook

    # Dies right after claiming: nothing was handed over, so the mail is sent once later.
    with pytest.raises(Crash):
        _send(hub, now, hook=die_at("claimed"))
    assert _messages(server) == []
    lease = dt.timedelta(seconds=hub.settings.digest_lease_s + 1)
    assert _send(hub, now + lease)["sent"] == 1
    assert len(_messages(server)) == 1
    # Another mail; this time the sender dies after the data went out, before the reply.
    _reply(hub, bob, top, "Second crash")
    later = now + dt.timedelta(hours=1)
    with pytest.raises(Crash):
        _send(hub, later, hook=die_at("data_sent"))
    handler = server.handler
    assert isinstance(handler, FaultHandler)
    assert _send(hub, later + lease)["unknown"] == 1  # given up on, not resent
    assert _send(hub, later + 2 * lease)["sent"] == 0
    received = [m for m in _messages(server) if "Second crash" in m.get_content()]
    assert len(received) == 1  # the server got the data once, and nothing resent it
    with hub.db.read() as conn:
        assert mail_counts(conn) == {"sent": 1, "unknown": 1}


def test_a_mail_parses_back_and_carries_no_other_address(hub: Hub, server: SmtpServer) -> None:
    ada, bob = _member(hub, "ada@example.org"), _member(hub, "bob.secret@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=PAPER, body="Hi")
    _reply(hub, bob, top, "<script>alert(1)</script> plain text")
    _send(hub, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    handler = server.handler
    assert isinstance(handler, FaultHandler)
    raw = handler.received[0].raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert b"bob.secret" not in raw  # the replier is named by handle, never by address
    assert parsed["Auto-Submitted"] == "auto-generated"
