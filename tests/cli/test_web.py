"""`paperfeed serve`: it refuses to expose the development mailbox, trusts X-Forwarded-* only
from the proxies it is given, and caps request bodies on a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.cli._console import EXIT_USAGE
from paperfeed.db.mailbox import list_messages

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    for name in ("DATABASE_URL", "SMTP_HOST", "ALLOW_PUBLIC_DEV_MAILBOX", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(f"PAPERFEED_{name}", raising=False)
    return tmp_path / "data"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced by a recorder: the outside server is not started."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    return calls


def test_serve_refuses_a_public_address_while_the_dev_mailbox_is_on(
    served: list[dict[str, Any]],
) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.10", "hub.example.org"):
        result = runner.invoke(app, ["serve", "--host", host])
        assert result.exit_code == 2, host
        assert "PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true" in result.stderr
        assert "PAPERFEED_SMTP_HOST" in result.stderr
    assert served == []


def test_serve_on_loopback_or_with_smtp_or_when_allowed(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert runner.invoke(app, ["serve", "--host", host]).exit_code == 0, host
    monkeypatch.setenv("PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX", "true")
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    monkeypatch.delenv("PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX")
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "smtp.example.org")
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    hosts = [call["host"] for call in served]
    assert hosts == ["127.0.0.1", "localhost", "::1", "0.0.0.0", "0.0.0.0"]


def test_serve_trusts_no_proxy_headers_unless_told(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.invoke(app, ["serve"])
    assert served[-1]["proxy_headers"] is False
    runner.invoke(app, ["serve", "--forwarded-allow-ips", "10.0.0.1, 10.0.0.2"])
    assert served[-1]["proxy_headers"] is True
    assert served[-1]["forwarded_allow_ips"] == ["10.0.0.1", "10.0.0.2"]
    monkeypatch.setenv("PAPERFEED_FORWARDED_ALLOW_IPS", "127.0.0.1")
    runner.invoke(app, ["serve"])
    assert served[-1]["forwarded_allow_ips"] == ["127.0.0.1"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def real_server(data_dir: Path, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Start `paperfeed serve` in a subprocess on a free loopback port (args set per test)."""
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def start(*args: str) -> str:
        port = _free_port()
        env = {**os.environ, "PAPERFEED_MAX_BODY_BYTES": str(64 * 1024)}
        log = (tmp_path / f"serve-{port}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/static/style.css", timeout=1)
                return url
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
                time.sleep(0.2)
        raise RuntimeError("paperfeed serve did not start")

    yield start  # type: ignore[misc]
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
    for log in logs:
        log.close()


@pytest.mark.slow  # two servers start, ~15 s each on 2 shared cores
def test_a_real_server_ignores_forwarded_headers_by_default(real_server: Any) -> None:
    url = real_server()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    response = httpx.get(url + "/digest/", headers=headers, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == url + "/digest"
    trusting = real_server("--forwarded-allow-ips", "127.0.0.1")
    response = httpx.get(trusting + "/digest/", headers=headers, follow_redirects=False)
    assert response.headers["location"].startswith("https://")


@pytest.mark.slow
def test_a_real_server_cuts_off_a_streamed_body(real_server: Any) -> None:
    url = real_server()
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"name": "'
        for _ in range(2048):  # 16 MB if it were all read
            sent += 8192
            yield b"x" * 8192
        yield b'"}'

    headers = {"Content-Type": "application/json", "Authorization": "Bearer nope"}
    try:
        response = httpx.post(url + "/api/collections", content=body(), headers=headers)
        assert response.status_code == 413
    except httpx.WriteError:  # the server answered and closed while the body was still going
        pass
    assert httpx.get(url + "/static/style.css").status_code == 200


@pytest.fixture
def served_apps(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """uvicorn.run replaced by a recorder of the apps it was given."""
    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    return apps


def test_links_follow_the_port_unless_a_public_url_is_set(
    served_apps: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from tests.web.community_helpers import ask_for_link

    port = _free_port()
    assert runner.invoke(app, ["serve", "--port", str(port)]).exit_code == 0
    monkeypatch.setenv("PAPERFEED_PORT", str(_free_port()))
    assert runner.invoke(app, ["serve"]).exit_code == 0
    monkeypatch.setenv("PAPERFEED_PUBLIC_URL", "https://papers.example.org")
    assert runner.invoke(app, ["serve", "--port", str(port)]).exit_code == 0
    by_flag, by_env, explicit = (served.state.hub for served in served_apps)
    assert by_flag.settings.public_url == f"http://127.0.0.1:{port}"
    assert by_env.settings.public_url == f"http://127.0.0.1:{os.environ['PAPERFEED_PORT']}"
    assert explicit.settings.public_url == "https://papers.example.org"
    with TestClient(served_apps[0], base_url=f"http://127.0.0.1:{port}") as client:
        ask_for_link(client, "ada@example.org")
        with by_flag.db.read() as conn:
            (mail,) = list_messages(conn, to="ada@example.org", limit=1)
        body = mail.parsed().get_body(preferencelist=("plain",))
        assert body is not None
        assert f"http://127.0.0.1:{port}/sign-in/verify?token=" in body.get_content()
        feed = client.get("/papers.rss")
        assert feed.status_code == 200 and f"<link>http://127.0.0.1:{port}/" in feed.text
        assert ":8000" not in feed.text
    for served in served_apps:
        served.state.hub.close()


def test_a_busy_port_is_named_before_serving_with_a_hint(served: list[dict[str, Any]]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == EXIT_USAGE == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr and "PAPERFEED_PORT" in result.stderr
    assert "serving" not in result.stderr and "Errno" not in result.stderr
    assert served == []
