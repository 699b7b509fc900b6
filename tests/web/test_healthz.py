"""`/healthz`: JSON on the store, the indexes and the schedule; 503 when the schedule is stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.loop.worker import run_due
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.search.fakes import FakeEmbedder


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub that fetches nothing (no categories): its only job is the daily digest."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        semantic_search=False,
        schedule_grace_minutes=0.01,
    )
    db = Database(settings.resolved_database_url)
    db.migrate()
    built = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    yield built
    built.close()


def test_healthz_is_503_while_a_due_job_has_not_run(hub: Hub) -> None:
    response = TestClient(create_app(hub)).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["healthy"] is False and body["schedule"] is False
    assert body["store"] is True and body["indexes"] is True
    assert "problems" not in body
    assert response.headers["cache-control"] == "no-store"


def test_healthz_is_200_once_the_worker_ran(hub: Hub) -> None:
    run_due(hub, now=dt.datetime.now(dt.UTC))
    response = TestClient(create_app(hub)).get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["healthy"] is True
    digest = next(j for j in body["jobs"] if j["job"] == "digest")
    assert digest["last"]["state"] == "done" and digest["next_at"]
