"""GPU embedding benchmark: the daily corpus embedded on CUDA in fp16, end to end.

Run on a machine with an NVIDIA GPU: `.venv/bin/python bench/embed_gpu.py`. It times, in one
run and over the same texts:

- the tokenizer alone (the rate no pipeline can beat without a faster tokenizer),
- sentence-transformers `encode()` in fp16 (a plain padded-batch loop: the baseline),
- `TorchEmbedder(device="cuda")`: tokenization on worker processes (or, for comparison, on one
  thread), batches cut on the GPU from one pinned copy per chunk, pooling on the GPU (what
  `paperfeed index --device cuda` uses without onnxruntime-gpu),
- `OnnxEmbedder(device="cuda")` fp16, where onnxruntime-gpu is installed.

Rates are abstracts/s end to end, tokenizing included; loading the texts is not timed.
`--texts` reads tab-separated `title<TAB>abstract` lines (`.xz`, `.gz` or plain), for machines
that have the weights and texts but not the corpus file; `--model-dir` points at a copy of the
packaged sentence-transformers folder; `--reference` checks the vectors of the first rows against
fp32 vectors computed elsewhere (`--save-reference` writes them on the CPU).
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
TARGET_RATE = 15_000


def _open(path: Path) -> Any:
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def load_texts(corpus: Path, tsv: list[Path]) -> list[str]:
    """The embedding input of every paper: from the JSONL corpus, or from `title<TAB>abstract`."""
    from paperfeed.search.embedder import embedding_text

    texts: list[str] = []
    if tsv:
        for path in tsv:
            with _open(path) as f:
                for line in f:
                    title, _, abstract = line.rstrip("\n").partition("\t")
                    texts.append(embedding_text(title=title, abstract=abstract))
        return texts
    with _open(corpus) as f:
        for line in f:
            paper = json.loads(line)
            texts.append(embedding_text(title=paper["title"], abstract=paper["abstract"]))
    return texts


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    import torch

    sync = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    sync()
    began = time.perf_counter()
    result = run()
    sync()
    return result, time.perf_counter() - began


def main() -> None:
    """Embed the corpus each way on the GPU and print a table of rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT, help="gzip JSONL corpus")
    parser.add_argument("--texts", type=Path, nargs="*", default=[], help="title<TAB>abstract")
    parser.add_argument("--model-dir", type=Path, default=None, help="sentence-transformers dir")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="embed only the first N (0: all)")
    parser.add_argument("--reference", type=Path, default=None, help=".npy of fp32 vectors")
    parser.add_argument("--save-reference", type=Path, default=None, help="write fp32 CPU .npy")
    parser.add_argument("--reference-rows", type=int, default=256)
    parser.add_argument("--device", default="cuda", help="cpu: a smoke test of this script")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np

    from paperfeed.search.model_files import ModelFiles
    from paperfeed.search.onnx_embedder import OnnxEmbedder
    from paperfeed.search.tokenizer_pool import Tokens, cpu_count, sorted_batches
    from paperfeed.search.torch_embedder import TorchEmbedder

    texts = load_texts(args.corpus, args.texts)
    texts = texts[: args.limit] if args.limit else texts

    if args.save_reference:
        reference = TorchEmbedder(model_dir=args.model_dir).embed(texts[: args.reference_rows])
        np.save(args.save_reference, reference)
        print(f"saved fp32 CPU vectors of {len(reference)} texts to {args.save_reference}")
        return

    import onnxruntime
    import torch

    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU (smoke test)"
    print(f"{name}; torch {torch.__version__}; {os.cpu_count()} CPUs; {platform.python_version()}")
    print(f"{len(texts):,} abstracts, batch size {args.batch_size}")

    rows: list[tuple[str, float, str]] = []
    tokens = Tokens(ModelFiles.packaged(args.model_dir))
    tokens.tokenize(texts[:256], 0)  # load the tokenizer
    chunk, seconds = _timed(lambda: tokens.tokenize(texts, 0))
    rows.append(("tokenizer alone, 1 process (all cores)", seconds, "part"))
    workers = max(cpu_count() - 2, 1)
    list(tokens.process_chunks(texts[:4096], size=2048, workers=workers))  # start the workers
    _, seconds = _timed(lambda: list(tokens.process_chunks(texts, size=2048, workers=workers)))
    rows.append((f"tokenizer alone, {workers} processes", seconds, "part"))

    plain = TorchEmbedder(device=args.device, model_dir=args.model_dir, pipeline=False)
    plain.embed(texts[: args.batch_size * 4], batch_size=args.batch_size)  # warm up
    _, seconds = _timed(lambda: plain.embed(texts, batch_size=args.batch_size))
    rows.append(("sentence-transformers encode() fp16", seconds, "baseline"))

    fast = TorchEmbedder(device=args.device, model_dir=args.model_dir, pipeline=True)
    fast.embed(texts[: args.batch_size * 4], batch_size=args.batch_size)  # warm up
    vectors, seconds = _timed(lambda: fast.embed(texts, batch_size=args.batch_size))
    rows.append(("TorchEmbedder cuda fp16, tokenizer thread", seconds, "paperfeed"))
    spread = TorchEmbedder(
        device=args.device, model_dir=args.model_dir, pipeline=True, tokenizer_processes=workers
    )
    spread.embed(texts[: args.batch_size * 64], batch_size=args.batch_size)  # start the workers
    _, seconds = _timed(lambda: spread.embed(texts, batch_size=args.batch_size))
    rows.append((f"TorchEmbedder cuda fp16, {workers} tokenizer processes", seconds, "paperfeed"))

    encoder = fast._model[0].auto_model
    lengths = np.fromiter((len(ids) for ids in chunk.ids), dtype=np.int64)

    def forward_only() -> None:
        with torch.inference_mode():
            for batch in sorted_batches(lengths, batch_size=args.batch_size, max_tokens=None):
                ids, mask = tokens.padded(chunk, batch, lengths)
                ids_t = torch.from_numpy(ids).to(args.device).long()
                encoder(input_ids=ids_t, attention_mask=torch.from_numpy(mask).to(args.device))

    forward_only()
    _, seconds = _timed(forward_only)
    rows.append(("forward passes alone (pre-tokenized)", seconds, "part"))
    checks = [f"unit rows: {bool(np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3))}"]
    if args.reference is not None:
        reference = np.load(args.reference)[: len(vectors)]
        cosine = (vectors[: len(reference)] * reference).sum(axis=1)
        checks.append(
            f"cosine to fp32 CPU vectors over {len(reference)} texts: "
            f"mean {cosine.mean():.5f}, min {cosine.min():.5f}"
        )

    if args.device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        with tempfile.TemporaryDirectory() as scratch:
            onnx = OnnxEmbedder(cache_dir=Path(scratch), device="cuda", model_dir=args.model_dir)
            onnx.embed(texts[: args.batch_size * 4], batch_size=args.batch_size)
            _, seconds = _timed(lambda: onnx.embed(texts, batch_size=args.batch_size))
            rows.append(("OnnxEmbedder cuda fp16", seconds, "paperfeed"))
    else:
        checks.append("OnnxEmbedder cuda: not run (onnxruntime-gpu is not installed here)")

    baseline = next(s for label, s, role in rows if role == "baseline")
    print()
    print(f"| {'way':<48} | {'seconds':>7} | {'abstracts/s':>11} | {'vs baseline':>11} |")
    print(f"| {'-' * 48} | {'-' * 7}: | {'-' * 11}: | {'-' * 11}: |")
    for label, seconds, _role in rows:
        rate = len(texts) / seconds
        print(f"| {label:<48} | {seconds:7.2f} | {rate:11,.0f} | {baseline / seconds:10.2f}x |")
    print()
    print(f"token ids: {int(lengths.sum()):,} ({lengths.mean():.0f} per abstract)")
    for line in checks:
        print(line)
    best = max(len(texts) / s for label, s, role in rows if role == "paperfeed")
    verdict = "met" if best >= TARGET_RATE else "MISSED"
    print(f"target >= {TARGET_RATE:,} abstracts/s end to end: {verdict} ({best:,.0f}/s)")


if __name__ == "__main__":
    main()
