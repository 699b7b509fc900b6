"""A hub over an empty store with the FakeEmbedder and the development mailbox, pointed at a
fake arXiv on 127.0.0.1 that serves the listing of whatever day the test says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.ingest.fake_arxiv import listing_feed
from paperfeed.settings import Settings
from tests.ingest.conftest import FakeClock, Received, Reply, ScriptedServer
from tests.search.fakes import FakeEmbedder

# Monday 2026-03-16 20:00 New York time (EDT): Tuesday 2026-03-17's listing is announced.
TUESDAY = dt.date(2026, 3, 17)
ANNOUNCED = dt.datetime(2026, 3, 17, 0, 0, tzinfo=dt.UTC)


@dataclass
class FakeArxiv:
    """What the fake arXiv serves: each category's listing of `day` (None: 404), or faults."""

    day: dt.date | None = TUESDAY
    empty: bool = False
    faults: list[Reply] = field(default_factory=list)

    def __call__(self, received: Received) -> Reply:
        if self.faults:
            return self.faults.pop(0)
        category = received.path.rsplit("/", 1)[-1]
        if self.day is None:
            return Reply(b"not found", status=404)
        return Reply(listing_feed(category, self.day, empty=self.empty))


class WorkerClock:
    """An aware UTC clock that moves only when told (or when the worker sleeps)."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.at += dt.timedelta(seconds=seconds)


@pytest.fixture
def http_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def arxiv(http_clock: FakeClock) -> Iterator[tuple[ScriptedServer, FakeArxiv]]:
    server = ScriptedServer(http_clock)
    fake = FakeArxiv()
    server.route(fake)
    yield server, fake
    server.close()


def make_settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "arxiv_categories": ["cs.CL"],
        "arxiv_listing_url": f"{url}/atom/{{category}}",
        "semantic_search": False,
        "http_retries": 2,
        "http_timeout_s": 5.0,
        "public_url": "https://papers.example.org",
        "digest_time": "08:00",
        "digest_timezone": "UTC",
        "github_stars_per_run": 0,  # the stars job has its own fake GitHub (test_stars.py)
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@pytest.fixture
def make_hub(tmp_path: Path, arxiv: tuple[ScriptedServer, FakeArxiv]) -> Iterator[Any]:
    """Build hubs (one store in tmp_path) with settings overridden per test."""
    server, _fake = arxiv
    hubs: list[Hub] = []

    def build(**overrides: Any) -> Hub:
        settings = make_settings(tmp_path, server.url, **overrides)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        db.migrate()
        hub = Hub(settings=settings, db=db, embedder=FakeEmbedder())
        hubs.append(hub)
        return hub

    yield build
    for hub in hubs:
        hub.close()


@pytest.fixture
def hub(make_hub: Any) -> Hub:
    built: Hub = make_hub()
    return built
