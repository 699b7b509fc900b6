"""PostgreSQL fixtures: `db` here is a migrated PostgreSQL store, emptied after each test.

The server comes from tests/pg/server.py (session-scoped, shared with the other test folders).
Each test module gets its own database, migrated once; after each test every table is emptied
(DELETE, children first), which on a few rows is much cheaper than a new database per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paperfeed.db import Database
from paperfeed.db.schema import metadata


@pytest.fixture(scope="module")
def migrated_pg(postgres_url: str) -> Iterator[Database]:
    """This module's PostgreSQL database, migrated to head."""
    database = Database(postgres_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_pg: Database) -> Iterator[Database]:
    """A migrated, empty PostgreSQL store (overrides the SQLite one of tests/conftest.py)."""
    yield migrated_pg
    with migrated_pg.write() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
