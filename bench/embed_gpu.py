"""GPU embedding benchmark: the full daily corpus through OnnxEmbedder fp16 on CUDA, end to end.

For a machine with an NVIDIA GPU and `onnxruntime-gpu`: `.venv/bin/python bench/embed_gpu.py`.
Tokenization runs a chunk ahead on a thread, overlapping the GPU's forward passes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
TARGET_RATE = 15_000


def main() -> None:
    """Read the corpus, embed it on the GPU, and print the rate."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="gzip JSONL corpus")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="embed only the first N (0: all)")
    parser.add_argument("--backend", choices=["onnx", "torch"], default="onnx")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX model cache")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np

    from paperfeed.search.embedder import (
        Embedder,
        OnnxEmbedder,
        TorchEmbedder,
        embedding_text,
    )

    with gzip.open(args.path, "rt", encoding="utf-8") as f:
        papers = [json.loads(line) for line in f]
    papers = papers[: args.limit] if args.limit else papers
    texts = [embedding_text(title=p["title"], abstract=p["abstract"]) for p in papers]

    with tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        embedder: Embedder = (
            TorchEmbedder(device="cuda")
            if args.backend == "torch"
            else OnnxEmbedder(cache_dir=args.cache_dir or Path(scratch), device="cuda")
        )
        embedder.embed(texts[: args.batch_size * 4], batch_size=args.batch_size)  # warm up
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        vectors = embedder.embed(texts, batch_size=args.batch_size)
        seconds = time.perf_counter() - began

    norms = np.linalg.norm(vectors, axis=1)
    rate = len(texts) / seconds
    print(f"{embedder.model_id} {embedder.revision} on CUDA, batch size {args.batch_size}")
    print(f"load + warm-up {load_s:.1f} s; unit rows: {bool(np.allclose(norms, 1, atol=1e-3))}")
    verdict = "met" if rate >= TARGET_RATE else "MISSED"
    print(
        f"{len(texts)} abstracts in {seconds:.2f} s = {rate:,.0f} abstracts/s end to end, "
        f"tokenizing included (target >= {TARGET_RATE:,}/s: {verdict})"
    )


if __name__ == "__main__":
    main()
