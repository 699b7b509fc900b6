"""The command line on a PostgreSQL store picked by PAPERFEED_DATABASE_URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app

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
