"""`paperfeed migrate-store`: a SQLite hub (the demo, vectors, every community table) to a real
PostgreSQL and back to a fresh SQLite file, every row of every table equal both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DataError
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.db import Database
from paperfeed.db.copy_store import copy_store
from paperfeed.db.schema import digest_ledger, papers, users, utc_now
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import load_sample_vectors
from paperfeed.search.onnx_embedder import OnnxEmbedder
from tests.db.store_rows import ROWS_PER_TABLE, add_community_rows, dump, fill_every_table
from tests.pg.server import PostgresServer

pytestmark = pytest.mark.slow  # the demo import and a PostgreSQL copy: ~20 s
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_sqlite_to_postgres_and_back(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    code, out = run("init")
    assert code == 0, out
    source = Database(f"sqlite:///{tmp_path / 'data' / 'paperfeed.db'}")
    vectors = load_sample_vectors(
        db=source, contract=contract_of(OnnxEmbedder(cache_dir=tmp_path / "models"))
    )
    assert vectors > 2000
    add_community_rows(source)
    fill_every_table(source)
    before = dump(source)
    assert len(before["papers"]) > 2700 and len(before["paper_vectors"]) == vectors
    assert all(len(rows) >= ROWS_PER_TABLE for rows in before.values())

    # SQLite -> PostgreSQL, with the search indexes (keyword and vectors) built there.
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "true")
    code, out = run("migrate-store", postgres_url, "--batch-size", "500")
    assert code == 0, out
    rows = sum(len(r) for r in before.values())
    assert f"copied {rows:,} rows" in out
    assert f"keyword {len(before['papers']):,} papers, vector {vectors:,} vectors" in out
    pg = Database(postgres_url)
    assert dump(pg) == before

    # A second copy onto it is refused, and changes nothing.
    code, out = run("migrate-store", postgres_url, "--no-index")
    assert code == 2 and "not empty" in out and "--force" in out

    # PostgreSQL -> a fresh SQLite file.
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    back_path = tmp_path / "back" / "paperfeed.db"
    code, out = run("migrate-store", f"sqlite:///{back_path}")
    assert code == 0, out
    assert f"search indexes in {back_path.with_name('paperfeed-search')}" in out
    back = Database(f"sqlite:///{back_path}")
    assert dump(back) == before

    # The hub runs on the copy: search finds a paper by its title; new ids follow the copied.
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", f"sqlite:///{back_path}")
    with back.read() as conn:
        paper_id, title = conn.execute(
            select(papers.c.paper_id, papers.c.title).order_by(papers.c.paper_id).limit(1)
        ).one()
    code, out = run("search", title, "--json")
    assert code == 0 and paper_id in out
    for db in (pg, back):
        with db.write() as conn:
            new_id = conn.execute(
                insert(users).values(email="late@example.org", role="member", created_at=utc_now())
            ).inserted_primary_key[0]
        assert new_id == max(row[0] for row in before["users"]) + 1
        db.dispose()
    source.dispose()


def test_a_failed_copy_leaves_postgres_as_it_was(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    source = Database(f"sqlite:///{tmp_path / 'source.db'}")
    source.migrate()
    fill_every_table(source)
    # SQLite keeps a 70-character lease owner; PostgreSQL's column holds 64. The ledger comes
    # late, after most tables were copied in the same transaction.
    with source.write() as conn:
        conn.execute(digest_ledger.update().values(lease_owner="x" * 70))
    url = postgres_server.create_database()
    target = Database(url)
    try:
        target.migrate()
        empty = dump(target)
        progress: list[str] = []
        with pytest.raises(DataError, match="too long"):
            copy_store(source=source, target=target, progress=lambda t, n: progress.append(t))
        assert "papers" in progress and "digest_ledger" not in progress
        assert dump(target) == empty
    finally:
        target.dispose()
        source.dispose()
        postgres_server.drop_database(url)
