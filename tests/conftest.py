"""Fixtures shared by every test: a real, migrated SQLite store in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database
from tests.pg.server import postgres_server, postgres_url  # noqa: F401  (real PostgreSQL)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point PAPERFEED_DATA_DIR away from the checkout, so no test writes into ./data.

    Also allow the host name TestClient sends (`testserver`), as Django's test runner does, and
    turn the daily loop's stars job off: it asks api.github.com, and tests never leave loopback
    (tests/loop/test_stars.py gives it a fake GitHub).
    """
    names = (
        "PAPERFEED_DATA_DIR",
        "PAPERFEED_DATABASE_URL",
        "PAPERFEED_ALLOWED_HOSTS",
        "PAPERFEED_GITHUB_STARS_PER_RUN",
    )
    saved = {k: os.environ.get(k) for k in names}
    os.environ["PAPERFEED_DATA_DIR"] = str(tmp_path_factory.mktemp("default-data"))
    os.environ["PAPERFEED_ALLOWED_HOSTS"] = "testserver"
    os.environ["PAPERFEED_GITHUB_STARS_PER_RUN"] = "0"
    os.environ.pop("PAPERFEED_DATABASE_URL", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a temporary folder."""
    database = Database(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    database.migrate()
    yield database
    database.dispose()
