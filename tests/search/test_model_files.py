"""Tests of search/model_files.py: the weights' digest in the revision, remembered in the cache."""

from __future__ import annotations

import json
from pathlib import Path

from paperfeed.search.onnx_embedder import OnnxEmbedder


def test_weights_digest_is_remembered_in_the_cache(tmp_path: Path) -> None:
    first = OnnxEmbedder(cache_dir=tmp_path)
    memo = tmp_path / "weights-sha256.json"
    assert memo.exists()
    assert OnnxEmbedder(cache_dir=tmp_path).revision == first.revision
    (digest,) = json.loads(memo.read_text()).values()
    assert digest.startswith(first.revision[:12])


def test_a_damaged_digest_memo_is_rebuilt(tmp_path: Path) -> None:
    revision = OnnxEmbedder(cache_dir=tmp_path).revision
    (tmp_path / "weights-sha256.json").write_text("{not json")
    assert OnnxEmbedder(cache_dir=tmp_path).revision == revision
    assert json.loads((tmp_path / "weights-sha256.json").read_text())
