"""`/new`: curators triage the day's listing (new, cross-lists, replacements), ranked by
community interest, and feature or unfeature in one click that comes back to the same row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.community.accounts import Role
from paperfeed.db import Database
from paperfeed.db.announcements import (
    Announcement,
    announced_on,
    record_announcements,
    vetoed_on,
)
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import finish_run, start_run
from paperfeed.db.papers import upsert_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.ingest.arxiv_listing import parse_listing
from paperfeed.models import PaperRecord
from paperfeed.search.indexer import embed_papers
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.loop.fake_arxiv import listing_feed
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
    failed_only = client.get("/admin/jobs", params={"state": "failed"}).text
    assert "1 run failed," in failed_only and '{"papers"' not in failed_only
    assert client.get("/admin/jobs", params={"job": "nap"}).status_code == 400
    assert 'href="/admin/jobs"' in client.get("/new").text  # linked from the curator's pages
