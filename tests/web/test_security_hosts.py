"""Exposure: the hub answers only to its own host names, checks Origin against them (not against
whatever Host a request claims), and shows the development mailbox to this machine only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from paperfeed.db.mailbox import list_messages
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import SECURITY_HEADERS, create_app
from paperfeed.web.csrf import is_same_origin
from tests.web.community_helpers import csrf_from

EVIL = "evil.example"


def _hub(tmp_path: Path, **overrides: object) -> Hub:
    fields: dict[str, object] = {"public_url": "https://hub.example.org", "allowed_hosts": []}
    return Hub.from_settings(Settings(data_dir=tmp_path, **{**fields, **overrides}))  # type: ignore[arg-type]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = _hub(tmp_path)
    yield hub
    hub.close()


def _client(hub: Hub, base_url: str = "https://hub.example.org", **kwargs: object) -> TestClient:
    return TestClient(create_app(hub), base_url=base_url, **kwargs)  # type: ignore[arg-type]


def test_an_unknown_host_gets_400_with_security_headers(hub: Hub) -> None:
    client = _client(hub)
    response = client.get("/", headers={"Host": EVIL})
    assert response.status_code == 400
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert EVIL not in response.text


def test_the_trailing_slash_redirect_never_points_at_the_claimed_host(hub: Hub) -> None:
    client = _client(hub)
    for path in ("/digest/", "/dev/mailbox/", "/sign-in/", "/trending/"):
        response = client.get(path, headers={"Host": EVIL}, follow_redirects=False)
        assert response.status_code == 400, path
        assert EVIL not in response.headers.get("location", ""), path
    good = client.get("/digest/", follow_redirects=False)
    assert good.status_code in (307, 308)
    assert good.headers["location"].startswith("https://hub.example.org/")


def test_the_public_url_host_and_allowed_hosts_are_served(tmp_path: Path) -> None:
    hub = _hub(tmp_path, allowed_hosts=["hub.internal", "*.example.net"])
    try:
        client = _client(hub)
        for host in ("hub.example.org", "HUB.example.org:443", "hub.internal", "a.example.net"):
            assert client.get("/", headers={"Host": host}).status_code == 200, host
        for host in ("example.net", "hub.example.org.evil.example", "", "localhost"):
            assert client.get("/", headers={"Host": host}).status_code == 400, host
    finally:
        hub.close()


def test_loopback_names_are_allowed_only_on_a_loopback_address(hub: Hub) -> None:
    local = _client(hub, base_url="http://127.0.0.1:8000")
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert local.get("/", headers={"Host": host}).status_code == 200, host
    exposed = _client(hub, base_url="http://192.0.2.10:8000")
    assert exposed.get("/", headers={"Host": "localhost:8000"}).status_code == 400
    assert exposed.get("/", headers={"Host": "hub.example.org"}).status_code == 200


def test_dns_rebinding_cannot_read_a_token_and_post_with_it(tmp_path: Path) -> None:
    """A page on evil.example (resolving to 127.0.0.1) is same-origin with itself in the browser."""
    hub = _hub(tmp_path, public_url="http://127.0.0.1:8000")
    try:
        client = _client(hub, base_url=f"http://{EVIL}:8000")
        client.headers["Host"] = f"{EVIL}:8000"
        page = client.get("/sign-in")
        assert page.status_code == 400
        token = csrf_from(_client(hub, base_url="http://127.0.0.1:8000").get("/sign-in").text)
        posted = client.post(
            "/sign-in",
            data={"email": "victim@example.org", "csrf_token": token},
            headers={"Origin": f"http://{EVIL}:8000"},
        )
        assert posted.status_code == 400
        with hub.db.read() as conn:
            assert list_messages(conn) == []
    finally:
        hub.close()


def _request(host: str, server: tuple[str, int] = ("127.0.0.1", 8000)) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/sign-in",
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "server": server,
    }
    return Request(scope)


def test_origin_is_checked_against_the_public_url_not_the_claimed_host() -> None:
    settings = Settings(public_url="http://127.0.0.1:8000", allowed_hosts=[])
    assert is_same_origin("http://127.0.0.1:8000", _request("127.0.0.1:8000"), settings)
    assert is_same_origin("http://localhost:8000", _request("localhost:8000"), settings)
    assert not is_same_origin(f"http://{EVIL}:8000", _request(f"{EVIL}:8000"), settings)
    assert not is_same_origin("http://localhost:8000", _request("127.0.0.1:8000"), settings)
    exposed = _request("localhost:8000", server=("192.0.2.10", 8000))
    assert not is_same_origin("http://localhost:8000", exposed, settings)


def test_the_dev_mailbox_is_shown_to_this_machine_only(hub: Hub) -> None:
    for client_address in ("127.0.0.1", "::1"):
        local = _client(hub, client=(client_address, 50000))
        assert local.get("/dev/mailbox").status_code == 200, client_address
    remote = _client(hub, client=("203.0.113.7", 50000))
    for path in ("/dev/mailbox", "/dev/mailbox/1", "/dev/mailbox/1/html"):
        response = remote.get(path)
        assert response.status_code == 404, path
        assert "Content-Security-Policy" in response.headers
    proxied = _client(hub, client=("127.0.0.1", 50000))
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        response = proxied.get("/dev/mailbox", headers={header: "203.0.113.7"})
        assert response.status_code == 404, header


def test_allow_public_dev_mailbox_shows_it_to_everyone(tmp_path: Path) -> None:
    hub = _hub(tmp_path, allow_public_dev_mailbox=True)
    try:
        remote = _client(hub, client=("203.0.113.7", 50000))
        assert remote.get("/dev/mailbox").status_code == 200
    finally:
        hub.close()
