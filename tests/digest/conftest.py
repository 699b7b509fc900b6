"""Digest fixtures: a real aiosmtpd server on 127.0.0.1 (sink and fault injector), a store
holding the bundled sample, a fake clock, and subscribers in bulk."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import re
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from paperfeed.db.digests import Preferences, add_subscribers_bulk
from paperfeed.db.feed import latest_feed_day
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from paperfeed.settings import Settings

PUBLIC_URL = "https://papers.example.org"
MESSAGE_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>]+>)")
MAIL_FROM = "Paper Digest <digest@papers.example.org>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One message the server accepted."""

    recipient: str
    message_id: str
    raw: bytes


@dataclass
class FaultHandler:
    """An aiosmtpd handler that stores what it accepts and misbehaves on request.

    `rcpt_reply(address)` and `data_reply(address)` return an SMTP reply to refuse with, or
    None to accept. `drop_after_data(address)` closes the connection after storing the
    message, before replying. `hang_s` delays every DATA reply.
    """

    rcpt_reply: Callable[[str], str | None] = lambda _a: None
    data_reply: Callable[[str], str | None] = lambda _a: None
    drop_after_data: Callable[[str], bool] = lambda _a: False
    hang_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    ehlos: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.ehlos += 1
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.rcpt_attempts[address] += 1
        reply = self.rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        address = envelope.rcpt_tos[0]
        if self.hang_s:
            await asyncio.sleep(self.hang_s)
        reply = self.data_reply(address)
        if reply is not None:
            return reply
        raw = bytes(envelope.original_content or b"")
        # A regex, not a parse: the 10,000-message test must not be slowed by its own server.
        found = MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode() if found else ""
        with self.lock:
            self.received.append(Received(address, message_id, raw))
        if self.drop_after_data(address):
            assert server.transport is not None
            server.transport.abort()
        return "250 Message accepted for delivery"

    def per_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(r.recipient for r in self.received)

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            raws = [r.raw for r in self.received]
        found = []
        for raw in raws:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


class SmtpServer:
    """aiosmtpd on 127.0.0.1 on a fixed port, so it can be stopped and started again."""

    def __init__(self, handler: FaultHandler, port: int | None = None) -> None:
        self.handler = handler
        self.port = port or free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=10_000_000,
            decode_data=False,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running sink; tests set its handler's faults."""
    server = SmtpServer(FaultHandler())
    server.start()
    yield server
    server.stop()


class FakeClock:
    """A clock that jumps instead of sleeping; `on_sleep` sees each new time."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 3, 20, 6, 0, 0)
        self.slept = 0.0
        self.sleeps = 0
        self.on_sleep: Callable[[dt.datetime], None] = lambda _now: None
        self.lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self.lock:
            return self.current

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.current += dt.timedelta(seconds=max(0.0, seconds))
            self.slept += max(0.0, seconds)
            self.sleeps += 1
            now = self.current
        self.on_sleep(now)


def digest_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "semantic_search": False,
        "public_url": PUBLIC_URL,
        "mail_from": MAIL_FROM,
        "site_name": "Test Papers",
        "smtp_tls": "none",
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def digest_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the bundled sample (built once; each test copies it)."""
    data_dir = tmp_path_factory.mktemp("digest-store")
    hub = Hub.from_settings(digest_settings(data_dir))
    run_ingest(hub.db, sample_source())
    hub.search_index.ensure_fresh(force=True)
    hub.close()
    return data_dir


def copy_store(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@pytest.fixture
def hub_factory(tmp_path: Path, digest_store: Path) -> Iterator[Callable[..., Hub]]:
    """Make a hub over a private copy of the sample store, with settings overrides."""
    data_dir = copy_store(digest_store, tmp_path / "data")
    hubs: list[Hub] = []

    def make(**overrides: Any) -> Hub:
        hub = Hub.from_settings(digest_settings(data_dir, **overrides), migrate=False)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()


def add_readers(
    hub: Hub, count: int, *, prefix: str = "reader", top_n: int = 3, max_papers: int = 5
) -> list[str]:
    """Add `count` confirmed daily subscribers; return their addresses."""
    addresses = [f"{prefix}{n:05d}@example.net" for n in range(count)]
    prefs = Preferences(frequency="daily", top_n=top_n, max_papers=max_papers, personal=False)
    with hub.db.write() as conn:
        add_subscribers_bulk(
            conn,
            [(a, prefs) for a in addresses],
            now=dt.datetime(2026, 3, 1),
            confirmed=True,
        )
    return addresses


def latest_day(hub: Hub) -> dt.date:
    with hub.db.read() as conn:
        day = latest_feed_day(conn)
    assert day is not None
    return day
