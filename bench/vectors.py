"""Vector index benchmark: exact (the baseline, same run) against HNSW at 100k and 1M papers.

Run with `.venv/bin/python bench/vectors.py` (12-25 minutes on 2 cores, mostly the 1M HNSW build).
Uses the real vectors in `data/bench/vectors-95k.npy` when present (grown to 1M by noisy copies),
else synthetic clustered ones.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from paperfeed.search.hnsw_vectors import HnswConfig
from paperfeed.search.vectors import VectorIndex

REAL = Path(__file__).resolve().parents[1] / "data/bench/vectors-95k.npy"
DIM = 384
TARGET_RECALL = 0.98
TARGET_MB = 1024


def rss_mb() -> float:
    """Resident set size of this process now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unit(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.astype(np.float32, copy=False)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def clustered(n: int, *, seed: int, clusters: int = 2_000) -> np.ndarray:
    """Gaussian clouds around centres that share a common direction (mean cosine ~0.27)."""
    centres = np.random.default_rng(7).standard_normal((clusters, DIM), dtype=np.float32)
    centres = unit(centres + np.random.default_rng(8).standard_normal(DIM, dtype=np.float32))
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        part = min(100_000, n - start)
        points = centres[rng.integers(0, clusters, part)]
        points += rng.standard_normal((part, DIM), dtype=np.float32) * 0.05
        out[start : start + part] = unit(points)
    return out


def grown(real: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """The real vectors, then noisy copies of them (cosine ~0.89 to the original) up to n."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    out[: min(n, len(real))] = real[:n]
    for start in range(len(real), n, 100_000):
        part = min(100_000, n - start)
        copies = real[rng.integers(0, len(real), part)]
        copies += rng.standard_normal(copies.shape, dtype=np.float32) * (0.5 / np.sqrt(DIM))
        out[start : start + part] = unit(copies)
    return out


def timed(
    search: Callable[[np.ndarray], list[tuple[str, float]]], queries: np.ndarray
) -> tuple[list[list[str]], np.ndarray]:
    """Run each query alone; return the ids found and the latencies in ms."""
    found, latencies = [], []
    for query in queries:
        start = time.perf_counter()
        hits = search(query)
        latencies.append((time.perf_counter() - start) * 1000)
        found.append([pid for pid, _ in hits])
    return found, np.array(latencies)


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True)) / sum(
        len(t) for t in truth
    )


def row(label: str, lat: np.ndarray, base_p50: float, **cols: str) -> dict[str, str]:
    p50 = float(np.percentile(lat, 50))
    return {
        "run": label,
        "p50 ms": f"{p50:.2f}",
        "p95 ms": f"{np.percentile(lat, 95):.2f}",
        "vs exact": f"{base_p50 / p50:.0f}x" if label != "exact (baseline)" else "1x",
        **cols,
    }


def bench_exact(
    ids: list[str], vectors: np.ndarray, queries: np.ndarray, selective: set[str]
) -> tuple[list[dict[str, str]], list[list[str]], float]:
    """The baseline: exact search; its results are the truth recall is measured against."""
    exact = VectorIndex.build(ids, vectors, exact_threshold=len(ids))
    truth, lat = timed(lambda q: exact.search(q, k=10), queries)
    base_p50 = float(np.percentile(lat, 50))
    mb = f"{exact.nbytes / 2**20:.0f}"
    rows = [row("exact (baseline)", lat, base_p50, recall="1.000", MB=mb)]
    _, lat = timed(lambda q: exact.search(q, k=10, allowed=selective.__contains__), queries[:50])
    rows.append(row("exact, filter 1k ids (allowed=)", lat, base_p50))
    return rows, truth, base_p50


def bench_hnsw(
    ids: list[str],
    vectors: np.ndarray,
    queries: np.ndarray,
    *,
    efs: list[int],
    truth: list[list[str]],
    base_p50: float,
    selective: set[str],
    folder: Path,
) -> list[dict[str, str]]:
    """Build HNSW with the default parameters, sweep ef, filter, then save it to `folder`."""
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    hnsw = VectorIndex.build(ids, vectors, exact_threshold=0)
    build_s = time.perf_counter() - start
    gc.collect()
    grown_mb = rss_mb() - before
    cfg = HnswConfig()
    rows = []
    for ef in efs:
        hnsw.set_expansion_search(ef)
        found, lat = timed(lambda q: hnsw.search(q, k=10), queries)
        rows.append(
            row(
                f"hnsw {cfg.dtype} M={cfg.connectivity} efa={cfg.expansion_add} ef={ef}",
                lat,
                base_p50,
                recall=f"{recall(found, truth):.3f}",
                MB=f"{hnsw.nbytes / 2**20:.0f} (RSS +{grown_mb:.0f})",
                build=f"{build_s:.0f} s",
            )
        )
    hnsw.set_expansion_search(cfg.expansion_search)
    _, lat = timed(lambda q: hnsw.search(q, k=10, allowed=selective.__contains__), queries[:50])
    rows.append(row("hnsw, filter 1k ids (allowed=)", lat, base_p50))
    _, lat = timed(lambda q: hnsw.search(q, k=10, mask_ids=selective), queries[:50])
    rows.append(row("hnsw, filter 1k ids (mask_ids=)", lat, base_p50))
    tenth = set(ids[::10])
    _, lat = timed(lambda q: hnsw.search(q, k=10, allowed=tenth.__contains__), queries[:100])
    rows.append(row("hnsw, filter 10% (allowed=)", lat, base_p50))
    _, lat = timed(lambda q: hnsw.search(q, k=10, mask_ids=tenth), queries[:100])
    rows.append(row("hnsw, filter 10% (mask_ids=)", lat, base_p50))
    start = time.perf_counter()
    hnsw.save(folder, state={"count": len(ids)})
    rows.append({"run": "hnsw saved", "build": f"save {time.perf_counter() - start:.1f} s"})
    return rows


def bench_loaded(
    folder: Path, queries: np.ndarray, *, truth: list[list[str]], base_p50: float
) -> dict[str, str]:
    """Load the saved HNSW index memory-mapped and search it."""
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    loaded = VectorIndex.load(folder)
    load_s = time.perf_counter() - start
    assert loaded is not None
    index = loaded[0]
    found, lat = timed(lambda q: index.search(q, k=10), queries)
    return row(
        "hnsw loaded (memory-mapped)",
        lat,
        base_p50,
        recall=f"{recall(found, truth):.3f}",
        MB=f"RSS +{rss_mb() - before:.0f} (file-backed)",
        build=f"load {load_s:.1f} s (CRC check)",
    )


def bench_size(
    n: int, base: np.ndarray, queries: np.ndarray, efs: list[int]
) -> list[dict[str, str]]:
    ids = [f"p{i:07d}" for i in range(n)]
    vectors = base[:n]
    selective = set(ids[:: max(1, n // 1_000)])  # ~1,000 allowed papers: 0.1% at 1M
    rows, truth, base_p50 = bench_exact(ids, vectors, queries, selective)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_hnsw(
            ids,
            vectors,
            queries,
            efs=efs,
            truth=truth,
            base_p50=base_p50,
            selective=selective,
            folder=Path(tmp),
        )
        rows.append(bench_loaded(Path(tmp), queries, truth=truth, base_p50=base_p50))
    return rows


def print_table(title: str, rows: list[dict[str, str]]) -> None:
    columns = ["run", "p50 ms", "p95 ms", "vs exact", "recall", "MB", "build"]
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    print(f"\n{title}")
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(r.get(c, "").ljust(widths[c]) for c in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="index sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=500, help="queries for recall and latency")
    parser.add_argument("--ef", default="128,256,512,1024", help="HNSW expansion_search values")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    efs = [int(e) for e in args.ef.split(",")]
    if REAL.exists():
        real = unit(np.load(REAL).astype(np.float32))
        queries, real = real[: args.queries], real[args.queries :]  # held out of the index
        base = grown(real, max(sizes), seed=1)
        source = (
            f"real vectors ({len(real):,} from {REAL.name}, queries held out), grown to "
            f"{max(sizes):,} by noisy copies: SYNTHETIC beyond the first {len(real):,}"
        )
    else:
        base = clustered(max(sizes), seed=1)
        queries = clustered(args.queries, seed=2)
        source = f"SYNTHETIC clustered vectors ({REAL} not found)"
    print(f"vectors: {source}; {DIM} dims; {len(queries)} queries, k=10, one at a time")
    print(f"targets at 1M: recall@10 >= {TARGET_RECALL}, index <= {TARGET_MB} MB, p95 << 40 ms")
    for n in sizes:
        print_table(f"N = {n:,}", bench_size(n, base, queries, efs))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average (1, 5, 15 min) after this size: {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
