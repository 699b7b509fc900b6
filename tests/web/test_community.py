"""Community features over the real app and store: upvotes, comments, submissions,
collections, roles, settings and the token-authenticated JSON API."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperfeed.community.submit import SubmitError, parse_submission
from paperfeed.db.feed import days_featured, feature_papers
from paperfeed.db.papers import get_paper, upsert_papers
from paperfeed.db.schema import feed_entries
from paperfeed.db.upvotes import card_stats
from paperfeed.db.users import Role, get_or_create_user, get_user_by_email, set_role
from paperfeed.hub import Hub
from paperfeed.ingest.single import ArxivFetcher
from paperfeed.models import Featuring, PaperRecord
from tests.web.community_helpers import csrf, sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"
PAPER = "2603.90001"


@pytest.fixture
def paper(sample_hub: Hub) -> str:
    """A paper of our own, featured on a past day with 7 imported upvotes."""
    record = PaperRecord(
        paper_id=PAPER,
        title="Community Test Paper",
        abstract="An abstract for testing.",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
    )
    with sample_hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring(PAPER, dt.date(2026, 3, 20), "test", upvotes=7)])
    return PAPER


def _stats(hub: Hub, paper_id: str, user_email: str | None = None) -> tuple[int, int, bool]:
    with hub.db.read() as conn:
        user = get_user_by_email(conn, user_email) if user_email else None
        stats = card_stats(conn, [paper_id], user_id=user.user_id if user else None)[paper_id]
    return stats.upvotes, stats.comments, stats.upvoted


def _make(hub: Hub, email: str, role: Role) -> None:
    with hub.db.write() as conn:
        user = get_or_create_user(conn, email)
        set_role(conn, user.user_id, role)


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


# Upvotes


def test_upvote_is_one_per_reader_idempotent_and_can_be_withdrawn(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    assert _stats(sample_hub, paper) == (7, 0, False)
    sign_in(client, sample_hub, "ada@example.org")
    for _ in range(3):
        response = _post(client, f"/papers/{paper}/upvote", action="add", next=f"/papers/{paper}")
        assert response.status_code == 303 and response.headers["location"] == f"/papers/{paper}"
    assert _stats(sample_hub, paper, "ada@example.org") == (8, 0, True)
    page = client.get(f"/papers/{paper}").text
    assert 'aria-pressed="true"' in page and '<span class="upvote-count">8</span>' in page
    _post(client, f"/papers/{paper}/upvote", action="remove")
    _post(client, f"/papers/{paper}/upvote", action="remove")
    assert _stats(sample_hub, paper, "ada@example.org") == (7, 0, False)


def test_upvotes_of_two_readers_add_up(client: TestClient, sample_hub: Hub, paper: str) -> None:
    other = TestClient(client.app)
    sign_in(client, sample_hub, "ada@example.org")
    sign_in(other, sample_hub, "bob@example.org")
    _post(client, f"/papers/{paper}/upvote")
    _post(other, f"/papers/{paper}/upvote")
    assert _stats(sample_hub, paper)[0] == 9


def test_signed_out_upvote_goes_to_sign_in_and_counts_nothing(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    page = client.get(f"/papers/{paper}").text
    assert f'href="/sign-in?next=/papers/{paper}"' in page  # a link, not a form
    response = _post(client, f"/papers/{paper}/upvote")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    assert _stats(sample_hub, paper) == (7, 0, False)


def test_upvoting_a_missing_paper_is_404(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert _post(client, "/papers/2603.00000/upvote").status_code == 404


# Comments


def test_comment_post_edit_delete(client: TestClient, sample_hub: Hub, paper: str) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    text = "See https://example.org/x?a=1&b=2. And javascript:alert(1) <b>bold</b>"
    response = _post(client, f"/papers/{paper}/comments", body=text)
    assert response.status_code == 303
    comment_id = int(response.headers["location"].rsplit("-", 1)[1])
    page = client.get(f"/papers/{paper}").text
    assert (
        '<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow ugc noopener">'
        "https://example.org/x?a=1&amp;b=2</a>." in page
    )
    assert "javascript:alert(1) &lt;b&gt;bold&lt;/b&gt;" in page
    assert 'href="javascript:' not in page
    assert _stats(sample_hub, paper)[1] == 1
    edit_page = client.get(f"/comments/{comment_id}/edit")
    assert edit_page.status_code == 200 and "&lt;b&gt;bold" in edit_page.text
    _post(client, f"/comments/{comment_id}/edit", body="Changed my mind.")
    page = client.get(f"/papers/{paper}").text
    assert "Changed my mind." in page and "· edited" in page
    _post(client, f"/comments/{comment_id}/delete")
    assert "Changed my mind." not in client.get(f"/papers/{paper}").text
    assert _stats(sample_hub, paper)[1] == 0


def test_nobody_edits_or_deletes_anothers_comment(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    location = _post(client, f"/papers/{paper}/comments", body="Mine").headers["location"]
    comment_id = location.rsplit("-", 1)[1]
    other = TestClient(client.app)
    sign_in(other, sample_hub, "bob@example.org")
    assert other.get(f"/comments/{comment_id}/edit").status_code == 404
    assert _post(other, f"/comments/{comment_id}/edit", body="Hacked").status_code == 404
    assert _post(other, f"/comments/{comment_id}/delete").status_code == 404
    assert _post(other, f"/comments/{comment_id}/hide").status_code == 403  # members don't moderate
    assert "Mine" in client.get(f"/papers/{paper}").text


def test_empty_and_long_comments_are_refused(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert _post(client, f"/papers/{paper}/comments", body="   ").status_code == 400
    assert _post(client, f"/papers/{paper}/comments", body="x" * 5001).status_code == 400
    assert _stats(sample_hub, paper)[1] == 0


def test_curators_hide_comments_from_readers(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    location = _post(client, f"/papers/{paper}/comments", body="Spam spam").headers["location"]
    comment_id = location.rsplit("-", 1)[1]
    _make(sample_hub, "cur@example.org", Role.CURATOR)
    curator = TestClient(client.app)
    sign_in(curator, sample_hub, "cur@example.org")
    assert _post(curator, f"/comments/{comment_id}/hide", hidden="1").status_code == 303
    assert "Spam spam" not in client.get(f"/papers/{paper}").text
    assert "Spam spam" not in TestClient(client.app).get(f"/papers/{paper}").text
    moderated = curator.get(f"/papers/{paper}").text
    assert "Spam spam" in moderated and "hidden from readers" in moderated
    assert _stats(sample_hub, paper)[1] == 0
    _post(curator, f"/comments/{comment_id}/hide", hidden="0")
    assert "Spam spam" in client.get(f"/papers/{paper}").text


def test_comments_are_rate_limited(client: TestClient, sample_hub: Hub, paper: str) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    token = csrf(client)
    statuses = [
        client.post(
            f"/papers/{paper}/comments",
            data={"body": f"comment {n}", "csrf_token": token},
            follow_redirects=False,
        )
        for n in range(11)
    ]
    assert [r.status_code for r in statuses] == [303] * 10 + [429]
    assert int(statuses[-1].headers["retry-after"]) > 0
    assert _stats(sample_hub, paper)[1] == 10


# Submit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.00001", "2401.00001"),
        ("arXiv:2401.00001v3", "2401.00001"),
        ("https://arxiv.org/abs/2401.00001v2", "2401.00001"),
        ("https://arxiv.org/pdf/2401.00001.pdf", "2401.00001"),
        ("hep-th/9901001", "hep-th/9901001"),
    ],
)
def test_submissions_name_arxiv_papers(text: str, expected: str) -> None:
    assert parse_submission(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a paper",
        "http://127.0.0.1:8000/abs/2401.00001",
        "https://arxiv.org.evil.test/abs/2401.00001",
        "https://evil.test/?u=https://arxiv.org/abs/2401.00001",
        "file:///etc/passwd",
        "//169.254.169.254/abs/2401.00001",
    ],
)
def test_other_submissions_are_refused(text: str) -> None:
    with pytest.raises(SubmitError):
        parse_submission(text)


def test_submitting_a_stored_paper_features_it_today(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    response = _post(client, "/submit", paper=f"https://arxiv.org/abs/{paper}v1")
    assert response.status_code == 303
    assert response.headers["location"] == f"/papers/{paper}?submitted=1"
    today = dt.datetime.now(dt.UTC).date()
    with sample_hub.db.read() as conn:
        assert today in days_featured(conn, paper)
        entry = conn.execute(
            select(feed_entries).where(
                feed_entries.c.paper_id == paper, feed_entries.c.day == today
            )
        ).one()
        user = get_user_by_email(conn, "ada@example.org")
    assert entry.source == "submit" and user is not None and entry.featured_by == user.user_id
    page = client.get(response.headers["location"]).text
    assert "featured today" in page
    assert PAPER in client.get(f"/papers?date={today.isoformat()}").text


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared by the server's handler instances

    def do_GET(self) -> None:
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canary() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that records every request it gets."""
    _Canary.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_submit_never_fetches_from_loopback(
    client: TestClient, sample_hub: Hub, canary: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    for text in (f"{canary}/abs/2401.00001", f"{canary}/api/query?id_list=2401.00001"):
        response = _post(client, "/submit", paper=text)
        assert response.status_code == 400 and "Only arXiv papers" in response.text
    # Even an operator pointing the arXiv API at loopback does not make submit fetch it.
    sample_hub.settings.arxiv_api_url = f"{canary}/api/query"
    response = _post(client, "/submit", paper="2401.99999")
    assert response.status_code == 400 and "not arXiv" in response.text
    fetcher = ArxivFetcher(
        sample_hub.settings.model_copy(update={"arxiv_api_url": "https://export.arxiv.org/api"}),
        resolve=lambda host: ["127.0.0.1"],  # DNS that points arXiv at loopback
    )
    client.app.state.arxiv_fetcher = fetcher  # type: ignore[attr-defined]
    response = _post(client, "/submit", paper="2401.99999")
    assert response.status_code == 400 and "private network" in response.text
    assert _Canary.hits == []
    with sample_hub.db.read() as conn:
        assert get_paper(conn, "2401.99999") is None


def test_submit_fetches_a_missing_paper_from_arxiv(client: TestClient, sample_hub: Hub) -> None:
    # A real API page, its first paper renamed to one the sample does not hold.
    page = (FIXTURES / "api_page1.xml").read_bytes()
    first = re.findall(rb"<id>http://arxiv.org/abs/(\d{4}\.\d{5})v\d</id>", page)[0]
    body = page.replace(first, b"2603.88888")
    wanted = "2603.88888"
    with sample_hub.db.read() as conn:
        assert get_paper(conn, wanted) is None
    asked: list[httpx.Request] = []

    def arxiv(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=body)

    client.app.state.arxiv_fetcher = ArxivFetcher(  # type: ignore[attr-defined]
        sample_hub.settings,
        transport=httpx.MockTransport(arxiv),
        resolve=lambda host: ["151.101.3.42"],
    )
    sign_in(client, sample_hub, "ada@example.org")
    response = _post(client, "/submit", paper=f"arXiv:{wanted}")
    assert response.status_code == 303, response.text[:400]
    assert len(asked) == 1
    assert asked[0].url.host == "export.arxiv.org"
    assert asked[0].url.params["id_list"] == wanted
    with sample_hub.db.read() as conn:
        stored = get_paper(conn, wanted)
        assert stored is not None and stored.record.title
        assert dt.datetime.now(dt.UTC).date() in days_featured(conn, wanted)
    # A paper arXiv does not have is explained, not stored.
    response = _post(client, "/submit", paper="2603.99998")
    assert response.status_code == 400 and "arXiv has no paper 2603.99998" in response.text


def test_submit_is_rate_limited(client: TestClient, sample_hub: Hub, paper: str) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    statuses = [_post(client, "/submit", paper=paper).status_code for _ in range(11)]
    assert statuses == [303] * 10 + [429]


# Collections


def test_collections_private_and_public(client: TestClient, sample_hub: Hub, paper: str) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    response = _post(
        client, "/collections", name="Reading group", paper_id=paper, next=f"/papers/{paper}"
    )
    assert response.status_code == 303 and response.headers["location"] == f"/papers/{paper}"
    mine = client.get("/collections").text
    found = re.search(r'href="/collections/(\d+)">Reading group</a>', mine)
    assert found
    url = f"/collections/{found.group(1)}"
    page = client.get(url).text
    assert "Private collection" in page and "Community Test Paper" in page
    stranger = TestClient(client.app)
    assert stranger.get(url).status_code == 404  # private: not even its name shows
    assert "Reading group" not in stranger.get("/collections").text
    _post(client, f"{url}/edit", name="Reading group", description="Week 12", public="1")
    public = stranger.get(url)
    assert public.status_code == 200 and "Community Test Paper" in public.text
    assert "Reading group" in stranger.get("/collections").text
    assert "Remove from collection" not in public.text  # only the owner edits
    # Someone else cannot add to it or delete it.
    sign_in(stranger, sample_hub, "bob@example.org")
    assert _post(stranger, f"{url}/papers", paper_id=paper, action="remove").status_code == 404
    assert _post(stranger, f"{url}/delete").status_code == 404
    # The owner removes the paper, then the collection.
    _post(client, f"{url}/papers", paper_id=paper, action="remove")
    assert "Community Test Paper" not in client.get(url).text
    assert _post(client, f"{url}/delete").status_code == 303
    assert client.get(url).status_code == 404


def test_collection_names_are_unique_per_owner(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert _post(client, "/collections", name="Later").status_code == 303
    assert _post(client, "/collections", name="Later").status_code == 409
    assert _post(client, "/collections", name="   ").status_code == 400


def test_add_to_collection_from_the_paper_page(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    _post(client, "/collections", name="Empty")
    page = client.get(f"/papers/{paper}").text
    found = re.search(r'action="/collections/(\d+)/papers"', page)
    assert found and 'aria-label="Add to collection Empty"' in page
    _post(client, f"/collections/{found.group(1)}/papers", paper_id=paper, action="add")
    _post(client, f"/collections/{found.group(1)}/papers", paper_id=paper, action="add")
    page = client.get(f"/papers/{paper}").text
    assert 'aria-label="Remove from collection Empty"' in page
    assert client.get(f"/collections/{found.group(1)}").text.count('class="card-title') == 1


# Roles


def test_curators_feature_and_unfeature_on_any_day(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert _post(client, f"/papers/{paper}/feature", day="2026-01-05").status_code == 403
    _make(sample_hub, "ada@example.org", Role.CURATOR)
    page = client.get(f"/papers/{paper}").text
    assert 'id="feature-day"' in page
    assert _post(client, f"/papers/{paper}/feature", day="2026-01-05").status_code == 303
    with sample_hub.db.read() as conn:
        assert dt.date(2026, 1, 5) in days_featured(conn, paper)
    assert PAPER in client.get("/papers?date=2026-01-05").text
    _post(client, f"/papers/{paper}/feature", day="2026-03-20", action="remove")
    with sample_hub.db.read() as conn:
        assert days_featured(conn, paper) == [dt.date(2026, 1, 5)]
    assert _post(client, f"/papers/{paper}/feature", day="20 Jan").status_code == 400


def test_admins_give_roles(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    assert client.get("/admin/users", follow_redirects=False).status_code == 403
    _make(sample_hub, "ada@example.org", Role.ADMIN)
    _make(sample_hub, "bob@example.org", Role.MEMBER)
    page = client.get("/admin/users")
    assert page.status_code == 200 and "bob@example.org" in page.text
    with sample_hub.db.read() as conn:
        bob = get_user_by_email(conn, "bob@example.org")
        ada = get_user_by_email(conn, "ada@example.org")
    assert bob is not None and ada is not None
    assert _post(client, f"/admin/users/{bob.user_id}/role", role="curator").status_code == 303
    assert _post(client, f"/admin/users/{bob.user_id}/role", role="king").status_code == 400
    assert _post(client, f"/admin/users/{ada.user_id}/role", role="member").status_code == 400
    with sample_hub.db.read() as conn:
        bob = get_user_by_email(conn, "bob@example.org")
    assert bob is not None and bob.role is Role.CURATOR


# Settings and the token API


def _new_token(client: TestClient) -> str:
    page = _post(client, "/settings/tokens", name="script")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page.text)
    assert found
    return found.group(1)


def test_display_name_shows_on_comments(client: TestClient, sample_hub: Hub, paper: str) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    _post(client, "/settings/profile", display_name="  Ada   L. ")
    _post(client, f"/papers/{paper}/comments", body="Hello")
    assert "<strong>Ada L.</strong>" in client.get(f"/papers/{paper}").text


def test_api_tokens_upvote_submit_and_collect(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    token = _new_token(client)
    assert token not in client.get("/settings").text  # shown once
    api = TestClient(client.app)  # no cookies: a script
    auth = {"Authorization": f"Bearer {token}"}
    assert api.post(f"/api/papers/{paper}/upvote").status_code == 401
    assert (
        api.post(
            f"/api/papers/{paper}/upvote", headers={"Authorization": "Bearer nope-nope-nope"}
        ).status_code
        == 401
    )
    first = api.post(f"/api/papers/{paper}/upvote", headers=auth)
    again = api.post(f"/api/papers/{paper}/upvote", headers=auth)
    assert first.status_code == again.status_code == 200
    assert again.json() == {"paper_id": paper, "upvoted": True, "upvotes": 8}
    removed = api.delete(f"/api/papers/{paper}/upvote", headers=auth)
    assert removed.json() == {"paper_id": paper, "upvoted": False, "upvotes": 7}
    assert api.post("/api/papers/2603.00000/upvote", headers=auth).status_code == 404

    submitted = api.post("/api/submit", headers=auth, json={"paper": paper})
    assert submitted.status_code == 200
    assert submitted.json()["paper_id"] == paper and submitted.json()["newly_featured"] is True
    refused = api.post("/api/submit", headers=auth, json={"paper": "http://127.0.0.1/abs/1"})
    assert refused.status_code == 400

    made = api.post("/api/collections", headers=auth, json={"name": "API list", "public": True})
    assert made.status_code == 201
    collection_id = made.json()["id"]
    assert (
        api.put(f"/api/collections/{collection_id}/papers/{paper}", headers=auth).status_code == 204
    )
    one = api.get(f"/api/collections/{collection_id}", headers=auth).json()
    assert one["papers"] == [paper] and one["public"] is True and one["owner"] == "ada"
    assert [c["name"] for c in api.get("/api/collections", headers=auth).json()] == ["API list"]
    assert (
        api.delete(f"/api/collections/{collection_id}/papers/{paper}", headers=auth).status_code
        == 204
    )
    assert api.get(f"/api/collections/{collection_id}", headers=auth).json()["papers"] == []

    # Revoked tokens stop working.
    settings = client.get("/settings").text
    token_id = re.search(r'action="/settings/tokens/(\d+)/revoke"', settings)
    assert token_id and "last used" in settings
    _post(client, f"/settings/tokens/{token_id.group(1)}/revoke")
    assert api.post(f"/api/papers/{paper}/upvote", headers=auth).status_code == 401


def test_a_bearer_call_never_rides_on_the_session_cookie(
    client: TestClient, sample_hub: Hub, paper: str
) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    # The CSRF check is skipped for Bearer calls, so the cookie must not sign them in.
    response = client.post(
        f"/papers/{paper}/upvote",
        headers={"Authorization": "Bearer made-up-token"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
    assert _stats(sample_hub, paper) == (7, 0, False)


def test_out_of_range_ids_are_client_errors(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    huge = str(2**70)
    for path in (f"/collections/{huge}", f"/comments/{huge}/edit", f"/dev/mailbox/{huge}"):
        assert client.get(path).status_code in (404, 422), path
    assert _post(client, f"/collections/{huge}/delete").status_code in (404, 422)
    assert client.get("/collections/0").status_code in (404, 422)
