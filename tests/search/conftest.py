"""A store holding the bundled sample, embedded with the FakeEmbedder, shared per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from paperfeed.search.indexer import embed_papers
from paperfeed.settings import Settings
from tests.search.fakes import FakeEmbedder


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the sample imported and fake-embedded (built once per session)."""
    folder = tmp_path_factory.mktemp("sample-store")
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    db.migrate()
    run_ingest(db, sample_source())
    embed_papers(db, FakeEmbedder())
    db.dispose()
    return folder


@pytest.fixture
def hub(sample_store: Path, tmp_path: Path) -> Iterator[Hub]:
    """A hub over a private copy of the sample store, with the FakeEmbedder."""
    data = tmp_path / "data"
    shutil.copytree(sample_store, data)
    settings = Settings(data_dir=data, semantic_search=False)
    test_hub = Hub(
        settings=settings,
        db=Database(f"sqlite:///{data / 'paperfeed.db'}"),
        embedder=FakeEmbedder(),
    )
    yield test_hub
    test_hub.close()
