"""Embedder benchmark: OnnxEmbedder int8 against the sentence-transformers fp32 baseline.

Run with `.venv/bin/python bench/embed.py [--limit N]`. Each backend lives in its own process (its
own load time, imports and peak RSS); they take turns on slices of the same abstracts, so a busy
machine slows both alike.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1] / "src/paperfeed/data/arxiv_daily_sample.jsonl.gz"
QUERIES = [
    "diffusion models for image generation",
    "graph neural networks",
    "quantum error correction",
    "retrieval augmented generation",
    "elliptic curves over function fields",
]
TARGET_RATIO = 3.0
TARGET_COSINE = 0.99
NAMES = {"torch": "TorchEmbedder fp32 (baseline)", "onnx": "OnnxEmbedder int8"}


def texts(limit: int) -> list[str]:
    """Title and abstract of the first `limit` papers of the bundled sample."""
    from paperfeed.search.embedder import embedding_text

    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        papers = [json.loads(line) for line in f]
    return [embedding_text(title=p["title"], abstract=p["abstract"]) for p in papers[:limit]]


def worker(backend: str, *, cache_dir: Path, batch_size: int) -> None:
    """Serve one backend: answer `load`, `queries`, `embed START STOP` and `save PATH` lines."""
    reply: dict[str, Any] = {}
    corpus: list[str] = []
    vectors: list[np.ndarray[Any, Any]] = []
    for line in sys.stdin:
        command, *rest = line.split()
        began = time.perf_counter()
        if command == "load":
            corpus = texts(int(rest[0]))
            began = time.perf_counter()
            from paperfeed.search.onnx_embedder import OnnxEmbedder
            from paperfeed.search.torch_embedder import TorchEmbedder

            embedder = TorchEmbedder() if backend == "torch" else OnnxEmbedder(cache_dir=cache_dir)
            embedder.embed(["warm up"])
            reply = {"seconds": time.perf_counter() - began, "revision": embedder.revision}
        elif command == "queries":
            latencies = []
            for round_ in range(10):
                for query in QUERIES:
                    began = time.perf_counter()
                    embedder.embed([f"{query} {round_}"])
                    latencies.append(time.perf_counter() - began)
            reply = {"p50_ms": statistics.median(latencies) * 1000}
        elif command == "embed":
            start, stop = int(rest[0]), int(rest[1])
            vectors.append(embedder.embed(corpus[start:stop], batch_size=batch_size))
            reply = {"seconds": time.perf_counter() - began}
        elif command == "save":
            np.save(rest[0], np.vstack(vectors))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            reply = {"peak_rss_mb": peak, "torch_imported": "torch" in sys.modules}
        print(json.dumps(reply), flush=True)


class Worker:
    """A backend's process, spoken to one line at a time."""

    def __init__(self, backend: str, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--worker", backend]
        command += ["--cache-dir", str(args.cache_dir), "--batch-size", str(args.batch_size)]
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TQDM_DISABLE": "1",
        }
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def ask(self, line: str) -> dict[str, Any]:
        """Send one command and return the worker's answer."""
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(line + "\n")
        stdin.flush()
        answer: dict[str, Any] = json.loads(stdout.readline())
        return answer

    def close(self) -> None:
        """End the worker."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def main() -> None:
    """Parse arguments, run both backends in turns, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2027, help="papers of the sample to embed")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--slices", type=int, default=8, help="turns each backend takes")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX model cache")
    parser.add_argument("--worker", choices=sorted(NAMES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, cache_dir=args.cache_dir, batch_size=args.batch_size)
        return

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if args.cache_dir is None:
            args.cache_dir = work / "models"
        # Start the workers first: Linux hands a child its parent's peak RSS at fork time, and
        # building the model below takes ~500 MB.
        workers = {name: Worker(name, args) for name in NAMES}
        from paperfeed.search.onnx_embedder import OnnxEmbedder

        began = time.perf_counter()
        OnnxEmbedder(cache_dir=args.cache_dir).prepare()
        export_s = time.perf_counter() - began
        load_before = os.getloadavg()[0]
        rows: dict[str, dict[str, Any]] = {}
        for name, process in workers.items():
            loaded = process.ask(f"load {args.limit}")
            rows[name] = {"load_s": loaded["seconds"], "revision": loaded["revision"]}
            rows[name]["query_p50_ms"] = process.ask("queries")["p50_ms"]
            rows[name]["seconds"] = 0.0
        bounds = np.linspace(0, args.limit, args.slices + 1).astype(int)
        for start, stop in itertools.pairwise(bounds):
            for name, process in workers.items():
                rows[name]["seconds"] += process.ask(f"embed {start} {stop}")["seconds"]
        for name, process in workers.items():
            rows[name] |= process.ask(f"save {work / name}.npy")
            process.close()
        load_after = os.getloadavg()[0]
        baseline, fast = np.load(work / "torch.npy"), np.load(work / "onnx.npy")
    cosine = (baseline * fast).sum(axis=1)

    print(
        f"Embedding {args.limit} abstracts (title + abstract) of the bundled sample, "
        f"batch size {args.batch_size}, {os.cpu_count()} CPUs, load average "
        f"{load_before:.1f} before / {load_after:.1f} after"
    )
    print(f"ONNX int8 model built and cached once in {export_s:.1f} s (not in the load time)")
    header = f"{'backend':<30} {'abstracts/s':>11} {'ratio':>6} {'load s':>7} {'query p50 ms':>12}"
    header += f" {'peak RSS MB':>11}  torch imported"
    print(header)
    print("-" * len(header))
    for row in rows.values():
        row["rate"] = args.limit / row["seconds"]
    for name, row in rows.items():
        print(
            f"{NAMES[name]:<30} {row['rate']:>11.1f} {row['rate'] / rows['torch']['rate']:>5.2f}x "
            f"{row['load_s']:>7.2f} {row['query_p50_ms']:>12.2f} {row['peak_rss_mb']:>11.0f}  "
            f"{'yes' if row['torch_imported'] else 'no'}"
        )
    ratio = rows["onnx"]["rate"] / rows["torch"]["rate"]
    print(
        f"cosine int8 vs fp32: mean {cosine.mean():.4f}, min {cosine.min():.4f} "
        f"(target mean >= {TARGET_COSINE}); speed-up {ratio:.2f}x (target >= {TARGET_RATIO}x)"
    )
    print(f"revisions: torch {rows['torch']['revision']}, onnx {rows['onnx']['revision']}")


if __name__ == "__main__":
    main()
