"""Sign-in by magic link, sessions, sign-out, cookie attributes and safe redirects."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from paperfeed.db.mailbox import list_messages
from paperfeed.db.schema import sessions, sign_in_links, users
from paperfeed.db.users import get_or_create_user, get_user_by_email
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from paperfeed.web.auth import safe_next
from tests.web.community_helpers import ask_for_link, csrf, csrf_from, mailed_link, sign_in

EVIL_NEXT = [
    "//evil.test",
    "https://evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "http:/evil.test",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1\r\n",
    "///evil.test",
    " //evil.test",
    "",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_safe_next_sends_anything_off_site_home(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/papers/2401.00001", "/search?q=a+b&page=2", "/x#y"])
def test_safe_next_keeps_paths_on_this_site(target: str) -> None:
    assert safe_next(target) == target


def test_sign_in_through_the_mailbox_then_sign_out(client: TestClient, sample_hub: Hub) -> None:
    anonymous = client.get("/")
    assert "Sign in" in anonymous.text and "Sign out" not in anonymous.text
    assert sign_in(client, sample_hub, "Ada@Example.org", "/search?q=graph") == "/search?q=graph"
    home = client.get("/")
    assert "Sign out" in home.text and ">ada<" in home.text.replace(" ", "")
    with sample_hub.db.read() as conn:
        user = get_user_by_email(conn, "ada@example.org")
        assert user is not None and user.role == "member"
        assert conn.scalar(select(func.count()).select_from(sessions)) == 1
    out = client.post("/sign-out", data={"csrf_token": csrf(client, "/")}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "Sign out" not in client.get("/").text
    with sample_hub.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(sessions)) == 0


def test_the_mail_names_the_link_and_the_page_does_not_show_it(
    client: TestClient, sample_hub: Hub
) -> None:
    ask_for_link(client, "bea@example.org")
    link = mailed_link(sample_hub, "bea@example.org")
    token = link.split("=", 1)[1]
    assert len(token) >= 40
    mailbox = client.get("/dev/mailbox")
    assert "Your sign-in link for Test Papers" in mailbox.text
    message_id = re.search(r'href="/dev/mailbox/(\d+)"', mailbox.text)
    assert message_id
    page = client.get(f"/dev/mailbox/{message_id.group(1)}")
    assert token in html.unescape(page.text)  # linkified in the text part
    assert 'sandbox src="/dev/mailbox/' in page.text
    part = client.get(f"/dev/mailbox/{message_id.group(1)}/html")
    assert part.headers["content-security-policy"].startswith("sandbox;")
    assert "script-src" not in part.headers["content-security-policy"]


def test_a_link_works_once(client: TestClient, sample_hub: Hub) -> None:
    ask_for_link(client, "cy@example.org")
    link = mailed_link(sample_hub, "cy@example.org")
    token = html.unescape(link.split("=", 1)[1])
    confirm = client.get(link)
    form = {"token": token, "csrf_token": csrf_from(confirm.text)}
    assert client.post("/sign-in/verify", data=form, follow_redirects=False).status_code == 303
    again = client.post("/sign-in/verify", data=form, follow_redirects=False)
    assert again.status_code == 410 and "used already" in again.text
    assert client.get(link).status_code == 410


def test_a_link_expires_after_ten_minutes(client: TestClient, sample_hub: Hub) -> None:
    ask_for_link(client, "di@example.org")
    link = mailed_link(sample_hub, "di@example.org")
    with sample_hub.db.write() as conn:
        row = conn.execute(select(sign_in_links.c.created_at, sign_in_links.c.expires_at)).one()
        assert row.expires_at - row.created_at == dt.timedelta(minutes=10)
        conn.execute(update(sign_in_links).values(expires_at=row.created_at))
    response = client.get(link)
    assert response.status_code == 410 and "expired" in response.text


def test_a_link_works_only_in_the_browser_that_asked(client: TestClient, sample_hub: Hub) -> None:
    ask_for_link(client, "eve@example.org")
    link = mailed_link(sample_hub, "eve@example.org")
    other = TestClient(client.app)
    response = other.get(link)
    assert response.status_code == 403 and "browser where you asked" in response.text
    token = html.unescape(link.split("=", 1)[1])
    forged = other.post(
        "/sign-in/verify",
        data={"token": token, "csrf_token": csrf(other)},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers or "session" not in forged.headers["set-cookie"]
    # The link is still good in the browser that asked.
    assert client.get(link).status_code == 200


def test_unknown_and_bad_links_are_refused(client: TestClient) -> None:
    assert client.get("/sign-in/verify?token=nope").status_code == 400
    assert client.get("/sign-in/verify").status_code == 400


def test_known_and_unknown_addresses_get_the_same_answer(
    client: TestClient, sample_hub: Hub
) -> None:
    with sample_hub.db.write() as conn:
        get_or_create_user(conn, "known@example.org")
    token = csrf(client)
    answers = []
    for address in ("known@example.org", "unknown@example.org"):
        response = client.post(
            "/sign-in", data={"email": address, "next": "/", "csrf_token": token}
        )
        answers.append((response.status_code, response.text, sorted(response.headers.keys())))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    with sample_hub.db.read() as conn:  # both got a link; the unknown one has no account yet
        assert len(list_messages(conn)) == 2
        assert get_user_by_email(conn, "unknown@example.org") is None


def test_a_bad_address_is_explained(client: TestClient, sample_hub: Hub) -> None:
    response = client.post(
        "/sign-in", data={"email": "not an address", "next": "/", "csrf_token": csrf(client)}
    )
    assert response.status_code == 400 and "Enter an email address" in response.text
    with sample_hub.db.read() as conn:
        assert list_messages(conn) == []


# Issue #9 item 2: what is not exactly one address is refused before anything is stored.
NOT_ONE_ADDRESS = [
    "a@x.org,b@y.org",  # a list would mail everyone on it
    "victim@x.org;1",  # a suffix would be a fresh rate-limit key
    "ada@example.org\x00",
    "ada@example.org\r\nbcc:eve@evil.test",
    "ada@example.org\nX-Injected:1",
]


@pytest.mark.parametrize("address", NOT_ONE_ADDRESS)
def test_sign_in_refuses_what_is_not_one_address(
    client: TestClient, sample_hub: Hub, address: str
) -> None:
    with sample_hub.db.read() as conn:
        users_before = conn.scalar(select(func.count()).select_from(users))
    response = client.post(
        "/sign-in", data={"email": address, "next": "/", "csrf_token": csrf(client)}
    )
    assert response.status_code == 400 and "Enter an email address" in response.text
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with sample_hub.db.read() as conn:
        assert list_messages(conn) == []
        assert conn.scalar(select(func.count()).select_from(sign_in_links)) == 0
        assert conn.scalar(select(func.count()).select_from(users)) == users_before


def test_suffixes_do_not_bypass_the_per_address_limit(client: TestClient, sample_hub: Hub) -> None:
    token = csrf(client)

    def ask(address: str) -> int:
        data = {"email": address, "next": "/", "csrf_token": token}
        return client.post("/sign-in", data=data).status_code

    assert [ask("victim@example.org") for _ in range(5)] == [200] * 5
    assert [ask(f"victim@example.org;{n}") for n in (1, 2)] == [400, 400]
    assert ask("Victim@Example.ORG ") == 429  # the same normalized address
    with sample_hub.db.read() as conn:
        mailed = [m.recipients for m in list_messages(conn)]
    assert mailed == [("victim@example.org",)] * 5


@pytest.mark.parametrize("target", ["//evil.test", "https://evil.test", "/\\evil.test"])
def test_sign_in_never_redirects_off_site(client: TestClient, sample_hub: Hub, target: str) -> None:
    page = client.get("/sign-in", params={"next": target})
    assert 'name="next" value="/"' in page.text
    assert sign_in(client, sample_hub, "fay@example.org", target) == "/"


def test_local_plain_http_cookies_have_no_host_prefix(client: TestClient, sample_hub: Hub) -> None:
    ask_for_link(client, "gil@example.org")
    link = mailed_link(sample_hub, "gil@example.org")
    confirm = client.get(link)
    done = client.post(
        "/sign-in/verify",
        data={"token": html.unescape(link.split("=", 1)[1]), "csrf_token": csrf_from(confirm.text)},
        follow_redirects=False,
    )
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("paperfeed_session=")
    assert "HttpOnly" in cookie and "Path=/" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie


@pytest.fixture
def https_client(tmp_path: Path, sample_db_file: Path) -> Iterator[tuple[TestClient, Hub]]:
    import shutil

    shutil.copyfile(sample_db_file, tmp_path / "paperfeed.db")
    settings = Settings(
        data_dir=tmp_path, site_name="Test Papers", public_url="https://hub.example"
    )
    hub = Hub.from_settings(settings, migrate=False)
    yield TestClient(create_app(hub), base_url="https://hub.example"), hub
    hub.close()


def test_public_https_uses_host_prefixed_secure_cookies(
    https_client: tuple[TestClient, Hub],
) -> None:
    client, hub = https_client
    first = client.get("/sign-in")
    browser_cookie = first.headers["set-cookie"]
    assert browser_cookie.startswith("__Host-paperfeed_browser=")
    assert "Secure" in browser_cookie and "Domain" not in browser_cookie
    assert sign_in(client, hub, "hal@example.org", "/") == "/"
    assert "Sign out" in client.get("/").text
    session_cookies = [c for c in client.cookies.jar if c.name == "__Host-paperfeed_session"]
    assert len(session_cookies) == 1
    cookie = session_cookies[0]
    assert cookie.secure and cookie.path == "/" and not cookie.domain_specified
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_sign_in_page_links_the_dev_mailbox_only_without_smtp(client: TestClient) -> None:
    assert 'href="/dev/mailbox"' in client.get("/sign-in").text
    mailbox = client.get("/dev/mailbox")
    assert mailbox.status_code == 200 and "No mail yet" in mailbox.text


def test_dev_mailbox_is_gone_once_smtp_is_set(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=1)
    hub = Hub.from_settings(settings)
    try:
        client = TestClient(create_app(hub))
        assert client.get("/dev/mailbox").status_code == 404
        assert client.get("/dev/mailbox/1").status_code == 404
        assert 'href="/dev/mailbox"' not in client.get("/sign-in").text
    finally:
        hub.close()


def test_signed_out_readers_are_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/settings"


def test_switching_accounts_ends_the_old_session(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    sign_in(client, sample_hub, "bob@example.org")
    with sample_hub.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(sessions)) == 1
    assert ">bob<" in client.get("/").text.replace(" ", "")


def test_sessions_slide_and_expire(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    long_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=20)
    with sample_hub.db.write() as conn:
        conn.execute(
            update(sessions).values(
                last_seen_at=long_ago, expires_at=long_ago + dt.timedelta(days=30)
            )
        )
    assert "Sign out" in client.get("/").text  # still live, and now extended
    with sample_hub.db.read() as conn:
        expires = conn.execute(select(sessions.c.expires_at)).scalar_one()
    assert expires > dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=29)
    with sample_hub.db.write() as conn:
        conn.execute(update(sessions).values(expires_at=long_ago))
    assert "Sign out" not in client.get("/").text
