"""The web app on a PostgreSQL hub: the main pages and the JSON API show what they show on
SQLite, and community writes (sign-in, upvote, comment) go through and count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from paperfeed.db.upvotes import card_stats
from paperfeed.db.users import get_user_by_email
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.web.community_helpers import csrf, sign_in

PAGES = [
    "/",
    "/papers?date=2026-03-18",
    "/papers?week=2026-W12",
    "/papers?month=2026-03",
    "/papers/2603.12270",
    "/search?q=diffusion",
]
API = ["/api/daily_papers", "/api/daily_papers?date=2026-03-17", "/api/papers/2603.12270"]
PAPER_LINK = re.compile(r'href="/papers/(\d{4}\.\d{4,5})"')


@dataclass
class Apps:
    pg_hub: Hub
    pg: TestClient
    lite: TestClient


def _hub(data_dir: Path, database_url: str | None) -> Hub:
    settings = Settings(
        data_dir=data_dir, database_url=database_url, site_name="PG Papers", semantic_search=False
    )
    hub = Hub.from_settings(settings)
    run_ingest(hub.db, sample_source())
    return hub


@pytest.fixture(scope="module")
def apps(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    pg_hub = _hub(tmp_path_factory.mktemp("pg-hub"), postgres_url)
    lite_hub = _hub(tmp_path_factory.mktemp("lite-hub"), None)
    assert pg_hub.db.engine.dialect.name == "postgresql"
    yield Apps(pg_hub, TestClient(create_app(pg_hub)), TestClient(create_app(lite_hub)))
    pg_hub.close()
    lite_hub.close()


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


@pytest.mark.parametrize("path", PAGES)
def test_pages_list_the_same_papers_as_on_sqlite(apps: Apps, path: str) -> None:
    pg, lite = apps.pg.get(path), apps.lite.get(path)
    assert pg.status_code == lite.status_code == 200, pg.text[:300]
    linked = PAPER_LINK.findall(lite.text)
    assert linked, "the page lists papers"
    assert PAPER_LINK.findall(pg.text) == linked


@pytest.mark.parametrize("path", API)
def test_the_api_answers_the_same_as_on_sqlite(apps: Apps, path: str) -> None:
    pg, lite = apps.pg.get(path), apps.lite.get(path)
    assert pg.status_code == lite.status_code == 200, pg.text[:300]
    assert lite.json() and pg.json() == lite.json()


def test_sign_in_upvote_and_comment_on_postgres(apps: Apps) -> None:
    hub, client = apps.pg_hub, apps.pg
    paper = PAPER_LINK.findall(client.get("/").text)[0]
    sign_in(client, hub, "pg-reader@example.org")
    with hub.db.read() as conn:
        before = card_stats(conn, [paper], user_id=None)[paper]
    assert _post(client, f"/papers/{paper}/upvote", action="add").status_code == 303
    assert _post(client, f"/papers/{paper}/upvote", action="add").status_code == 303  # once
    response = _post(client, f"/papers/{paper}/comments", body="Read on PostgreSQL.")
    assert response.status_code == 303
    with hub.db.read() as conn:
        user = get_user_by_email(conn, "pg-reader@example.org")
        assert user is not None
        after = card_stats(conn, [paper], user_id=user.user_id)[paper]
    assert (after.upvotes, after.comments, after.upvoted) == (
        before.upvotes + 1,
        before.comments + 1,
        True,
    )
    page = client.get(f"/papers/{paper}").text
    assert "Read on PostgreSQL." in page and 'aria-pressed="true"' in page
    # No page cache on PostgreSQL goes stale: the feed shows the vote on the next request.
    daily = {item["paper"]["id"]: item["paper"]["upvotes"] for item in client.get(API[0]).json()}
    assert daily[paper] == before.upvotes + 1
    trending = client.get("/api/trending?window=day").json()  # the reader's vote trends now
    assert [item["paper"]["id"] for item in trending["papers"]] == [paper]
    assert paper in PAPER_LINK.findall(client.get("/trending?window=day").text)


def test_author_pages_list_the_same_papers_and_follows_go_through(apps: Apps) -> None:
    """The index of names is filled on PostgreSQL as on SQLite (a plain executemany)."""
    page = apps.pg.get("/authors/brown-ryan")
    lite = apps.lite.get("/authors/brown-ryan")
    assert page.status_code == lite.status_code == 200, page.text[:300]
    assert PAPER_LINK.findall(page.text) == PAPER_LINK.findall(lite.text) != []
    assert (
        apps.pg.get("/api/authors/brown-ryan").json()
        == apps.lite.get("/api/authors/brown-ryan").json()
    )
    sign_in(apps.pg, apps.pg_hub, "fan@example.org")
    assert _post(apps.pg, "/authors/brown-ryan/follow").status_code == 303
    assert "1 follower" in apps.pg.get("/authors/brown-ryan").text
