"""`paperfeed migrate-store` between SQLite files: what it prints, its refusals and exit codes
(the PostgreSQL round trip is tests/pg/test_migrate_store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.db import Database
from paperfeed.db.schema import papers
from tests.db.store_rows import dump, fill_every_table

runner = CliRunner()


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    db = Database(f"sqlite:///{tmp_path / 'data' / 'paperfeed.db'}")
    db.migrate()
    fill_every_table(db)
    with db.write() as conn:  # generated statuses are nonsense: show the papers
        conn.execute(papers.update().values(status="active"))
    return db


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["migrate-store", *args])
    return result.exit_code, result.output


def test_copy_then_refuse_then_force(source: Database, tmp_path: Path) -> None:
    target = tmp_path / "new" / "paperfeed.db"
    code, out = run(f"sqlite:///{target}")
    assert code == 0, out
    rows = sum(len(r) for r in dump(source).values())
    assert f"copied {rows:,} rows to sqlite:///{target}" in out
    assert f"search indexes in {tmp_path / 'new' / 'paperfeed-search'}: keyword 3 papers" in out
    assert f"next: PAPERFEED_DATABASE_URL=sqlite:///{target}" in out
    assert dump(Database(f"sqlite:///{target}")) == dump(source)
    code, out = run(f"sqlite:///{target}", "--no-index")
    assert code == 2 and "not empty: " in out and "--force" in out
    code, out = run(f"sqlite:///{target}", "--force", "--no-index")
    assert code == 0, out
    assert "emptied the target first" in out and "run `paperfeed index`" in out


def test_bad_targets_exit_2(source: Database, tmp_path: Path) -> None:
    code, out = run("not a url")
    assert code == 2 and "cannot open 'not a url'" in out
    code, out = run("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 2 and "cannot use the store" in out
    code, out = run(f"sqlite:///{tmp_path / 'data' / 'paperfeed.db'}")
    assert code == 2 and "same database" in out
