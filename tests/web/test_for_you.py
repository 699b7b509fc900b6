"""The For you page, its card signals, home's switch, GET /api/for-you and the private feed
whose token a reader can replace or revoke, on a real store through the real app."""

from __future__ import annotations

import re

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.community.accounts import create_api_token
from paperfeed.db.users import get_user_by_email
from paperfeed.hub import Hub
from paperfeed.web.app import create_app
from tests.recommend.conftest import hub, ids, title_of, topic_of, topic_store  # noqa: F401
from tests.web.community_helpers import csrf_from, sign_in

READER = "reader@example.org"


@pytest.fixture
def client(hub: Hub) -> TestClient:  # noqa: F811
    made = TestClient(create_app(hub))
    sign_in(made, hub, READER)
    return made


def upvote(client: TestClient, paper_id: str) -> None:
    page = client.get(f"/papers/{paper_id}")
    response = client.post(
        f"/papers/{paper_id}/upvote",
        data={"csrf_token": csrf_from(page.text), "action": "add"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def signal(client: TestClient, paper_id: str, kind: str) -> int:
    page = client.get("/for-you")
    response = client.post(
        f"/papers/{paper_id}/signal",
        data={"csrf_token": csrf_from(page.text), "kind": kind, "next": "/for-you"},
        follow_redirects=False,
    )
    return response.status_code


def picked(text: str) -> list[str]:
    return re.findall(r'class="card-title math" id="paper-\d+"><a href="/papers/([^"]+)"', text)


def test_home_becomes_for_you_once_a_reader_has_signals_and_can_switch_back(
    client: TestClient,
) -> None:
    assert client.get("/", follow_redirects=False).status_code == 200  # no signals yet
    empty = client.get("/for-you")
    assert "Nothing to pick yet" in empty.text
    liked = ids("graph", old=True)[:2]
    for pid in liked:
        upvote(client, pid)
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/for-you"
    page = client.get("/for-you")
    shown = picked(page.text)
    assert len(shown) == 30  # the window's 36 papers, best first: the 12 new graph papers lead
    assert [topic_of(pid) for pid in shown[:12]] == ["graph"] * 12
    assert "because you upvoted \u201c" in page.text
    assert any(title_of(pid) in page.text for pid in liked)
    assert "More like this" in page.text and "Not interested" in page.text
    # The switch back: the community feed, remembered until For you is opened again.
    community = client.get("/?feed=community", follow_redirects=False)
    assert community.status_code == 200 and "paperfeed_home=community" in community.headers.get(
        "set-cookie", ""
    )
    assert client.get("/", follow_redirects=False).status_code == 200
    client.get("/for-you")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_more_like_this_and_not_interested_change_the_list(client: TestClient) -> None:
    asked = ids("quantum", old=True)[0]
    assert signal(client, asked, "more") == 303
    shown = picked(client.get("/for-you").text)
    assert shown and topic_of(shown[0]) == "quantum"
    assert signal(client, shown[0], "less") == 303
    assert shown[0] not in picked(client.get("/for-you").text)
    assert signal(client, asked, "sideways") == 400
    assert signal(client, "0000.00000", "more") == 404


def test_the_api_gives_the_same_picks_with_reasons(client: TestClient, hub: Hub) -> None:  # noqa: F811
    upvote(client, ids("language", old=True)[0])
    with hub.db.read() as conn:
        user = get_user_by_email(conn, READER)
    assert user is not None
    token = create_api_token(db=hub.db, user_id=user.user_id, name="t")
    anonymous = TestClient(create_app(hub))
    assert anonymous.get("/api/for-you").status_code == 401
    body = anonymous.get(
        "/api/for-you?limit=5", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert len(body["picks"]) == 5
    assert [p["paper"]["id"] for p in body["picks"]] == picked(client.get("/for-you").text)[:5]
    assert all(p["reason"].startswith("because you upvoted") for p in body["picks"])
    assert body["since"] <= body["until"]


def test_the_private_feed_works_until_its_token_is_replaced_or_revoked(
    client: TestClient,
    hub: Hub,  # noqa: F811
) -> None:
    upvote(client, ids("graph", old=True)[0])
    page = client.get("/for-you")
    made = client.post("/for-you/feed", data={"csrf_token": csrf_from(page.text)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    url = re.search(r'<code class="token" id="new-feed">([^<]+)</code>', made.text)
    assert url is not None
    path = "/" + url.group(1).split("/", 3)[3]
    reader = TestClient(create_app(hub))  # a feed reader: no cookie
    rss = reader.get(path)
    assert rss.status_code == 200 and "private" in rss.headers["cache-control"]
    parsed = feedparser.parse(rss.content)
    assert parsed.entries and all(
        topic_of(e.link.rsplit("/", 1)[1]) == "graph" for e in parsed.entries[:12]
    )
    assert parsed.entries[0].summary.startswith("because you upvoted")
    atom = reader.get(path.replace(".rss", ".atom"))
    assert atom.status_code == 200 and feedparser.parse(atom.content).entries
    # A new link revokes the old one.
    again = client.post("/for-you/feed", data={"csrf_token": csrf_from(page.text)})
    assert "A link made" not in again.text
    assert reader.get(path).status_code == 404
    second = re.search(r'<code class="token" id="new-feed">([^<]+)</code>', again.text)
    assert second is not None
    second_path = "/" + second.group(1).split("/", 3)[3]
    assert reader.get(second_path).status_code == 200
    assert "A link made" in client.get("/for-you").text
    client.post("/for-you/feed/revoke", data={"csrf_token": csrf_from(page.text)})
    assert reader.get(second_path).status_code == 404
    assert reader.get("/for-you/nothing.rss").status_code == 404
    assert reader.get(second_path.replace(".rss", ".json")).status_code == 404


def test_a_hub_without_vectors_keeps_the_community_feed_as_home(
    client: TestClient,
    hub: Hub,  # noqa: F811
) -> None:
    # Found in the browser journey: a reader's first upvote sent home to an empty For you.
    upvote(client, ids("graph", old=True)[0])
    assert client.get("/", follow_redirects=False).status_code == 303
    with hub.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM paper_vectors")
    hub.search_index.ensure_fresh(force=True)
    assert client.get("/", follow_redirects=False).status_code == 200
