"""Tests of search/embedder.py: the text embedded for a paper, the default embedder, the fake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from paperfeed.search.embedder import (
    EMBEDDING_INPUT_VERSION,
    Embedder,
    default_embedder,
    embedding_text,
)
from paperfeed.search.onnx_embedder import OnnxEmbedder
from paperfeed.search.torch_embedder import TorchEmbedder
from tests.search.fakes import FakeEmbedder


def test_embedding_text_joins_title_and_abstract() -> None:
    assert embedding_text(title="Attention  Is\nAll", abstract="We propose.") == (
        "Attention Is All. We propose."
    )
    assert embedding_text(title="Is attention all?", abstract="No.") == "Is attention all? No."
    assert embedding_text(title="Only a title", abstract="  ") == "Only a title"
    assert EMBEDDING_INPUT_VERSION == 1


def test_int8_is_for_the_cpu_and_fp32_or_fp16_for_torch(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="int8"):
        OnnxEmbedder(cache_dir=tmp_path, device="cuda", precision="int8")
    with pytest.raises(ValueError, match="int8"):
        TorchEmbedder(precision="int8")


@pytest.mark.skipif(
    "CUDAExecutionProvider" in onnxruntime.get_available_providers(), reason="CUDA is here"
)
def test_cuda_without_provider_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="CUDA requested but not available"):
        default_embedder(cache_dir=tmp_path, device="cuda")


def test_fake_embedder_is_deterministic_and_normalised() -> None:
    fake: Embedder = FakeEmbedder(dim=32)
    calls: list[int] = []
    texts = ["diffusion models", "Diffusion models!", "number theory", ""]
    vectors = fake.embed(texts, batch_size=3, progress=calls.append)
    assert vectors.shape == (4, 32)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[1])
    np.testing.assert_array_equal(vectors, FakeEmbedder(dim=32).embed(texts))
    assert calls == [3, 4]
    assert fake.embed([]).shape == (0, 32)


def test_fake_embedder_can_fail() -> None:
    with pytest.raises(RuntimeError):
        FakeEmbedder(fail=True).embed(["anything"])
