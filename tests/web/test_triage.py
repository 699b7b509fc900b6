"""`/new`: curators triage the day's listing (new, cross-lists, replacements), ranked by
community interest, and feature or unfeature in one click that comes back to the same row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.community.accounts import Role, create_api_token
from paperfeed.db import Database
from paperfeed.db.announcements import (
    Announcement,
    announced_on,
    record_announcements,
    vetoed_on,
)
from paperfeed.db.feed import count_in_category, papers_for_day, recent_in_category
from paperfeed.db.jobs import finish_run, start_run
from paperfeed.db.papers import upsert_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.ingest.arxiv_listing import parse_listing
from paperfeed.ingest.fake_arxiv import listing_feed
from paperfeed.models import PaperRecord
from paperfeed.search.indexer import embed_papers
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.search.fakes import FakeEmbedder
from tests.web.community_helpers import csrf, sign_in

TUESDAY = dt.date(2026, 3, 17)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A store holding Tuesday 2026-03-17's real cs.CL and cs.AI listings, embedded."""
    settings = Settings(_env_file=None, data_dir=tmp_path, semantic_search=False)  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    db.migrate()
    built = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    for category in ("cs.CL", "cs.AI"):
        listing = parse_listing(listing_feed(category, TUESDAY), category=category)
        with db.write() as conn:
            upsert_papers(conn, [p.record for p in listing.papers])
            record_announcements(
                conn,
                [
                    Announcement(TUESDAY, category, p.record.paper_id, p.kind, p.record.version)
                    for p in listing.papers
                ],
            )
    assert built.embedder is not None
    embed_papers(db, built.embedder)
    yield built
    built.close()


def curator(hub: Hub) -> TestClient:
    client = TestClient(create_app(hub))
    with hub.db.write() as conn:
        set_role(conn, get_or_create_user(conn, "cur@example.org").user_id, Role.CURATOR)
    sign_in(client, hub, "cur@example.org")
    return client


def test_new_is_for_curators_only(hub: Hub) -> None:
    anonymous = TestClient(create_app(hub))
    assert anonymous.get("/new", follow_redirects=False).status_code in (303, 401, 403)
    member = TestClient(create_app(hub))
    sign_in(member, hub, "ada@example.org")
    assert member.get("/new", follow_redirects=False).status_code == 403


def test_new_lists_the_day_by_kind_and_category(hub: Hub) -> None:
    client = curator(hub)
    page = client.get("/new")
    assert page.status_code == 200
    text = page.text
    assert "Announced" in text and "New submissions (" in text
    assert "Cross-lists (" in text
    assert "Replacements (6)" in text  # three in each of the two categories
    only = client.get("/new", params={"day": "2026-03-17", "category": "cs.AI"}).text
    assert "Replacements (3)" in only
    assert client.get("/new", params={"day": "17 March"}).status_code == 400
    assert client.get("/new", params={"category": "<script>"}).status_code == 400


def test_feature_and_unfeature_in_one_click_back_to_the_same_row(hub: Hub) -> None:
    client = curator(hub)
    with hub.db.read() as conn:
        paper_id = sorted(a.paper_id for a in announced_on(conn, TUESDAY, kinds=("new",)))[0]
    token = csrf(client, "/new")
    form = {"paper_id": paper_id, "day": "2026-03-17", "category": "cs.CL", "csrf_token": token}
    done = client.post("/new/feature", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/new?day=2026-03-17&category=cs.CL#paper-{paper_id}"
    with hub.db.read() as conn:
        assert paper_id in {i.paper.paper_id for i in papers_for_day(conn, TUESDAY)}
    assert "Featured ✓ · Unfeature" in client.get("/new").text
    off = client.post("/new/feature", data=form | {"action": "remove"}, follow_redirects=False)
    assert off.status_code == 303
    with hub.db.read() as conn:
        assert papers_for_day(conn, TUESDAY) == []
        assert vetoed_on(conn, TUESDAY) == {paper_id}
    assert "taken off by a curator" in client.get("/new").text


def test_papers_are_ranked_by_what_members_upvoted(hub: Hub) -> None:
    client = curator(hub)
    with hub.db.write() as conn:
        reader = get_or_create_user(conn, "ada@example.org")
        liked = "2603.99990"
        upsert_papers(
            conn,
            [
                PaperRecord(
                    paper_id=liked,
                    title="Speech translation for low resource languages",
                    abstract="Speech translation speech recognition low resource languages.",
                )
            ],
        )
    assert hub.embedder is not None
    embed_papers(hub.db, hub.embedder)
    with hub.db.write() as conn:
        set_upvote(conn, reader.user_id, liked, on=True)
    text = client.get("/new").text
    assert "like what members upvoted and saved" in text


def test_the_job_history_shows_every_run_newest_first_with_errors(hub: Hub) -> None:
    early = dt.datetime(2026, 3, 17, 0, 5)
    with hub.db.write() as conn:
        start_run(conn, job="fetch", period="2026-03-17", now=early)
        finish_run(
            conn, job="fetch", period="2026-03-17", state="done", now=early, counts={"papers": 91}
        )
        start_run(conn, job="embed", period="2026-03-17", now=early + dt.timedelta(minutes=1))
        finish_run(
            conn,
            job="embed",
            period="2026-03-17",
            state="failed",
            now=early + dt.timedelta(minutes=2),
            error="RuntimeError: <model> went away",
        )
    member = TestClient(create_app(hub))
    sign_in(member, hub, "ada@example.org")
    assert member.get("/admin/jobs", follow_redirects=False).status_code == 403
    client = curator(hub)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    text = page.text
    assert "2 runs" in text
    # The failed embed started last: it comes first, its error escaped.
    assert text.index("RuntimeError: &lt;model&gt; went away") < text.index('{"papers": 91}')
    assert 'class="job-run job-failed"' in text
    # Each run's duration: the embed took a minute, the fetch no time at all.
    assert [cell.split("<")[0] for cell in text.split('<td class="job-took">')[1:]] == [
        "1 min 00 s",
        "0.00 s",
    ]
    failed_only = client.get("/admin/jobs", params={"state": "failed"}).text
    assert "1 run failed," in failed_only and '{"papers"' not in failed_only
    assert client.get("/admin/jobs", params={"job": "nap"}).status_code == 400
    assert 'href="/admin/jobs"' in client.get("/new").text  # linked from the curator's pages


def _bearer(hub: Hub, email: str, role: Role | None = None) -> dict[str, str]:
    with hub.db.write() as conn:
        user = get_or_create_user(conn, email)
        if role is not None:
            set_role(conn, user.user_id, role)
    token = create_api_token(db=hub.db, user_id=user.user_id, name="triage")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_the_day_ranked_with_kind_score_reason_and_featured(hub: Hub) -> None:
    client = TestClient(create_app(hub))
    assert client.get("/api/new").status_code == 401
    member = _bearer(hub, "ada@example.org")
    assert client.get("/api/new", headers=member).status_code == 403
    auth = _bearer(hub, "cur@example.org", Role.CURATOR)

    answer = client.get("/api/new", params={"category": "cs.AI"}, headers=auth)

    assert answer.status_code == 200
    body = answer.json()
    assert body["day"] == "2026-03-17" and body["category"] == "cs.AI"
    assert body["categories"] == ["cs.AI", "cs.CL"] and body["policy"] == "none"
    papers = body["papers"]
    assert len(papers) == body["total"] > 0
    kinds = [p["kind"] for p in papers]
    assert kinds == sorted(kinds, key=["new", "cross-list", "replacement"].index)
    assert kinds.count("replacement") == 3
    assert all(p["listedIn"] == ["cs.AI"] for p in papers)
    assert all(p["reason"] and p["featured"] is False for p in papers)
    assert {"id", "title", "categories", "url"} <= set(papers[0]["paper"])
    with hub.db.read() as conn:
        listed = {a.paper_id for a in announced_on(conn, TUESDAY) if a.category == "cs.AI"}
    assert {p["paper"]["id"] for p in papers} == listed

    paper_id = papers[0]["paper"]["id"]
    put = client.put(f"/api/new/2026-03-17/featured/{paper_id}", headers=auth)
    assert put.status_code == 200 and put.json()["featured"] and put.json()["changed"]
    again = client.get("/api/new", params={"category": "cs.AI"}, headers=auth).json()
    first = next(p for p in again["papers"] if p["paper"]["id"] == paper_id)
    assert first["featured"] and first["featuredNote"] == "Featured by cur"
    off = client.delete(f"/api/new/2026-03-17/featured/{paper_id}", headers=auth)
    assert off.status_code == 200 and not off.json()["featured"]
    with hub.db.read() as conn:
        assert vetoed_on(conn, TUESDAY) == {paper_id}
    assert client.get("/api/new", params={"day": "soon"}, headers=auth).status_code == 400
    assert client.put("/api/new/2026-03-17/featured/2699.00000", headers=auth).status_code == 404


def test_new_marks_up_the_keys_and_the_in_place_feature_buttons(hub: Hub) -> None:
    page = curator(hub).get("/new").text
    assert "<kbd>f</kbd>" in page and "<kbd>j</kbd>" in page
    rows = page.count('class="card triage-item')
    assert rows > 0
    assert page.count('<form class="inline-fields feature-form" action="/new/feature"') == rows
    assert page.count('aria-keyshortcuts="f"') == rows
    assert page.count('class="card-note feature-note"') == rows
    script = (Path(__file__).resolve().parents[2] / "src/paperfeed/web/static/site.js").read_text()
    assert 'classList.contains("feature-form")' in script and 'event.key !== "f"' in script


def test_a_category_page_lists_its_papers_in_pages_with_its_feeds(client: TestClient) -> None:
    with client.app.state.hub.db.read() as conn:  # type: ignore[attr-defined]
        total = count_in_category(conn, "cs.CL")
        first = [i.paper.paper_id for i in recent_in_category(conn, "cs.CL", limit=30)]
    assert total > 30
    page = client.get("/categories/cs.CL")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Papers in cs.CL</h1>" in text and f"{total:,} papers featured" in text
    ids = re.findall(r'<h2 class="card-title math" id="paper-\d+"><a href="/papers/([^"]+)"', text)
    assert ids == first
    assert 'rel="alternate" type="application/rss+xml"' in text
    assert 'href="/categories/cs.CL.rss"' in text and 'href="/categories/cs.CL.atom"' in text
    assert 'href="/categories/cs.CL?page=2"' in text
    second = client.get("/categories/cs.CL", params={"page": 2}).text
    assert not set(ids) & set(re.findall(r'id="paper-\d+"><a href="/papers/([^"]+)"', second))
    assert client.get("/categories/cs.CL", params={"page": 999}).status_code == 404
    # The feeds keep their paths: a suffix is never read as a category name.
    assert (
        client.get("/categories/cs.CL.rss")
        .headers["content-type"]
        .startswith("application/rss+xml")
    )
    assert client.get("/categories/hep-th.atom").status_code == 200
    assert client.get("/categories/nothing-here").status_code == 200  # an empty category
    # Every paper card's category chip leads to its category page.
    paper_page = client.get(f"/papers/{first[0]}").text
    assert '<a class="badge badge-primary" href="/categories/' in paper_page


def test_the_api_lists_a_categorys_papers_as_its_page_does(client: TestClient) -> None:
    answer = client.get("/api/categories/cs.CL/papers", params={"limit": 5, "p": 1})
    assert answer.status_code == 200
    entries = answer.json()
    with client.app.state.hub.db.read() as conn:  # type: ignore[attr-defined]
        expected = recent_in_category(conn, "cs.CL", limit=5, offset=5)
    assert [e["paper"]["id"] for e in entries] == [i.paper.paper_id for i in expected]
    assert all("cs.CL" in e["paper"]["categories"] for e in entries)
    assert entries[0]["publishedAt"].startswith(expected[0].day.isoformat())
    assert client.get("/api/categories/cs%25/papers").status_code == 404


def test_a_category_nobody_featured_lists_its_latest_announced_papers(hub: Hub) -> None:
    # The demo's arXiv week is searchable but not featured: a paper's cs.CL chip led to "No
    # paper in cs.CL has been featured here yet" beside 400 cs.CL papers.
    hub.search_index.ensure_fresh(force=True)
    client = TestClient(create_app(hub))
    with hub.db.read() as conn:
        assert count_in_category(conn, "cs.CL") == 0
    page = client.get("/categories/cs.CL").text
    ids = re.findall(r'<h2 class="card-title math" id="paper-\d+"><a href="/papers/([^"]+)"', page)
    in_cl = [pid for pid, f in hub.search_index.facets.items() if "cs.CL" in f.categories]
    assert len(ids) == min(30, len(in_cl)) > 0
    assert "None featured yet" in page and "most recently announced" in page
    assert set(ids) <= set(in_cl)
    assert client.get("/categories/nothing-here").status_code == 200
