"""CSRF: every state change needs this browser's token and a same-site origin, or gets 403
and changes nothing. Rate limits answer 429 with Retry-After."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperfeed.db.mailbox import list_messages
from paperfeed.db.schema import sessions
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.web.csrf import CSRF_EXEMPT_PATHS
from tests.web.community_helpers import csrf, sign_in


def _mail_count(hub: Hub) -> int:
    with hub.db.read() as conn:
        return len(list_messages(conn))


def test_post_without_token_is_refused_and_changes_nothing(
    client: TestClient, sample_hub: Hub
) -> None:
    client.get("/sign-in")  # the browser has its cookie, just no token in the form
    response = client.post("/sign-in", data={"email": "a@example.org", "next": "/"})
    assert response.status_code == 403
    assert _mail_count(sample_hub) == 0


def test_post_with_another_browsers_token_is_refused(client: TestClient, sample_hub: Hub) -> None:
    other = TestClient(client.app)
    stolen = csrf(other)
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": "a@example.org", "csrf_token": stolen})
    assert response.status_code == 403
    assert _mail_count(sample_hub) == 0


def test_post_without_any_cookie_is_refused(client: TestClient, sample_hub: Hub) -> None:
    token = csrf(client)
    bare = TestClient(client.app)
    response = bare.post("/sign-in", data={"email": "a@example.org", "csrf_token": token})
    assert response.status_code == 403
    assert _mail_count(sample_hub) == 0


def test_cross_site_origin_is_refused_even_with_a_token(
    client: TestClient, sample_hub: Hub
) -> None:
    token = csrf(client)
    for headers in (
        {"Origin": "https://evil.test"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = client.post(
            "/sign-in", data={"email": "a@example.org", "csrf_token": token}, headers=headers
        )
        assert response.status_code == 403, headers
    assert _mail_count(sample_hub) == 0
    same = client.post(
        "/sign-in",
        data={"email": "a@example.org", "csrf_token": token},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert _mail_count(sample_hub) == 1


def test_token_in_a_header_works_for_scripts(client: TestClient, sample_hub: Hub) -> None:
    token = csrf(client)
    response = client.post(
        "/sign-in", data={"email": "a@example.org"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200
    assert _mail_count(sample_hub) == 1


def test_sign_out_needs_a_token(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert client.post("/sign-out", follow_redirects=False).status_code == 403
    with sample_hub.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(sessions)) == 1
    assert "Sign out" in client.get("/").text


def test_every_unsafe_method_is_checked(client: TestClient) -> None:
    client.get("/")
    for path in ("/papers/2401.00001/upvote", "/submit", "/collections", "/settings/tokens"):
        assert client.post(path).status_code == 403, path
    # Where no route takes the method, nothing can change: the answer says what is wrong.
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/no-such-page").status_code == 404
        assert client.request(method, "/search").status_code == 405


def test_the_exemptions_are_few_and_explained() -> None:
    # /mcp: read-only tools; the unsubscribe links: RFC 8058 one-click posts from mail clients
    assert set(CSRF_EXEMPT_PATHS) == {"/digest/unsubscribe", "/notifications/unsubscribe", "/mcp"}
    assert all(len(reason) > 20 for reason in CSRF_EXEMPT_PATHS.values())


def test_sign_in_is_rate_limited_per_client(client: TestClient, sample_hub: Hub) -> None:
    token = csrf(client)
    statuses = []
    for number in range(12):
        response = client.post(
            "/sign-in", data={"email": f"r{number}@example.org", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    assert 0 < int(response.headers["retry-after"]) <= 600
    assert _mail_count(sample_hub) == 10


def test_sign_in_is_rate_limited_per_address(client: TestClient, sample_hub: Hub) -> None:
    token = csrf(client)
    statuses = [
        client.post("/sign-in", data={"email": "same@example.org", "csrf_token": token}).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert _mail_count(sample_hub) == 5


def test_tokens_are_masked_per_page_and_all_work(client: TestClient, sample_hub: Hub) -> None:
    first, second = csrf(client), csrf(client)
    assert first != second  # never the same bytes twice in a compressed page (BREACH)
    for token in (first, second):
        response = client.post("/sign-in", data={"email": "a@example.org", "csrf_token": token})
        assert response.status_code == 200
    forged = first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB")
    assert (
        client.post("/sign-in", data={"email": "a@example.org", "csrf_token": forged}).status_code
        == 403
    )
    assert _mail_count(sample_hub) == 2


def test_signed_in_forms_need_the_token_too(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    paper = "2603.12270"
    token = csrf(client)
    with sample_hub.db.read() as conn:
        before = card_stats(conn, [paper], user_id=None)[paper]
    attempts = [
        ("/papers/2603.12270/upvote", {"action": "add"}, {}),
        ("/papers/2603.12270/comments", {"body": "forged"}, {}),
        ("/collections", {"name": "forged"}, {}),
        (
            "/papers/2603.12270/upvote",
            {"action": "add", "csrf_token": token},
            {"Origin": "https://evil.test"},
        ),
        (
            "/papers/2603.12270/comments",
            {"body": "forged", "csrf_token": token},
            {"Sec-Fetch-Site": "cross-site"},
        ),
    ]
    for path, data, headers in attempts:
        response = client.post(path, data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403, (path, headers)
    with sample_hub.db.read() as conn:
        assert card_stats(conn, [paper], user_id=None)[paper] == before
    assert "forged" not in client.get("/collections").text
