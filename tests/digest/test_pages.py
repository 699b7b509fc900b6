"""Digest pages: subscribe with double opt-in through the dev mailbox, preferences by link,
preview, RFC 8058 one-click unsubscribe, and the subscribe API with its daily limit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.digests import get_subscriber
from paperfeed.db.mailbox import list_messages
from paperfeed.hub import Hub
from paperfeed.web.app import create_app
from tests.digest.conftest import PUBLIC_URL

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def hub(hub_factory: Callable[..., Hub]) -> Hub:
    return hub_factory(digest_confirmations_per_day=2)  # no SMTP host: the dev mailbox


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), base_url=PUBLIC_URL) as c:
        yield c


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = CSRF.search(page.text)
    assert match is not None
    return match.group(1)


def confirmation_link(hub: Hub, address: str) -> str:
    with hub.db.read() as conn:
        messages = list_messages(conn, to=address)
    assert messages
    body = messages[0].parsed().get_body(("plain",))
    assert body is not None
    match = re.search(r"https://\S+/digest/confirm\?token=\S+", body.get_content())
    assert match is not None
    return match.group(0)


def test_subscribe_confirm_by_mail_then_manage_preferences(client: TestClient, hub: Hub) -> None:
    token = csrf(client, "/digest")
    answer = client.post(
        "/digest/subscribe",
        data={
            "csrf_token": token,
            "email": "Ada@Example.org",
            "frequency": "weekly",
            "weekday": "2",
            "categories": "cs.CL, stat.ML",
            "searches": "diffusion models\nprotein folding",
        },
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    with hub.db.read() as conn:
        pending = get_subscriber(conn, email="ada@example.org")
    assert pending is not None and pending.status == "pending" and not pending.receives
    assert pending.categories == ("cs.CL", "stat.ML") and pending.weekday == 2
    link = confirmation_link(hub, "ada@example.org")
    path = link.removeprefix(PUBLIC_URL)
    # Opening the link changes nothing; the button does.
    page = client.get(path)
    assert page.status_code == 200 and "Yes, send me the digest" in page.text
    with hub.db.read() as conn:
        assert not get_subscriber(conn, email="ada@example.org").receives  # type: ignore[union-attr]
    confirm_token = path.split("token=")[1]
    done = client.post(
        "/digest/confirm",
        data={"csrf_token": csrf(client, path), "token": confirm_token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    manage = done.headers["location"]
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, email="ada@example.org")
    assert subscriber is not None and subscriber.receives
    assert manage.startswith(f"/digest/manage/{subscriber.token}")
    # The link works once.
    again = client.post(
        "/digest/confirm", data={"csrf_token": csrf(client, path), "token": confirm_token}
    )
    assert again.status_code == 400
    # Preferences through the signed link.
    page = client.get(manage)
    assert "cs.CL, stat.ML" in page.text
    saved = client.post(
        f"/digest/manage/{subscriber.token}",
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "frequency": "daily",  # type: ignore[union-attr]
            "top_n": "5",
            "max_papers": "8",
            "categories": "",
            "searches": "",
            "paused": "true",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with hub.db.read() as conn:
        changed = get_subscriber(conn, email="ada@example.org")
    assert changed is not None and changed.paused and changed.top_n == 5 and not changed.receives


def test_confirmation_mails_are_limited_per_address_per_day(client: TestClient) -> None:
    for _ in range(2):
        answer = client.post("/api/digest/subscribe", json={"email": "bob@example.org"})
        assert answer.status_code == 202 and answer.json() == {"status": "confirmation_sent"}
    third = client.post("/api/digest/subscribe", json={"email": "bob@example.org"})
    assert third.status_code == 429 and "Retry-After" in third.headers


def test_one_click_unsubscribe_is_a_cookieless_post_and_a_get_only_asks(
    client: TestClient, hub: Hub
) -> None:
    from paperfeed.db.digests import add_subscriber
    from paperfeed.db.schema import utc_now

    with hub.db.write() as conn:
        subscriber, _ = add_subscriber(
            conn, email="carol@example.org", now=utc_now(), confirmed=True
        )
    url = f"/digest/unsubscribe/{subscriber.token}"
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe?" in page.text
    with hub.db.read() as conn:
        assert get_subscriber(conn, email="carol@example.org").status == "active"  # type: ignore[union-attr]
    # What a mail client sends (RFC 8058): a POST with no cookies and no CSRF token.
    with TestClient(create_app(hub), base_url=PUBLIC_URL) as mail_client:
        answer = mail_client.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    with hub.db.read() as conn:
        assert get_subscriber(conn, email="carol@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert client.post("/digest/unsubscribe/not-a-token").status_code == 404


def test_preview_shows_the_digest_and_its_html_in_a_sandbox(client: TestClient) -> None:
    page = client.get("/digest/preview")
    assert page.status_code == 200 and "10 papers" in page.text
    frame = client.get("/digest/preview/message.html")
    assert frame.status_code == 200
    assert frame.headers["content-security-policy"].startswith("sandbox")
    assert "Unsubscribe" in frame.text


def test_bad_addresses_are_refused(client: TestClient) -> None:
    token = csrf(client, "/digest")
    answer = client.post("/digest/subscribe", data={"csrf_token": token, "email": "nope"})
    assert answer.status_code == 422 and "Enter an email address" in answer.text
    assert client.post("/api/digest/subscribe", json={"email": "x"}).status_code == 422


def test_a_signed_in_reader_subscribing_their_own_address_is_confirmed_at_once(
    client: TestClient, hub: Hub
) -> None:
    from tests.web.community_helpers import sign_in

    sign_in(client, hub, "dana@example.org")
    page = client.get("/digest")
    assert 'value="dana@example.org"' in page.text
    answer = client.post(
        "/digest/subscribe",
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "email": "dana@example.org",  # type: ignore[union-attr]
            "personal": "true",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "/digest/manage/" in answer.headers["location"]
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, email="dana@example.org")
    assert subscriber is not None and subscriber.receives and subscriber.user_id is not None
    # Someone else's address still needs its owner's confirmation.
    other = client.post(
        "/digest/subscribe",
        data={"csrf_token": CSRF.search(page.text).group(1), "email": "eve@example.org"},  # type: ignore[union-attr]
    )
    assert "Check your inbox" in other.text
    with hub.db.read() as conn:
        eve = get_subscriber(conn, email="eve@example.org")
    assert eve is not None and not eve.receives and eve.user_id is None


def _subscriber_in_state(hub: Hub, address: str, state: str) -> None:
    """Put `address` on the list as new (absent), pending, active or unsubscribed."""
    from paperfeed.db.digests import add_subscriber, unsubscribe
    from paperfeed.db.schema import utc_now

    if state == "new":
        return
    with hub.db.write() as conn:
        subscriber, _ = add_subscriber(
            conn, email=address, now=utc_now(), confirmed=state != "pending"
        )
        if state == "unsubscribed":
            unsubscribe(conn, subscriber_id=subscriber.subscriber_id, now=utc_now())


@pytest.mark.parametrize("state", ["new", "pending", "active", "unsubscribed"])
def test_the_subscribe_api_answers_alike_whatever_the_address_state(
    client: TestClient, hub: Hub, state: str
) -> None:
    """Issue #9: an active address never reached the limit, so a 429 told who subscribed."""
    _subscriber_in_state(hub, "fay@example.org", state)
    answers = [
        client.post("/api/digest/subscribe", json={"email": "Fay@Example.org"}) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert [a.json() for a in answers[:2]] == [{"status": "confirmation_sent"}] * 2
    said = (
        "We already sent confirmation mails to this address today; "
        "look for them, or try again tomorrow."
    )
    assert answers[2].json() == {"error": said, "detail": said}
    assert answers[2].headers["Retry-After"] == "86400"


@pytest.mark.parametrize("state", ["new", "pending", "active", "unsubscribed"])
def test_the_subscribe_form_answers_alike_whatever_the_address_state(
    client: TestClient, hub: Hub, state: str
) -> None:
    _subscriber_in_state(hub, "gil@example.org", state)
    token = csrf(client, "/digest")
    answers = [
        client.post("/digest/subscribe", data={"csrf_token": token, "email": "gil@example.org"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    pages = {a.text.replace(token, "") for a in answers[:2]}
    assert len(pages) == 1 and "Check your inbox" in pages.pop()


def test_subscriber_addresses_are_normalized_by_the_one_address_parser(
    client: TestClient, hub: Hub
) -> None:
    for bad in ("a@x.org,b@y.org", "victim@x.org;1", "a@x.org\r\nBcc: b@y.org", "x\x00@y.org"):
        assert client.post("/api/digest/subscribe", json={"email": bad}).status_code == 422
    assert client.post("/api/digest/subscribe", json={"email": " Hal@Example.ORG "}).is_success
    with hub.db.read() as conn:
        stored = get_subscriber(conn, email="hal@example.org")
    assert stored is not None and stored.email == "hal@example.org"
