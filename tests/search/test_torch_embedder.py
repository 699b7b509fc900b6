"""Tests of search/torch_embedder.py: the CUDA pipeline, run on the CPU, against encode() (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from paperfeed.search.torch_embedder import TorchEmbedder


@pytest.mark.slow
def test_pipelined_torch_path_of_cuda_equals_encode(
    torch_embedder: TorchEmbedder, sample_texts: list[str]
) -> None:
    # The CUDA path (tokenizer a chunk ahead, length-sorted batches, pooling in torch) run on
    # the CPU in fp32 gives encode()'s vectors, in input order.
    pipelined = TorchEmbedder(pipeline=True)
    calls: list[int] = []
    vectors = pipelined.embed(sample_texts[:40], batch_size=2, progress=calls.append)
    reference = torch_embedder.embed(sample_texts[:40])
    assert calls == [40]  # one chunk (of up to 32 batches)
    assert (vectors * reference).sum(axis=1).min() > 0.9999
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # With worker processes tokenizing (as on a GPU machine): chunks of 16, back in order.
    processes = TorchEmbedder(pipeline=True, tokenizer_processes=2)
    calls.clear()
    spread = processes.embed(sample_texts[:40], batch_size=2, progress=calls.append)
    assert calls == [16, 32, 40]
    assert (spread * reference).sum(axis=1).min() > 0.9999
