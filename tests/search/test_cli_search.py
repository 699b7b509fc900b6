"""`paperfeed index | search | similar` from the command line, on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.search.embedder import embedding_text
from paperfeed.search.indexer import SAMPLE_VECTORS
from paperfeed.search.onnx_embedder import OnnxEmbedder

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    return tmp_path / "data"


def json_out(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, list)
    return parsed


def test_keyword_only_search_from_the_cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    assert runner.invoke(app, ["init"]).exit_code == 0
    hits = json_out("search", "knowledge distillation probes", "--json", "--limit", "5")
    assert len(hits) == 5
    assert {"id", "title", "score"} <= set(hits[0])
    assert hits[0]["id"] == "2603.12270"
    pinned = json_out("search", "arXiv:2603.12270v1", "--json", "--limit", "1000")
    assert pinned[0]["id"] == "2603.12270" and pinned[0]["pinned"] is True
    result = runner.invoke(app, ["search", "x", "--limit", "1001"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_the_demo_searches_out_of_the_box_with_the_real_model(data_dir: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    hits = json_out("search", "diffusion distillation one step", "--json")
    assert len(hits) == 10
    assert any(h["vector_rank"] for h in hits) and any(h["keyword_rank"] for h in hits)
    assert any("diffusion" in str(h["title"]).lower() for h in hits[:3])
    similar = json_out("similar", "2603.12270", "--json", "--limit", "5")
    assert len(similar) == 5 and all(h["id"] != "2603.12270" for h in similar)
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0
    assert "0 papers embedded" in result.stdout


@pytest.mark.slow
def test_the_shipped_sample_vectors_match_the_model(tmp_path: Path) -> None:
    import gzip

    with np.load(SAMPLE_VECTORS) as data:
        ids = [str(x) for x in data["ids"]]
        shipped = data["vectors"].astype(np.float32)
        revision = str(data["revision"])
    embedder = OnnxEmbedder(cache_dir=tmp_path / "models")
    assert revision == embedder.revision
    papers = {}
    # The arXiv sample and the Hugging Face upvote history that `paperfeed init` loads.
    for name in ("arxiv_daily_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
        with gzip.open(SAMPLE_VECTORS.parent / name, "rt") as lines:
            papers.update({r["id"]: r for r in map(json.loads, lines)})
    assert len(ids) == len(papers) == 2_780
    rows = list(range(0, len(ids), 41))
    texts = [
        embedding_text(title=papers[ids[r]]["title"], abstract=papers[ids[r]]["abstract"])
        for r in rows
    ]
    fresh = embedder.embed(texts)
    cosines = np.sum(fresh * shipped[rows], axis=1)
    assert cosines.min() > 0.99


def test_index_with_semantic_search_off_does_not_say_papers_lack_vectors(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some papers have a vector: with semantic search off, none is said to lack one (#9)."""
    from paperfeed.db import Database
    from paperfeed.db.vectors import EmbeddingContract
    from paperfeed.search.indexer import load_sample_vectors

    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    assert runner.invoke(app, ["init"]).exit_code == 0
    with np.load(SAMPLE_VECTORS, allow_pickle=False) as shipped:
        contract = EmbeddingContract(
            model_id=str(shipped["model_id"]),
            revision=str(shipped["revision"]),
            input_version=int(shipped["input_version"]),
            dim=int(shipped["vectors"].shape[1]),
        )
    db = Database(f"sqlite:///{data_dir / 'paperfeed.db'}")
    try:
        assert load_sample_vectors(db=db, contract=contract) > 0
    finally:
        db.dispose()
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0, result.stderr
    assert "no vector" not in result.stderr and "reindex needed" not in result.stderr
    assert result.stdout.strip().endswith("vector index: off")


@pytest.mark.slow
def test_similar_json_of_a_paper_without_categories_gives_cosines_of_both_lists(
    data_dir: Path, tmp_path: Path
) -> None:
    """#15 must-show: `paperfeed similar ID --json` on a paper with no arXiv categories returns
    keyword and vector neighbours, each scored by the cosine of the two stored vectors."""
    from paperfeed.db.papers import get_paper
    from paperfeed.hub import Hub
    from paperfeed.settings import Settings

    assert runner.invoke(app, ["init"]).exit_code == 0
    original = json_out("search", "arXiv:2603.12270", "--json")[0]
    hub = Hub.from_settings(Settings(data_dir=data_dir))
    try:
        with hub.db.read() as conn:
            stored = get_paper(conn, "2603.12270")
        assert stored is not None
        text = {"title": stored.record.title, "abstract": stored.record.abstract}
    finally:
        hub.close()
    snapshot = tmp_path / "uncategorized.jsonl"
    # CACM-like: an id that is not an arXiv id, no categories, the text of a sample paper.
    snapshot.write_text(json.dumps({"id": "cacm-9001", "date": "2026-03-20", **text}) + "\n")
    assert runner.invoke(app, ["ingest", "snapshot", str(snapshot)]).exit_code == 0
    assert runner.invoke(app, ["index"]).exit_code == 0
    hits = json_out("similar", "cacm-9001", "--json", "--limit", "10")
    assert len(hits) == 10 and all(h["id"] != "cacm-9001" for h in hits)
    assert hits[0]["id"] == original["id"] == "2603.12270"
    assert hits[0]["keyword_rank"] == 1 and hits[0]["vector_rank"] == 1
    assert all(h["keyword_rank"] or h["vector_rank"] for h in hits)
    assert sum(1 for h in hits if h["keyword_rank"]) >= 5  # the keyword list contributes
    assert sum(1 for h in hits if h["vector_rank"]) >= 5  # and so does the vector list
    hub = Hub.from_settings(Settings(data_dir=data_dir))
    try:
        hub.search_index.ensure_fresh()
        vectors = hub.search_index.vectors
        assert vectors is not None
        own = vectors.vector("cacm-9001")
        assert own is not None
        for hit in hits:
            theirs = vectors.vector(str(hit["id"]))
            assert theirs is not None
            assert hit["score"] == pytest.approx(float(np.dot(own, theirs)), abs=1e-4)
    finally:
        hub.close()
    assert float(hits[0]["score"]) > 0.95  # the same text: a cosine near 1, not a fused value
    assert all(-1.0 <= float(h["score"]) < float(hits[0]["score"]) for h in hits[1:])
