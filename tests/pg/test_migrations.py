"""On PostgreSQL too, the migrations build exactly db/schema.py (plus Procrastinate's queue,
m010), and downgrade cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from paperfeed.db import Database
from paperfeed.db.migrate import alembic_config, current_revision, head_revision
from paperfeed.db.queue_schema import created_objects, is_paperfeeds, schema_sql
from paperfeed.db.schema import metadata

QUEUE_TABLES = set(created_objects(schema_sql())["TABLE"])


def context(conn: Connection) -> MigrationContext:
    return MigrationContext.configure(conn, opts={"include_name": is_paperfeeds})


def test_migrate_blank_database_matches_the_schema(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert current_revision(db) is None
        db.migrate()
        assert current_revision(db) == head_revision(db)
        with db.engine.connect() as conn:
            diff = compare_metadata(context(conn), metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert tables == set(metadata.tables) | {"alembic_version"} | QUEUE_TABLES
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
            leftovers = conn.execute(
                text("SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%'")
            ).all()
            leftovers += conn.execute(
                text("SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%'")
            ).all()
            assert leftovers == []
        db.migrate()
        with db.engine.connect() as conn:
            assert compare_metadata(context(conn), metadata) == []
            assert set(inspect(conn).get_table_names()) >= QUEUE_TABLES
    finally:
        db.dispose()
