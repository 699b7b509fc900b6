"""On PostgreSQL too, the migrations build exactly db/schema.py, and downgrade cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from paperfeed.db import Database
from paperfeed.db.migrate import alembic_config, current_revision, head_revision
from paperfeed.db.schema import metadata


def test_migrate_blank_database_matches_the_schema(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert current_revision(db) is None
        db.migrate()
        assert current_revision(db) == head_revision(db)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert tables == set(metadata.tables) | {"alembic_version"}
        db.migrate()  # twice changes nothing
        assert current_revision(db) == head_revision(db)
    finally:
        db.dispose()


def test_downgrade_to_base_and_up_again(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        db.migrate()
        config = alembic_config(db)
        with db.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.commit()
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        db.migrate()
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        db.dispose()
