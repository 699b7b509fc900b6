"""Code and project links on the web: the paper page and cards, the API paper object, the
"has code" filter of feeds, search and the API, and editing by the submitter or a curator
(form and `POST /api/papers/{id}/links`), with CSRF and rate limits."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperfeed.db.feed import feature_papers
from paperfeed.db.hf_papers import record_hf_facts
from paperfeed.db.links import links_of, record_stars
from paperfeed.db.links import with_code as with_code_ids
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import feed_entries, paper_links
from paperfeed.db.users import Role, get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.models import Featuring, HfFacts, PaperRecord
from tests.web.community_helpers import csrf, sign_in

PAPER = "2603.90002"
DAY = dt.date(2026, 3, 20)


@pytest.fixture
def paper(sample_hub: Hub) -> str:
    """A paper of our own naming its code in the comment, featured on 20 March."""
    record = PaperRecord(
        paper_id=PAPER,
        title="Links Test Paper",
        abstract="An abstract about links.",
        comment="Code: https://github.com/ada/engine. Project page: https://ada.example.org/engine",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
    )
    with sample_hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring(PAPER, DAY, "test", upvotes=400)])  # first on the day
        record_stars(
            conn,
            "https://github.com/ada/engine",
            stars=1234,
            etag=None,
            now=dt.datetime(2026, 3, 21),
        )
    return PAPER


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


def _make(hub: Hub, email: str, role: Role) -> None:
    with hub.db.write() as conn:
        set_role(conn, get_or_create_user(conn, email).user_id, role)


def test_page_and_card_show_the_code_link_with_stars(client: TestClient, paper: str) -> None:
    page = client.get(f"/papers/{paper}").text
    assert 'href="https://github.com/ada/engine"' in page and "★ 1234" in page
    assert 'href="https://ada.example.org/engine"' in page
    assert "found in the abstract or comment" in page
    assert "Edit the repository" not in page  # an anonymous reader may not edit
    feed = client.get("/papers?date=2026-03-20").text
    card = feed.split('<article class="card')[1]
    assert "Links Test Paper" in card and 'class="source-link code-link"' in card
    assert "★ 1234" in card


def test_the_api_paper_object_has_huggingfaces_link_fields(client: TestClient, paper: str) -> None:
    info = client.get(f"/api/papers/{paper}").json()
    assert info["githubRepo"] == "https://github.com/ada/engine"
    assert info["projectPage"] == "https://ada.example.org/engine"
    assert info["githubStars"] == 1234
    assert [link["kind"] for link in info["links"]] == ["github", "project"]
    daily = client.get("/api/daily_papers?date=2026-03-20&limit=1").json()
    assert daily[0]["paper"]["githubRepo"] == "https://github.com/ada/engine"


def test_has_code_narrows_the_feed_the_api_and_search(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    end = DAY + dt.timedelta(days=1)
    with sample_hub.db.read() as conn:
        ids = list(
            conn.scalars(
                select(feed_entries.c.paper_id).where(
                    feed_entries.c.day >= DAY, feed_entries.c.day < end
                )
            )
        )
        coded = links_of(conn, ids)
    with_code = {pid for pid, links in coded.items() if links.has_code}
    assert paper in with_code and 0 < len(with_code) < len(ids)
    api = client.get("/api/daily_papers?date=2026-03-20&limit=100&has_code=1").json()
    assert {entry["paper"]["id"] for entry in api} == with_code
    everything = client.get("/api/daily_papers?date=2026-03-20&limit=100").json()
    assert len(everything) > len(api)
    page = client.get("/papers?date=2026-03-20&has_code=1").text
    assert f"{len(with_code)} papers with code" in page
    assert page.count('<article class="card') == min(len(with_code), 30)
    assert 'name="has_code" value="1" checked' in page
    search = client.get("/api/papers/search?q=links+test+paper&has_code=1").json()
    found = {entry["paper"]["id"] for entry in search}
    assert PAPER in found
    with sample_hub.db.read() as conn:
        assert with_code_ids(conn, list(found)) == found  # every result has code
    html = client.get("/search?q=links+test+paper&has_code=1").text
    assert "Links Test Paper" in html and 'name="has_code" value="1" checked' in html


def test_a_curator_edits_the_links_on_the_page(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    _make(sample_hub, "cur@example.org", Role.CURATOR)
    sign_in(client, sample_hub, "cur@example.org")
    assert "Edit the repository" in client.get(f"/papers/{paper}").text
    done = _post(
        client,
        f"/papers/{paper}/links",
        github_repo="gitlab.com/ada/engine/-/tree/main",
        project_page="",
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#links-title")
    info = client.get(f"/api/papers/{paper}").json()
    assert info["githubRepo"] == "https://gitlab.com/ada/engine" and info["projectPage"] is None
    assert [link["source"] for link in info["links"]] == ["member"]
    bad = _post(client, f"/papers/{paper}/links", github_repo="https://example.org/x")
    assert bad.status_code == 400
    assert (
        client.get(f"/api/papers/{paper}").json()["githubRepo"] == "https://gitlab.com/ada/engine"
    )


def test_only_the_submitter_or_a_curator_may_edit(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "bob@example.org")
    assert "Edit the repository" not in client.get(f"/papers/{paper}").text
    refused = _post(client, f"/papers/{paper}/links", github_repo="https://github.com/bob/x")
    assert refused.status_code == 403
    with sample_hub.db.write() as conn:
        bob = get_or_create_user(conn, "bob@example.org")
        conn.execute(
            feed_entries.update()
            .where(feed_entries.c.paper_id == paper)
            .values(source="submit", featured_by=bob.user_id)
        )
    assert "Edit the repository" in client.get(f"/papers/{paper}").text
    done = _post(client, f"/papers/{paper}/links", github_repo="https://github.com/bob/x")
    assert done.status_code == 303
    assert client.get(f"/api/papers/{paper}").json()["githubRepo"] == "https://github.com/bob/x"


def test_the_links_form_needs_the_csrf_token(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    _make(sample_hub, "cur@example.org", Role.CURATOR)
    sign_in(client, sample_hub, "cur@example.org")
    token = csrf(client)
    for data, headers in (
        ({"github_repo": "https://github.com/evil/x"}, {}),
        (
            {"github_repo": "https://github.com/evil/x", "csrf_token": token},
            {"Origin": "https://evil.test"},
        ),
    ):
        response = client.post(
            f"/papers/{paper}/links", data=data, headers=headers, follow_redirects=False
        )
        assert response.status_code == 403
    with sample_hub.db.read() as conn:
        urls = set(conn.scalars(select(paper_links.c.url).where(paper_links.c.paper_id == paper)))
    assert "https://github.com/evil/x" not in urls


def test_link_edits_are_rate_limited(client: TestClient, sample_hub: Hub, paper: str) -> None:
    _make(sample_hub, "cur@example.org", Role.CURATOR)
    sign_in(client, sample_hub, "cur@example.org")
    statuses = [
        _post(
            client, f"/papers/{paper}/links", github_repo=f"https://github.com/a/r{n}"
        ).status_code
        for n in range(22)
    ]
    assert statuses == [303] * 20 + [429, 429]
    assert client.get(f"/api/papers/{paper}").json()["githubRepo"] == "https://github.com/a/r19"


def _new_token(client: TestClient) -> str:
    page = _post(client, "/settings/tokens", name="script")
    found = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page.text)
    assert found
    return found.group(1)


def test_the_api_sets_links_in_hugging_faces_shape(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    _make(sample_hub, "cur@example.org", Role.CURATOR)
    sign_in(client, sample_hub, "cur@example.org")
    auth = {"Authorization": f"Bearer {_new_token(client)}"}
    api = TestClient(client.app)  # no cookies: a script
    body = {"githubRepo": "https://github.com/ada/engine", "projectPage": "https://ada.dev"}
    assert api.post(f"/api/papers/{paper}/links", json=body).status_code == 401
    done = api.post(f"/api/papers/{paper}/links", json=body, headers=auth)
    assert done.status_code == 200
    assert done.json() == {
        "paper_id": paper,
        "githubRepo": "https://github.com/ada/engine",
        "projectPage": "https://ada.dev",
        "githubStars": 1234,  # the count already made for that repository is kept
    }
    bad = api.post(f"/api/papers/{paper}/links", json={"githubRepo": "nope"}, headers=auth)
    assert bad.status_code == 400
    missing = api.post("/api/papers/2603.99999/links", json=body, headers=auth)
    assert missing.status_code == 404


def test_what_hugging_face_says_is_shown_labelled(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    facts = HfFacts(
        paper,
        submitter="Ada L.",
        ai_summary="It <b>works</b>.",
        ai_keywords=("zero bubble",),
        github_repo="https://github.com/hf/named",
    )
    with sample_hub.db.write() as conn:
        record_hf_facts(conn, [facts])
    page = client.get(f"/papers/{paper}").text
    assert "From Hugging Face" in page and "AI summary (Hugging Face)" in page
    assert "It &lt;b&gt;works&lt;/b&gt;." in page  # escaped
    assert 'href="/search?q=zero+bubble"' in page
    info = client.get(f"/api/papers/{paper}").json()
    assert info["ai_summary"] == "It <b>works</b>." and info["ai_keywords"] == ["zero bubble"]
    assert info["submittedBy"] == "Ada L."
    # Hugging Face's repository replaces the found one; the found project page stays.
    assert info["githubRepo"] == "https://github.com/hf/named"
    assert info["projectPage"] == "https://ada.example.org/engine"
