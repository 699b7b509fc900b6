"""The command line on a PostgreSQL store picked by PAPERFEED_DATABASE_URL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.ingest.fake_arxiv import listing_feed
from paperfeed.loop.schedule import Schedule
from paperfeed.settings import Settings
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer
from tests.loop.conftest import TUESDAY

runner = CliRunner()


@pytest.fixture(autouse=True)
def _postgres_store(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")  # no model to prepare here


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_stats_and_backup_on_postgres(tmp_path: Path) -> None:
    code, out = run("init")
    assert code == 0, out
    assert "2,027 imported" in out  # the sample, then its upvote history
    assert not (tmp_path / "data" / "paperfeed.db").exists()  # no SQLite file on the side
    code, out = run("stats", "--json")
    assert code == 0
    stats = json.loads(out)
    code, out = run("init")
    assert code == 0 and "nothing to load" in out
    assert stats["papers"] > 2027 and stats["featured_days"] > 5
    assert f"{stats['papers']:,} papers on {stats['featured_days']:,} days" in out
    code, out = run("backup", str(tmp_path / "copy.db"))
    assert code != 0 and "pg_dump" in out
    assert not (tmp_path / "copy.db").exists()


def test_worker_once_on_postgres_runs_the_due_jobs_through_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected, _fire = Schedule.from_settings(Settings(_env_file=None)).fetch_period(  # type: ignore[call-arg]
        dt.datetime.now(dt.UTC)
    )
    server = ScriptedServer(FakeClock())
    server.route(lambda received: Reply(listing_feed("cs.CL", TUESDAY, dated=expected)))
    for name, value in {
        "ARXIV_CATEGORIES": "cs.CL",
        "ARXIV_LISTING_URL": f"{server.url}/atom/{{category}}",
        "ARXIV_REQUEST_INTERVAL_S": "0",
        "FETCH_GIVE_UP_HOURS": "100",  # the latest announcement is awaited at any hour
        "AUTO_FEATURE": "top:2",
    }.items():
        monkeypatch.setenv(f"PAPERFEED_{name}", value)
    try:
        code, out = run("worker", "--once", "--concurrency", "2")
        assert code == 0, out
        assert out.startswith(f"queued: fetch:{expected}"), out
        for job in ("fetch", "embed", "feature"):
            assert f"{job} {expected}: done (attempt 1)" in out
        code, again = run("worker", "--once")
        assert code == 0, again
        # The period's jobs are done: nothing of them is queued or run again.
        assert not any(job in again for job in ("fetch", "embed", "feature")), again
    finally:
        server.close()
