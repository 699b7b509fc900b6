"""Author pages on the web and in the API: names on cards and paper pages link to them, an
initial is sent to the person its co-authors tell, follow and claim forms (sign-in, CSRF, rate
limit), the curators' queue, "my papers" on the settings page, and editing links once claimed."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi.testclient import TestClient

from paperfeed.community.accounts import create_api_token
from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import Role, get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from tests.web.community_helpers import csrf, sign_in

DAY = dt.date(2026, 3, 20)
PAPERS = [
    ("2603.91001", ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar"), "cs.CL", DAY),
    ("2603.91002", ("A. Vaswani", "N. Shazeer"), "cs.LG", DAY - dt.timedelta(days=1)),
    ("2603.91003", ("A. Vaswani", "Maria Rossi"), "hep-th", DAY - dt.timedelta(days=2)),
    ("2603.91004", ("Ashwin Vaswani", "Jan Kowalski"), "cs.CL", DAY - dt.timedelta(days=3)),
]


@pytest.fixture
def papers(sample_hub: Hub) -> list[str]:
    records = [
        PaperRecord(
            paper_id=pid,
            title=f"Author test paper {pid}",
            abstract="An abstract.",
            authors=names,
            categories=(category,),
            primary_category=category,
            announced=day,
        )
        for pid, names, category, day in PAPERS
    ]
    with sample_hub.db.write() as conn:
        upsert_papers(conn, records)
        feature_papers(conn, [Featuring(PAPERS[0][0], DAY, "test", upvotes=500)])
    return [p[0] for p in PAPERS]


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


def _make(hub: Hub, email: str, role: Role) -> None:
    with hub.db.write() as conn:
        set_role(conn, get_or_create_user(conn, email).user_id, role)


def test_the_author_page_lists_papers_newest_first_with_coauthors_and_categories(
    client: TestClient, papers: list[str]
) -> None:
    page = client.get("/authors/vaswani-ashish")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Ashish Vaswani</h1>" in text and "2 papers" in text
    # The paper of "A. Vaswani" with N. Shazeer is his; the one with Maria Rossi is not.
    assert text.index("2603.91001") < text.index("2603.91002")
    assert "2603.91003" not in text and "2603.91004" not in text
    assert 'href="/authors/shazeer-noam"' in text and "Niki Parmar" in text
    assert 'href="/categories/cs.CL"' in text and 'href="/categories/cs.LG"' in text
    assert 'href="/authors/vaswani-ashwin"' in text  # "Not this Ashish Vaswani?"


def test_names_on_cards_and_paper_pages_link_to_author_pages(
    client: TestClient, papers: list[str]
) -> None:
    feed = client.get("/papers?date=2026-03-20").text
    assert '<a class="author-link" href="/authors/vaswani-ashish">Ashish Vaswani</a>' in feed
    paper = client.get("/papers/2603.91002").text
    assert 'href="/authors/vaswani-a?paper=2603.91002"' in paper
    # The initial is sent to the person that paper's co-authors tell.
    sent = client.get("/authors/vaswani-a?paper=2603.91002", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/authors/vaswani-ashish"
    apart = client.get("/authors/vaswani-a?paper=2603.91003", follow_redirects=False)
    assert apart.headers["location"] == "/authors/vaswani-a"
    assert "2603.91003" in client.get("/authors/vaswani-a").text


def test_an_unknown_author_is_a_404(client: TestClient, papers: list[str]) -> None:
    assert client.get("/authors/nobody-here").status_code == 404
    assert client.get("/authors/" + "x" * 300).status_code == 404
    assert client.get("/api/authors/nobody-here").status_code == 404


def test_the_api_gives_the_author_with_a_page_of_papers(
    client: TestClient, papers: list[str]
) -> None:
    info = client.get("/api/authors/vaswani-ashish").json()
    assert info["name"] == "Ashish Vaswani" and info["total"] == 2
    assert [p["id"] for p in info["papers"]] == ["2603.91001", "2603.91002"]
    assert {"key": "shazeer-noam", "name": "Noam Shazeer", "papers": 1} in info["coauthors"]
    assert {"category": "cs.CL", "papers": 1} in info["categories"]
    resolved = client.get("/api/authors/vaswani-a", params={"paper": "2603.91002"}).json()
    assert resolved["key"] == "vaswani-ashish"


def test_following_needs_a_signed_in_member_and_a_csrf_token(
    client: TestClient, sample_hub: Hub, papers: list[str]
) -> None:
    anonymous = _post(client, "/authors/vaswani-ashish/follow")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in")
    sign_in(client, sample_hub, "ada@example.org")
    forged = client.post("/authors/vaswani-ashish/follow", follow_redirects=False)
    assert forged.status_code == 403
    assert _post(client, "/authors/vaswani-ashish/follow").status_code == 303
    page = client.get("/authors/vaswani-ashish").text
    assert "Following" in page and "1 follower" in page
    assert _post(client, "/authors/vaswani-ashish/follow", action="remove").status_code == 303
    assert "0 followers" in client.get("/authors/vaswani-ashish").text
    assert _post(client, "/authors/nobody-here/follow").status_code == 404


def test_the_api_follows_with_a_token(
    client: TestClient, sample_hub: Hub, papers: list[str]
) -> None:
    with sample_hub.db.write() as conn:
        user = get_or_create_user(conn, "ada@example.org")
    token = create_api_token(db=sample_hub.db, user_id=user.user_id, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.put("/api/authors/vaswani-ashish/follow").status_code == 401
    assert client.put("/api/authors/vaswani-ashish/follow", headers=auth).json()["following"]
    assert client.get("/api/follows", headers=auth).json() == ["vaswani-ashish"]
    assert client.delete("/api/authors/vaswani-ashish/follow", headers=auth).status_code == 200
    assert client.get("/api/follows", headers=auth).json() == []
    assert client.put("/api/authors/nobody-here/follow", headers=auth).status_code == 404


def test_a_claim_approved_by_a_curator_shows_on_the_page_and_in_my_papers(
    sample_hub: Hub, papers: list[str]
) -> None:
    from paperfeed.web.app import create_app

    member = TestClient(create_app(sample_hub))
    curator = TestClient(create_app(sample_hub))
    assert _post(member, "/authors/vaswani-ashish/claim").headers["location"].startswith("/sign-in")
    sign_in(member, sample_hub, "ashish@example.org")
    assert member.post("/authors/vaswani-ashish/claim", follow_redirects=False).status_code == 403
    done = _post(member, "/authors/vaswani-ashish/claim", note="My page: https://example.org/a")
    assert done.status_code == 303
    assert "waits for a curator" in member.get("/authors/vaswani-ashish").text
    assert _post(member, "/authors/vaswani-ashish/claim").status_code == 409  # once
    assert member.get("/admin/claims").status_code == 403  # members do not decide

    _make(sample_hub, "cura@example.org", Role.CURATOR)
    sign_in(curator, sample_hub, "cura@example.org")
    queue = curator.get("/admin/claims").text
    assert "Ashish Vaswani" in queue and "https://example.org/a" in queue
    claim_id = queue.split('action="/admin/claims/')[1].split("/")[0]
    assert (
        curator.post(
            f"/admin/claims/{claim_id}/decide", data={"decision": "approve"}, follow_redirects=False
        ).status_code
        == 403
    )  # no CSRF token
    approved = _post(curator, f"/admin/claims/{claim_id}/decide", decision="approve")
    assert approved.status_code == 303
    assert _post(curator, f"/admin/claims/{claim_id}/decide", decision="refuse").status_code == 409
    assert "No claim is waiting" in curator.get("/admin/claims").text

    page = curator.get("/authors/vaswani-ashish").text
    assert "claimed by <strong>ashish</strong>" in page
    settings = member.get("/settings").text
    assert "My papers" in settings and "Author test paper 2603.91002" in settings
    # Another member cannot claim it any more.
    other = TestClient(create_app(sample_hub))
    sign_in(other, sample_hub, "mallory@example.org")
    assert _post(other, "/authors/vaswani-ashish/claim").status_code == 409

    # The claimed author may now set the links of their papers, not of others'.
    repo = "https://github.com/ashish/transformer"
    mine = _post(member, "/papers/2603.91002/links", github_repo=repo, next="/papers/2603.91002")
    assert mine.status_code == 303
    assert repo in member.get("/papers/2603.91002").text
    theirs = _post(member, "/papers/2603.91004/links", github_repo=repo)
    assert theirs.status_code == 403


def test_a_refused_claim_changes_nothing(sample_hub: Hub, papers: list[str]) -> None:
    from paperfeed.web.app import create_app

    member, curator = TestClient(create_app(sample_hub)), TestClient(create_app(sample_hub))
    sign_in(member, sample_hub, "eve@example.org")
    _post(member, "/authors/vaswani-ashwin/claim")
    _make(sample_hub, "cura@example.org", Role.CURATOR)
    sign_in(curator, sample_hub, "cura@example.org")
    claim_id = curator.get("/admin/claims").text.split('action="/admin/claims/')[1].split("/")[0]
    assert _post(curator, f"/admin/claims/{claim_id}/decide", decision="refuse").status_code == 303
    assert "claimed by" not in curator.get("/authors/vaswani-ashwin").text
    assert "refused" in member.get("/settings").text
    assert _post(curator, f"/admin/claims/{claim_id}/decide", decision="maybe").status_code == 400


def test_claims_are_rate_limited(client: TestClient, sample_hub: Hub, papers: list[str]) -> None:
    sign_in(client, sample_hub, "spam@example.org")
    keys = ["vaswani-ashish", "vaswani-a", "vaswani-ashwin", "shazeer-noam", "parmar-niki"]
    for key in keys:
        assert _post(client, f"/authors/{key}/claim").status_code == 303
    over = _post(client, "/authors/rossi-maria/claim")
    assert over.status_code == 429 and "Retry-After" in over.headers
