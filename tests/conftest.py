"""Fixtures shared by every test: a real, migrated SQLite store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a temporary folder."""
    database = Database(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    database.migrate()
    yield database
    database.dispose()
