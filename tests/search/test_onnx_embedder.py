"""Tests of search/onnx_embedder.py on the real all-MiniLM-L6-v2 (mostly slow), against torch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from paperfeed.search.embedder import embedding_text
from paperfeed.search.onnx_embedder import OnnxEmbedder
from paperfeed.search.torch_embedder import TorchEmbedder

DIFFUSION_PAPER = "2603.12575"  # AccelAes: ... Diffusion Transformers for ... Image Generation
NUMBER_THEORY_PAPER = (
    "2603.12425"  # A geometric proof of Lagrange's theorem for continued fractions
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the module, so the int8 model is built once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def onnx_embedder(cache_dir: Path) -> OnnxEmbedder:
    """The default int8 ONNX embedder over the module's cache."""
    return OnnxEmbedder(cache_dir=cache_dir)


def test_revision_changes_with_precision(tmp_path: Path) -> None:
    int8 = OnnxEmbedder(cache_dir=tmp_path)
    fp32 = OnnxEmbedder(cache_dir=tmp_path, precision="fp32")
    assert int8.revision.endswith("-int8")
    assert fp32.revision.endswith("-fp32")
    assert int8.revision.split("-")[0] == fp32.revision.split("-")[0]
    assert int8.model_path != fp32.model_path
    assert int8.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert int8.dim == 384
    assert not int8.model_path.exists(), "constructing an embedder builds nothing"


def test_batch_size_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        OnnxEmbedder(cache_dir=tmp_path).embed(["text"], batch_size=0)


@pytest.mark.slow
def test_embed_returns_unit_float32_rows(
    onnx_embedder: OnnxEmbedder, sample_texts: list[str]
) -> None:
    vectors = onnx_embedder.embed(sample_texts[:10])
    assert vectors.shape == (10, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_empty_input_gives_no_rows(onnx_embedder: OnnxEmbedder) -> None:
    assert onnx_embedder.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_length_sorted_batches_keep_input_order(
    onnx_embedder: OnnxEmbedder, sample_texts: list[str]
) -> None:
    texts = ["graph neural networks", sample_texts[0], "a", sample_texts[1], "quantum error codes"]
    one_by_one = np.vstack([onnx_embedder.embed([text]) for text in texts])
    batched = onnx_embedder.embed(texts, batch_size=2)
    similarity = batched @ one_by_one.T
    # int8 activations are quantized per batch, so rows differ a little with their batch mates.
    assert np.diag(similarity).min() > 0.98
    assert (similarity.argmax(axis=1) == np.arange(len(texts))).all()


@pytest.mark.slow
def test_progress_reports_texts_done_after_each_batch(
    onnx_embedder: OnnxEmbedder, sample_texts: list[str]
) -> None:
    calls: list[int] = []
    onnx_embedder.embed(sample_texts[:10], batch_size=4, progress=calls.append)
    assert calls == [4, 8, 10]


@pytest.mark.slow
def test_batches_hold_at_most_max_batch_tokens(cache_dir: Path) -> None:
    capped = OnnxEmbedder(cache_dir=cache_dir, max_batch_tokens=600)
    long_texts = [f"{word} " * 300 for word in ("alpha", "beta", "gamma", "delta", "epsilon")]
    calls: list[int] = []
    vectors = capped.embed([*long_texts, "short", "texts"], batch_size=4, progress=calls.append)
    # Two short texts first, then 256-token texts two at a time (3 x 256 > 600).
    assert calls == [2, 4, 6, 7]
    assert vectors.shape == (7, 384)


@pytest.mark.slow
def test_many_texts_are_tokenized_ahead_in_chunks_and_kept_in_order(cache_dir: Path) -> None:
    # fp32, so a row does not depend on its batch mates and chunked runs compare exactly.
    exact = OnnxEmbedder(cache_dir=cache_dir, precision="fp32")
    texts = [f"paper {i} on " + "sparse attention " * (i % 7) for i in range(1100)]
    calls: list[int] = []
    whole = exact.embed(texts, batch_size=64, progress=calls.append)  # three chunks of <= 512
    pieces = np.vstack([exact.embed(texts[i : i + 100]) for i in range(0, len(texts), 100)])
    np.testing.assert_allclose(whole, pieces, atol=1e-4)
    assert calls[-1] == len(texts)
    assert calls == sorted(calls)


@pytest.mark.slow
def test_texts_longer_than_the_model_limit_are_truncated(onnx_embedder: OnnxEmbedder) -> None:
    long_text = " ".join(["transformer"] * 2000)
    vectors = onnx_embedder.embed([long_text, long_text + " and then something else entirely"])
    assert np.isfinite(vectors).all()
    assert float(vectors[0] @ vectors[1]) > 0.999


@pytest.mark.slow
def test_int8_onnx_matches_torch_fp32(
    onnx_embedder: OnnxEmbedder, torch_embedder: TorchEmbedder, sample_texts: list[str]
) -> None:
    assert torch_embedder.revision.split("-")[0] == onnx_embedder.revision.split("-")[0]
    fast = onnx_embedder.embed(sample_texts)
    calls: list[int] = []
    reference = torch_embedder.embed(sample_texts, batch_size=4, progress=calls.append)
    assert calls == [64, 100]  # every 16 batches
    cosine = (fast * reference).sum(axis=1)
    assert cosine.mean() >= 0.99
    assert cosine.min() >= 0.97


@pytest.mark.slow
def test_fp32_onnx_equals_torch_fp32(
    cache_dir: Path, torch_embedder: TorchEmbedder, sample_texts: list[str]
) -> None:
    exact = OnnxEmbedder(cache_dir=cache_dir, precision="fp32").embed(sample_texts[:20])
    reference = torch_embedder.embed(sample_texts[:20])
    assert (exact * reference).sum(axis=1).min() > 0.9999


@pytest.mark.slow
def test_fp16_model_for_cuda_matches_fp32(cache_dir: Path, sample_texts: list[str]) -> None:
    # ONNX Runtime's CPU provider runs the fp16 graph too, so the CUDA model is checked here.
    texts = sample_texts[:8]
    fp16 = OnnxEmbedder(cache_dir=cache_dir, precision="fp16").embed(texts)
    fp32 = OnnxEmbedder(cache_dir=cache_dir, precision="fp32").embed(texts)
    assert fp16.dtype == np.float32
    assert (fp16 * fp32).sum(axis=1).min() > 0.999


@pytest.mark.slow
def test_query_about_diffusion_is_closer_to_a_diffusion_paper(
    onnx_embedder: OnnxEmbedder, sample_papers: list[dict[str, str]]
) -> None:
    by_id = {p["id"]: p for p in sample_papers}
    papers = [
        embedding_text(title=p["title"], abstract=p["abstract"])
        for p in (by_id[DIFFUSION_PAPER], by_id[NUMBER_THEORY_PAPER])
    ]
    query, diffusion, number_theory = onnx_embedder.embed(
        ["diffusion models for image generation", *papers]
    )
    assert float(query @ diffusion) > float(query @ number_theory) + 0.2


@pytest.mark.slow
def test_second_embedder_reuses_the_cached_model(cache_dir: Path) -> None:
    first = OnnxEmbedder(cache_dir=cache_dir)
    path = first.prepare()
    built = path.stat().st_mtime_ns
    second = OnnxEmbedder(cache_dir=cache_dir)
    assert second.prepare() == path
    second.embed(["cached"])
    assert path.stat().st_mtime_ns == built
    assert not list(cache_dir.glob(".*.tmp")), "no temporary file is left behind"


@pytest.mark.slow
def test_concurrent_prepares_build_one_whole_model(tmp_path: Path) -> None:
    embedders = [OnnxEmbedder(cache_dir=tmp_path) for _ in range(2)]
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda e=e: paths.append(e.prepare())) for e in embedders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert paths == [embedders[0].model_path] * 2
    assert [p.name for p in tmp_path.glob("*.onnx")] == [embedders[0].model_path.name]
    assert not list(tmp_path.glob(".*.tmp"))
    assert embedders[1].embed(["whole"]).shape == (1, 384)


@pytest.mark.slow
def test_onnx_embedder_never_imports_torch(cache_dir: Path) -> None:
    script = (
        "import sys; from pathlib import Path;"
        "from paperfeed.search.onnx_embedder import OnnxEmbedder;"
        f"OnnxEmbedder(cache_dir=Path({str(cache_dir)!r})).embed(['a query']);"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ})
