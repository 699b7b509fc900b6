"""copy_store between two SQLite stores: every row and id, refusals, --force (the PostgreSQL
round trip is tests/pg/test_migrate_store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from paperfeed.db import Database
from paperfeed.db.copy_store import (
    StoreCopyError,
    TargetNotEmpty,
    copied_tables,
    copy_store,
    table_counts,
)
from paperfeed.db.schema import metadata, site_keys, users, utc_now
from tests.db.store_rows import ROWS_PER_TABLE, add_community_rows, dump, fill_every_table


def _store(path: Path, revision: str = "head") -> Database:
    database = Database(f"sqlite:///{path}")
    database.migrate(revision)
    return database


@pytest.fixture
def full(tmp_path: Path) -> Database:
    """A store with rows in every table: real community rows over generated papers."""
    source = _store(tmp_path / "source.db")
    fill_every_table(source)
    add_community_rows(source)
    fill_every_table(source)
    return source


def test_copied_tables_are_the_whole_schema_parents_first() -> None:
    tables = copied_tables()
    assert {t.name for t in tables} == set(metadata.tables)
    seen: set[str] = set()
    for t in tables:
        for fk in t.foreign_keys:
            assert fk.column.table.name in seen | {t.name}, (t.name, fk.target_fullname)
        seen.add(t.name)


def test_every_row_and_id_is_copied(full: Database, tmp_path: Path) -> None:
    target = _store(tmp_path / "target.db")
    copied: dict[str, int] = {}

    def progress(name: str, rows: int) -> None:
        copied[name] = copied.get(name, 0) + rows

    report = copy_store(source=full, target=target, batch_size=2, progress=progress)
    before = dump(full)
    assert all(len(rows) >= ROWS_PER_TABLE for rows in before.values()), before
    assert dump(target) == before
    assert report.tables == copied == table_counts(full)
    assert report.rows == sum(len(rows) for rows in before.values())
    # JSON null and SQL NULL stayed apart (the dump's last fields say which is SQL NULL).
    job_runs = before["job_runs"]
    assert {row[-1] for row in job_runs} == {True, False}
    # A new row after the copy gets an id past the copied ones.
    with target.write() as conn:
        new_id = conn.execute(
            insert(users).values(email="new@example.org", role="member", created_at=utc_now())
        ).inserted_primary_key[0]
    with full.read() as conn:
        assert new_id > max(conn.scalars(select(users.c.user_id)))


def test_a_target_with_rows_is_refused_unless_forced(full: Database, tmp_path: Path) -> None:
    target = _store(tmp_path / "target.db")
    with target.write() as conn:
        fresh_key = conn.scalar(select(site_keys.c.secret))  # the migration made one
    assert fresh_key is not None
    copy_store(source=full, target=target)  # a fresh store's own keys do not count as rows
    with target.read() as conn, full.read() as source:
        assert conn.scalar(select(site_keys.c.secret)) != fresh_key
        assert set(conn.execute(select(site_keys))) == set(source.execute(select(site_keys)))
    with pytest.raises(TargetNotEmpty, match=r"papers \(3\)") as refused:
        copy_store(source=full, target=target)
    assert "site_keys" not in refused.value.counts
    other = _store(tmp_path / "other.db")
    fill_every_table(other)
    with other.write() as conn:
        conn.execute(insert(users).values(email="x@y.z", role="admin", created_at=utc_now()))
    report = copy_store(source=full, target=other, force=True)
    assert report.emptied["users"] == ROWS_PER_TABLE + 1
    assert dump(other) == dump(full)


def test_same_store_and_other_migrations_are_refused(full: Database, tmp_path: Path) -> None:
    again = Database(f"sqlite:///{tmp_path / '.' / 'source.db'}")
    with pytest.raises(StoreCopyError, match="same database"):
        copy_store(source=full, target=again, force=True)
    older = _store(tmp_path / "older.db", revision="m006")
    with pytest.raises(StoreCopyError, match="different migrations"):
        copy_store(source=full, target=older)
    assert dump(full)["papers"]  # nothing was touched
