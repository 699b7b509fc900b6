"""A real HTTP server on 127.0.0.1, scripted per test, and a fake clock for the network sources."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from paperfeed.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"


def fixture(name: str) -> bytes:
    """Return the bytes of one canned page in tests/fixtures/arxiv/."""
    return (FIXTURES / name).read_bytes()


class FakeClock:
    """A clock whose sleeps return at once and only move its time forward."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Reply:
    """What the server answers to one request."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"
    delay_s: float = 0.0  # real seconds to wait before answering (to trigger client timeouts)
    cut_after: int | None = None  # send only this many body bytes, then drop the connection


@dataclass(frozen=True)
class Received:
    """One request the server received."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    client_port: int
    at: float  # the fake clock's time when it arrived


class ScriptedServer:
    """A ThreadingHTTPServer that answers scripted replies in order and records every request."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.requests: list[Received] = []
        self._replies: deque[Reply] = deque()
        self._route: Callable[[Received], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible
            timeout = 5  # idle keep-alive connections end on their own

            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval makes shutdown() quick (the default waits up to 0.5 s).
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def serve(self, *replies: Reply) -> None:
        """Queue replies, answered in order; an unscripted request gets a 500."""
        self._replies.extend(replies)

    def route(self, handler: Callable[[Received], Reply]) -> None:
        """Answer every request with `handler` (instead of the queue)."""
        self._route = handler

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlsplit(handler.path)
        received = Received(
            path=parsed.path,
            params={k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            client_port=handler.client_address[1],
            at=self.clock.monotonic(),
        )
        with self._lock:
            self.requests.append(received)
            if self._route is not None:
                reply = self._route(received)
            elif self._replies:
                reply = self._replies.popleft()
            else:
                reply = Reply(b"unscripted request", status=500)
        if reply.delay_s:
            self._stopping.wait(reply.delay_s)
        body = reply.body
        try:
            handler.send_response_only(reply.status)  # no automatic Date or Server header
            headers = {"Content-Type": reply.content_type, "Content-Length": str(len(body))}
            for name, value in {**headers, **reply.headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            if reply.cut_after is not None:
                handler.wfile.write(body[: reply.cut_after])
                handler.wfile.flush()
                handler.close_connection = True
            else:
                handler.wfile.write(body)
        except OSError:  # the client gave up first (a timeout test)
            handler.close_connection = True

    def close(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(clock)
    yield scripted
    scripted.close()


@pytest.fixture
def settings(server: ScriptedServer, tmp_path: Path) -> Settings:
    """Settings that point both network sources at the scripted server."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        arxiv_api_url=f"{server.url}/api/query",
        oai_pmh_url=f"{server.url}/oai2",
        arxiv_request_interval_s=3.0,
        http_timeout_s=5.0,
        http_retries=3,
    )
