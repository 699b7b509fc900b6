"""Your topics on the For you page: chosen categories and saved searches through the real app
(forms with CSRF, sign-in and a rate limit; "Save this search" on the search page; hostile
queries escaped) and `GET/PUT /api/for-you/topics`."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from paperfeed.community.accounts import create_api_token
from paperfeed.db.users import get_user_by_email
from paperfeed.hub import Hub
from paperfeed.recommend.topics import SEED_CACHE, show_topics
from paperfeed.web.app import create_app
from tests.recommend.conftest import hub, ids, topic_of, topic_store  # noqa: F401
from tests.web.community_helpers import csrf_from, sign_in

READER = "topics@example.org"


@pytest.fixture
def client(hub: Hub) -> TestClient:  # noqa: F811
    SEED_CACHE.clear()
    made = TestClient(create_app(hub))
    sign_in(made, hub, READER)
    return made


def reader_id(hub: Hub) -> int:  # noqa: F811
    with hub.db.read() as conn:
        user = get_user_by_email(conn, READER)
    assert user is not None
    return user.user_id


def post(client: TestClient, path: str, token: str | None = "page", **data: str) -> int:
    form = dict(data)
    if token == "page":
        form["csrf_token"] = csrf_from(client.get("/for-you").text)
    elif token is not None:
        form["csrf_token"] = token
    return client.post(path, data=form, follow_redirects=False).status_code


def picked(text: str) -> list[str]:
    return re.findall(r'class="card-title math" id="paper-\d+"><a href="/papers/([^"]+)"', text)


def test_a_new_reader_picks_categories_and_for_you_becomes_home(
    client: TestClient,
    hub: Hub,  # noqa: F811
) -> None:
    empty = client.get("/for-you")
    assert "Pick a few categories or save a search" in empty.text
    assert '<option value="quant-ph" label="18 papers">' in empty.text  # the hub's, with counts
    assert client.get("/", follow_redirects=False).status_code == 200
    assert post(client, "/for-you/topics/add", kind="category", value="quant-ph") == 303
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/for-you"
    page = client.get("/for-you")
    shown = picked(page.text)
    assert shown and {topic_of(pid) for pid in shown} == {"quantum"}
    assert "matches your topic quant-ph" in page.text
    # Unknown and malformed categories are refused with why; nothing else changes.
    assert post(client, "/for-you/topics/add", kind="category", value="math.AG") == 400
    assert (
        "this hub has no papers in math.AG"
        in client.post(
            "/for-you/topics/add",
            data={
                "csrf_token": csrf_from(client.get("/for-you").text),
                "kind": "category",
                "value": "math.AG",
            },
        ).text
    )
    assert post(client, "/for-you/topics/remove", kind="category", value="quant-ph") == 303
    assert not show_topics(db=hub.db, user_id=reader_id(hub))


def test_save_this_search_from_the_search_page(client: TestClient, hub: Hub) -> None:  # noqa: F811
    results = client.get("/search", params={"q": "qubit surface code"})
    assert "Save this search" in results.text
    assert TestClient(client.app).get("/search?q=qubit").text.count("Save this search") == 0
    response = client.post(
        "/for-you/topics/add",
        data={
            "csrf_token": csrf_from(results.text),
            "kind": "search",
            "value": "qubit surface code",
            "next": "/for-you#topics",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/for-you#topics"
    page = client.get("/for-you").text
    shown = picked(page)
    # Its neighbours lead (the top 10 are diversified, so another topic may slip in).
    top = [topic_of(pid) for pid in shown[:12]]
    assert top[0] == "quantum" and top.count("quantum") >= 10
    assert html.escape("matches your saved search \u201cqubit surface code\u201d") in page


def test_forms_need_a_csrf_token_a_reader_and_stay_within_the_limits(
    client: TestClient,
    hub: Hub,  # noqa: F811
) -> None:
    assert post(client, "/for-you/topics/add", token=None, kind="search", value="x") == 403
    stolen = csrf_from(TestClient(client.app).get("/sign-in").text)
    assert post(client, "/for-you/topics/add", token=stolen, kind="search", value="x") == 403
    anonymous = TestClient(client.app)
    token = csrf_from(anonymous.get("/sign-in").text)
    refused = anonymous.post(
        "/for-you/topics/add",
        data={"csrf_token": token, "kind": "search", "value": "x"},
        follow_redirects=False,
    )
    assert refused.status_code in (303, 401)  # sent to sign in, nothing stored
    assert not show_topics(db=hub.db, user_id=reader_id(hub))
    assert post(client, "/for-you/topics/add", kind="search", value="y" * 201) == 400
    for n in range(10):
        assert post(client, "/for-you/topics/add", kind="search", value=f"query {n}") == 303
    assert post(client, "/for-you/topics/add", kind="search", value="one more") == 400
    assert len(show_topics(db=hub.db, user_id=reader_id(hub)).searches) == 10
    statuses = [
        post(client, "/for-you/topics/remove", kind="search", value="query 0") for _ in range(60)
    ]
    assert 429 in statuses and statuses[0] == 303


def test_a_hostile_saved_search_is_shown_escaped(client: TestClient, hub: Hub) -> None:  # noqa: F811
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    assert post(client, "/for-you/topics/add", kind="search", value=evil) == 303
    assert show_topics(db=hub.db, user_id=reader_id(hub)).searches == (evil,)
    page = client.get("/for-you").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert str(escape(evil)) in page  # shown as text, the way Jinja escapes
    results = client.get("/search", params={"q": evil}).text
    assert "<script>alert" not in results and "<img src=x" not in results


def test_the_api_reads_and_replaces_topics(client: TestClient, hub: Hub) -> None:  # noqa: F811
    token = create_api_token(db=hub.db, user_id=reader_id(hub), name="t")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/for-you/topics").status_code == 401
    assert client.get("/api/for-you/topics", headers=auth).json() == {
        "categories": [],
        "searches": [],
    }
    body = {"categories": ["cs.CL", "quant-ph", "cs.CL"], "searches": ["  graph   neural "]}
    put = client.put("/api/for-you/topics", json=body, headers=auth)
    assert put.status_code == 200
    assert put.json() == {"categories": ["cs.CL", "quant-ph"], "searches": ["graph neural"]}
    assert client.get("/api/for-you/topics", headers=auth).json() == put.json()
    refused = client.put(
        "/api/for-you/topics", json={"categories": ["nope.XX"], "searches": []}, headers=auth
    )
    assert refused.status_code == 400 and "no papers in nope.XX" in refused.json()["detail"]
    too_many = client.put(
        "/api/for-you/topics", json={"searches": [f"q{n}" for n in range(11)]}, headers=auth
    )
    assert too_many.status_code == 422
    assert client.get("/api/for-you/topics", headers=auth).json() == put.json()  # unchanged
    picks = client.get("/api/for-you?limit=30", headers=auth).json()["picks"]
    # The saved search leads; the categories are a light prior (the top 10 are diversified).
    top = [topic_of(p["paper"]["id"]) for p in picks[:12]]
    assert top[0] == "graph" and top.count("graph") >= 10
    graph = [p["reason"] for p in picks if topic_of(p["paper"]["id"]) == "graph"]
    assert set(graph) == {"matches your saved search \u201cgraph neural\u201d"}
    assert {p["paper"]["id"] for p in picks} >= set(ids("graph", old=False))
