"""The migrations build exactly the schema in db/schema.py, with SQLite's pragmas on."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from paperfeed.db import Database
from paperfeed.db.migrate import current_revision, head_revision, latest_revision
from paperfeed.db.schema import metadata


def test_migrate_blank_database_matches_the_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'blank.db'}")
    assert current_revision(db) is None
    db.migrate()
    assert current_revision(db) == head_revision(db) == "m020"
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        columns = {c["name"] for c in inspect(conn).get_columns("papers")}
    assert diff == []
    assert {"paper_id", "version", "title", "abstract", "authors", "categories"} <= columns
    assert {"primary_category", "submitted", "updated", "announced", "comment"} <= columns
    assert {"journal_ref", "doi", "license", "status"} <= columns


def test_migrate_twice_changes_nothing(db: Database) -> None:
    db.migrate()
    assert current_revision(db) == "m020"


def test_the_fast_head_check_agrees_with_alembic_and_still_migrates_an_older_store(
    tmp_path: Path,
) -> None:
    # `upgrade` skips Alembic for a store at the newest file's revision: the two must agree.
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    assert current_revision(db) is None
    assert latest_revision() == head_revision(db)
    db.migrate("m019")
    assert current_revision(db) == "m019"
    db.migrate()
    assert current_revision(db) == latest_revision()


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(db: Database) -> None:
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
