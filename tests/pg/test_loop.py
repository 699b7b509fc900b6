"""The daily loop on PostgreSQL: one worker pass fetches the day from the fake arXiv, embeds,
features and records each job once, as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database
from paperfeed.db.announcements import announced_on
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import list_runs
from paperfeed.hub import Hub
from paperfeed.loop.worker import run_due
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.conftest import ANNOUNCED, TUESDAY, FakeArxiv, make_settings
from tests.search.fakes import FakeEmbedder


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(FakeClock())
    scripted.route(FakeArxiv())
    yield scripted
    scripted.close()


def test_one_pass_runs_the_day_on_postgresql(
    db: Database, postgres_url: str, server: ScriptedServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, server.url, database_url=postgres_url, auto_feature="top:4")
    hub = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    done = run_due(hub, now=ANNOUNCED, http_clock=FakeClock())
    assert [(o.job, o.state) for o in done.outcomes] == [
        ("fetch", "done"),
        ("embed", "done"),
        ("feature", "done"),
        ("digest", "done"),
    ]
    assert run_due(hub, now=ANNOUNCED, http_clock=FakeClock()).outcomes == []
    with db.read() as conn:
        assert len(announced_on(conn, TUESDAY)) > 50
        assert len(papers_for_day(conn, TUESDAY)) == 4
        assert {r.attempt for r in list_runs(conn)} == {1}
    hub.search_index.keyword.close()  # not hub.close(): the fixture owns the database
