"""Web fixtures: the real app over a real SQLite store holding the bundled sample week."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from paperfeed.settings import Settings
from paperfeed.web.app import create_app

SITE_NAME = "Test Papers"


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=None, site_name=SITE_NAME)


@pytest.fixture(scope="session")
def sample_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database file holding the bundled sample, built once per session."""
    data_dir = tmp_path_factory.mktemp("sample")
    hub = Hub.from_settings(_settings(data_dir))
    run_ingest(hub.db, sample_source())
    hub.search_index.ensure_fresh(force=True)  # build the keyword index once, copied per test
    hub.close()  # the last connection to close checkpoints the WAL into the file
    return data_dir / "paperfeed.db"


@pytest.fixture
def sample_hub(tmp_path: Path, sample_db_file: Path) -> Iterator[Hub]:
    """A Hub over a private copy of the sample database."""
    for suffix in ("", "-wal"):  # the WAL is empty after a clean close, but copy it if not
        source = sample_db_file.with_name(sample_db_file.name + suffix)
        if source.exists():
            shutil.copyfile(source, tmp_path / source.name)
    shutil.copytree(sample_db_file.parent / "paperfeed-search", tmp_path / "paperfeed-search")
    hub = Hub.from_settings(_settings(tmp_path), migrate=False)
    yield hub
    hub.close()


@pytest.fixture
def client(sample_hub: Hub) -> TestClient:
    """An in-process client of the app over the sample."""
    return TestClient(create_app(sample_hub))


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    """An in-process client of the app over a migrated, empty store."""
    hub = Hub.from_settings(_settings(tmp_path / "empty"))
    yield TestClient(create_app(hub))
    hub.close()
