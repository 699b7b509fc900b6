"""A configured embedding model: vectors of two models are never mixed, and a paper without
categories gets keyword and vector neighbours from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.db.papers import get_paper
from paperfeed.db.vectors import vector_models
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource
from paperfeed.search.embedder import default_embedder, is_shipped_model
from paperfeed.search.indexer import OtherModelVectors, embed_papers
from tests.search.fakes import FakeEmbedder

runner = CliRunner()


class OtherModel(FakeEmbedder):
    """Another model: its own id (and another dimension)."""

    model_id = "fake/another-model"

    def __init__(self) -> None:
        super().__init__(dim=32)


class NewRevision(FakeEmbedder):
    """The same model, another revision (a new export or precision)."""

    revision = "2"


def _visible(hub: Hub) -> int:
    hub.search_index.ensure_fresh(force=True)
    return len(hub.search_index.facets)


def test_embedding_with_another_model_is_refused_until_a_rebuild(hub: Hub) -> None:
    with hub.db.read() as conn:
        before = vector_models(conn)
    assert set(before) == {FakeEmbedder.model_id}
    with pytest.raises(OtherModelVectors, match=r"paperfeed index --rebuild"):
        embed_papers(hub.db, OtherModel())
    with hub.db.read() as conn:
        assert vector_models(conn) == before  # nothing embedded, nothing dropped
    report = embed_papers(hub.db, OtherModel(), replace_other_models=True)
    assert report.embedded == _visible(hub)
    with hub.db.read() as conn:
        assert set(vector_models(conn)) == {OtherModel.model_id}
    assert embed_papers(hub.db, OtherModel()).embedded == 0


def test_a_new_revision_of_the_same_model_is_embedded_again_without_asking(hub: Hub) -> None:
    assert embed_papers(hub.db, NewRevision()).embedded == _visible(hub)


def test_the_index_command_refuses_to_mix_models(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.embedder = OtherModel()
    monkeypatch.setattr("paperfeed.cli.search.make_hub", lambda: hub)
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 2
    assert "another model" in result.stderr and "paperfeed index --rebuild" in result.stderr
    with hub.db.read() as conn:
        assert set(vector_models(conn)) == {FakeEmbedder.model_id}
    result = runner.invoke(app, ["index", "--rebuild"])
    assert result.exit_code == 0, result.stderr
    with hub.db.read() as conn:
        assert set(vector_models(conn)) == {OtherModel.model_id}
    vectors = hub.search_index.vectors
    assert vectors is not None and len(vectors) == _visible(hub)


def test_similar_from_the_cli_on_a_paper_without_categories(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hub.db.read() as conn:
        stored = get_paper(conn, "2603.12270")
    assert stored is not None
    source = tmp_path / "cacm.jsonl"
    record = {"id": "9001", "title": stored.record.title, "abstract": stored.record.abstract}
    source.write_text(json.dumps({**record, "date": "2026-03-20"}) + "\n")
    run_ingest(hub.db, SnapshotSource(source))
    assert hub.embedder is not None
    embed_papers(hub.db, hub.embedder)
    monkeypatch.setattr("paperfeed.cli.search.make_hub", lambda: hub)
    result = runner.invoke(app, ["similar", "9001", "--json", "--limit", "10"])
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 10 and hits[0]["id"] == "2603.12270"
    assert hits[0]["keyword_rank"] == 1 and hits[0]["vector_rank"] == 1
    assert any(h["keyword_rank"] is None for h in hits) or any(
        h["vector_rank"] is None for h in hits
    )  # the two lists differ, and both fed the answer
    assert all(h["keyword_rank"] or h["vector_rank"] for h in hits)


def test_the_shipped_model_is_the_default() -> None:
    assert is_shipped_model("") and is_shipped_model("all-MiniLM-L6-v2")
    assert is_shipped_model("sentence-transformers/all-MiniLM-L6-v2")
    assert not is_shipped_model("allenai/specter2_base")


@pytest.mark.slow
def test_a_local_sentence_transformers_folder_is_a_model(tmp_path: Path) -> None:
    from paperfeed.search.model_files import ModelFiles
    from paperfeed.search.torch_embedder import TorchEmbedder

    folder = ModelFiles.packaged().path
    embedder = default_embedder(cache_dir=tmp_path, model=str(folder))
    assert embedder.model_id == f"local/{folder.resolve().name}"
    assert embedder.dim == 384 and embedder.revision.endswith("-st-fp32")
    texts = ["Sparse retrieval with learned term weights", "Protein folding dynamics"]
    vectors = embedder.embed(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors, TorchEmbedder().embed(texts), atol=1e-5)
