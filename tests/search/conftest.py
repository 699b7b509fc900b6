"""A store holding the bundled sample, embedded with the FakeEmbedder, shared per module; the
sample's texts and the torch reference embedder for the real-model tests."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_path, sample_source
from paperfeed.search.embedder import embedding_text
from paperfeed.search.indexer import embed_papers
from paperfeed.search.torch_embedder import TorchEmbedder
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


@pytest.fixture(scope="module")
def sample_papers() -> list[dict[str, str]]:
    """The bundled sample's papers as JSON objects (id, title, abstract, ...)."""
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def sample_texts(sample_papers: list[dict[str, str]]) -> list[str]:
    """Title and abstract of 100 real papers, every 20th of the bundled sample."""
    return [
        embedding_text(title=p["title"], abstract=p["abstract"]) for p in sample_papers[::20][:100]
    ]


@pytest.fixture(scope="module")
def torch_embedder() -> Iterator[TorchEmbedder]:
    """The sentence-transformers fp32 reference."""
    yield TorchEmbedder()
