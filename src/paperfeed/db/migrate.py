"""Run the Alembic migrations in `db/migrations/` against a Database, without an alembic.ini."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

# Alembic is imported where it runs: every CLI command imports this module (status, store
# copies), and only a migration or a revision check needs Alembic's ~0.15 s of imports.
if TYPE_CHECKING:
    from alembic.config import Config

    from paperfeed.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Migration files are named after their revision ("m020_create_reader_topics.py" is "m020"),
# each revising the one before (tests/db/test_migrations.py checks both against Alembic).
_REVISION_FILE = re.compile(r"(m\d{3})_\w+\.py")


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The option goes through ConfigParser interpolation: a URL-encoded password or socket
    # path (%2F…) must have its % doubled, or setting it fails.
    url = db.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def latest_revision() -> str:
    """The newest revision shipped, from the migration files' names (no Alembic import)."""
    found = [
        m.group(1)
        for f in (MIGRATIONS / "versions").iterdir()
        if (m := _REVISION_FILE.fullmatch(f.name))
    ]
    return max(found)


def current_revision(db: Database) -> str | None:
    """The store's revision, read directly (None for a store never migrated)."""
    with db.engine.connect() as conn:
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError:
            return None


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every migration up to `revision` (batch mode on SQLite).

    A store already at the newest revision is left alone without loading Alembic and its
    scripts: every CLI command migrates first, and that check cost ~0.1 s of each start.
    """
    if revision == "head" and current_revision(db) == latest_revision():
        return
    from alembic import command

    config = alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
