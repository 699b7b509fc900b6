"""`paperfeed worker --once` and `paperfeed status` through CliRunner, on a real SQLite store,
against the fake arXiv on 127.0.0.1 (its listing dated the day the real clock expects)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.ingest.fake_arxiv import listing_feed
from paperfeed.loop.schedule import Schedule
from paperfeed.loop.worker import worker_lock
from paperfeed.settings import Settings
from tests.ingest.conftest import FakeClock, Received, Reply, ScriptedServer

runner = CliRunner()


@pytest.fixture
def fake_arxiv() -> Iterator[ScriptedServer]:
    """Serves Tuesday 2026-03-17's real cs.CL listing, dated today's expected listing day."""
    server = ScriptedServer(FakeClock())
    day, _fire = Schedule.from_settings(Settings()).fetch_period(dt.datetime.now(dt.UTC))

    def answer(received: Received) -> Reply:
        category = received.path.rsplit("/", 1)[-1]
        return Reply(listing_feed(category, dt.date(2026, 3, 17), dated=day))

    server.route(answer)
    yield server
    server.close()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_arxiv: ScriptedServer) -> Path:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    monkeypatch.setenv("PAPERFEED_ARXIV_CATEGORIES", "cs.CL")
    monkeypatch.setenv("PAPERFEED_ARXIV_LISTING_URL", f"{fake_arxiv.url}/atom/{{category}}")
    monkeypatch.setenv("PAPERFEED_ARXIV_REQUEST_INTERVAL_S", "0")
    # Whenever the test runs, the latest announcement is still being looked for (even Saturday).
    monkeypatch.setenv("PAPERFEED_FETCH_GIVE_UP_HOURS", "100")
    monkeypatch.setenv("PAPERFEED_AUTO_FEATURE", "all")
    for name in ("DATABASE_URL", "SMTP_HOST"):
        monkeypatch.delenv(f"PAPERFEED_{name}", raising=False)
    return tmp_path / "data"


def test_worker_once_runs_the_due_jobs_and_status_shows_them(
    fake_arxiv: ScriptedServer,
) -> None:
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    for job in ("fetch", "embed", "feature", "digest"):
        assert f"{job} " in result.stdout
    assert "fetch" in result.stdout and "done" in result.stdout
    requests = len(fake_arxiv.requests)
    assert requests == 1
    again = runner.invoke(app, ["worker", "--once"])
    assert again.exit_code == 0 and again.stdout.strip() == ""
    assert len(fake_arxiv.requests) == requests
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    body = json.loads(status.stdout)
    assert body["healthy"] is True and body["lag_days"] == 0
    assert {j["job"]: j["last"]["state"] for j in body["jobs"]} == {
        "fetch": "done",
        "embed": "done",
        "feature": "done",
        "digest": "done",
    }
    fetch = body["jobs"][0]["last"]
    assert fetch["period"] == body["jobs"][0]["period"] and fetch["duration_s"] > 0
    text = runner.invoke(app, ["status"])
    assert text.exit_code == 0
    assert "took" in text.stdout
    assert "healthy" in text.stdout and "latest announcement stored" in text.stdout


def test_a_second_worker_exits_75(data_dir: Path) -> None:
    lock = Settings().worker_lock_path
    with worker_lock(lock):
        result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 75
    assert "another paperfeed worker" in result.output


def test_status_exits_1_when_the_schedule_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SCHEDULE_GRACE_MINUTES", "0.01")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert "unhealthy" in result.stdout
