"""Search latency on the full corpus: `search()` (query embedding included) and `similar_papers()`.

Run `make bench-search` after `PAPERFEED_DATA_DIR=data/bench/full paperfeed ingest snapshot
../shared/data/arxiv_daily/arxiv_daily.jsonl.gz && … paperfeed index` (the store this reads).
Baseline, same run: keyword-only search. It also writes `data/bench/vectors-95k.npy`, the real
vectors `bench/vectors.py` grows to 1M papers for the ANN recall, build time and memory table.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from paperfeed.db.papers import iter_papers
from paperfeed.db.vectors import iter_vectors
from paperfeed.hub import Hub
from paperfeed.search.hybrid import search
from paperfeed.search.similar import similar_papers
from paperfeed.settings import Settings

STORE = Path(__file__).resolve().parents[1] / "data/bench/full"
VECTORS = Path(__file__).resolve().parents[1] / "data/bench/vectors-95k.npy"


def queries(hub: Hub, n: int, *, seed: int = 7) -> list[str]:
    """Realistic queries: 50% real titles, 30% phrases cut from abstracts, 20% topic phrases."""
    rng = random.Random(seed)
    with hub.db.read() as conn:
        papers = [p for batch in iter_papers(conn, include_hidden=False) for p in batch]
    picked = rng.sample(papers, n)
    out = []
    for i, paper in enumerate(picked):
        words = re.findall(r"[A-Za-z][A-Za-z-]+", paper.abstract)
        if i % 10 < 5 or len(words) < 8:
            out.append(paper.title)
        elif i % 10 < 8:
            start = rng.randrange(0, len(words) - 6)
            out.append(" ".join(words[start : start + rng.randint(3, 6)]))
        else:
            long_words = [w.lower() for w in words if len(w) > 6]
            out.append(" ".join(rng.sample(long_words, min(2, len(long_words)))))
    return out


def timed(fn: Callable[[str], object], inputs: list[str]) -> np.ndarray:
    times = []
    for item in inputs:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    return np.array(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1_000, help="queries per row")
    args = parser.parse_args()
    if not (STORE / "paperfeed.db").is_file():
        sys.exit(f"no store in {STORE}: see this script's docstring")
    hub = Hub.from_settings(Settings(data_dir=STORE))
    index = hub.search_index
    start = time.perf_counter()
    index.ensure_fresh(force=True)
    load_s = time.perf_counter() - start
    assert index.vectors is not None and hub.embedder is not None
    with hub.db.read() as conn:
        ids, parts = [], []
        for batch_ids, batch in iter_vectors(conn, contract=index.contract):
            ids.extend(batch_ids)
            parts.append(batch)
    np.save(VECTORS, np.concatenate(parts))
    qs = queries(hub, args.n)
    search(index, hub.embedder, "warm up the model", limit=10)
    rows = [
        ("keyword only (baseline)", timed(lambda q: search(index, None, q, limit=10), qs)),
        (
            "search() hybrid, top 10",
            timed(lambda q: search(index, hub.embedder, q, limit=10, embed_timeout_s=60), qs),
        ),
        (
            "search() hybrid, filtered",
            timed(
                lambda q: search(
                    index,
                    hub.embedder,
                    q,
                    limit=10,
                    categories=["cs.CV", "cs.CL"],
                    embed_timeout_s=60,
                ),
                qs,
            ),
        ),
        (
            "similar_papers(), top 10",
            timed(
                lambda p: similar_papers(index, p, limit=10), random.Random(3).sample(ids, args.n)
            ),
        ),
    ]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(ids):,} papers with vectors, {index.vectors.kind} vector index; "
        f"indexes loaded and checked in {load_s:.1f} s; {args.n:,} queries per row; "
        f"peak RSS {rss:,.0f} MB"
    )
    print(f"{'what':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 vs baseline':>17}")
    base = float(np.percentile(rows[0][1], 50))
    for name, lat in rows:
        p50, p95, p99 = (float(np.percentile(lat, q)) for q in (50, 95, 99))
        print(f"{name:<28}{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{p50 / base:>16.2f}x")
    print("target at 95k: search() p50 <= 10 ms, p95 <= 25 ms")
    print(f"wrote {VECTORS} for bench/vectors.py (1M: recall@10, build time, memory)")
    hub.close()


if __name__ == "__main__":
    main()
