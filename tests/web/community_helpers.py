"""Helpers for the community tests: read a form's CSRF token, sign in through the mailbox."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from paperfeed.db.mailbox import list_messages
from paperfeed.hub import Hub

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/sign-in/verify\?token=\S+)")


def csrf_from(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return html.unescape(found.group(1))


def csrf(client: TestClient, path: str = "/sign-in") -> str:
    """The CSRF token of this client's browser, read from a page with a form."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    return csrf_from(response.text)


def mailed_link(hub: Hub, address: str) -> str:
    """The path of the newest sign-in link mailed to `address` (from the dev mailbox)."""
    with hub.db.read() as conn:
        messages = list_messages(conn, to=address, limit=1)
    assert messages, f"no mail for {address}"
    body = messages[0].parsed().get_body(preferencelist=("plain",))
    assert body is not None
    found = _LINK.search(body.get_content())
    assert found, "the mail holds no sign-in link"
    parts = urlsplit(found.group(1))
    return f"{parts.path}?{parts.query}"


def ask_for_link(client: TestClient, address: str, next_path: str = "/") -> None:
    response = client.post(
        "/sign-in",
        data={"email": address, "next": next_path, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text[:500]


def sign_in(client: TestClient, hub: Hub, address: str, next_path: str = "/") -> str:
    """Sign `client` in as `address` the way a reader does; return where it was sent."""
    ask_for_link(client, address, next_path)
    link = mailed_link(hub, address)
    confirm = client.get(link)
    assert confirm.status_code == 200, confirm.text[:500]
    token = urlsplit(link).query.split("=", 1)[1]
    done = client.post(
        "/sign-in/verify",
        data={"token": html.unescape(token), "csrf_token": csrf_from(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    return done.headers["location"]
