"""Search latency on the full corpus: `search()` (query embedding included) and `similar_papers()`.

Run `make bench-search` after `PAPERFEED_DATA_DIR=data/bench/full paperfeed ingest snapshot
../shared/data/arxiv_daily/arxiv_daily.jsonl.gz && … paperfeed index` (the store this reads).
Baseline, same run: keyword-only search. It also writes `data/bench/vectors-95k.npy`, the real
vectors `bench/vectors.py` grows to 1M papers for the ANN recall, build time and memory table.

`--papers 1000000` runs the same rows on a store grown to that size in `data/bench/million/`
(built once, ~5 GB): the real papers plus SYNTHETIC copies of them, with new ids ("syn01:2603.…")
and the same text, whose vectors are the real vectors plus noise (cosine ~0.89 to the original,
as in bench/vectors.py) rather than re-embedded. The queries still come from the real papers.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy import select

from paperfeed.db import schema
from paperfeed.db.papers import iter_papers
from paperfeed.db.vectors import iter_vectors, store_vectors
from paperfeed.hub import Hub
from paperfeed.search.hybrid import search
from paperfeed.search.similar import similar_papers
from paperfeed.settings import Settings

STORE = Path(__file__).resolve().parents[1] / "data/bench/full"
GROWN = Path(__file__).resolve().parents[1] / "data/bench/million"
VECTORS = Path(__file__).resolve().parents[1] / "data/bench/vectors-95k.npy"


def grow(papers: int, *, seed: int = 11) -> Path:
    """Copy the full store into GROWN and add synthetic copies of its papers up to `papers`."""
    marker = GROWN / f"grown-{papers}"
    if marker.exists():
        return GROWN
    if GROWN.exists():
        shutil.rmtree(GROWN)
    GROWN.mkdir(parents=True)
    start = time.perf_counter()
    with (
        sqlite3.connect(STORE / "paperfeed.db") as source,
        sqlite3.connect(GROWN / "paperfeed.db") as target,
    ):
        source.backup(target)  # a consistent copy, WAL included
    shutil.copytree(STORE / "models", GROWN / "models", dirs_exist_ok=True)
    hub = Hub.from_settings(Settings(data_dir=GROWN))
    assert hub.embedder is not None
    contract = hub.search_index.contract
    with hub.db.read() as conn:
        real = [(b_ids, b) for b_ids, b in iter_vectors(conn, contract=contract)]
    ids = [pid for b_ids, _ in real for pid in b_ids]
    matrix = np.concatenate([b for _, b in real])
    copies = -(-papers // len(ids)) - 1
    rng = np.random.default_rng(seed)
    columns = [c for c in schema.papers.c if c.name != "paper_id"]
    for copy in range(1, copies + 1):
        count = min(len(ids), papers - len(ids) * copy)
        if count <= 0:
            break
        prefix = f"syn{copy:02d}:"
        chosen = ids[:count]
        vec = schema.paper_vectors
        real_ids = select(vec.c.paper_id).where(
            vec.c.model_id == contract.model_id,
            vec.c.revision == contract.revision,
            vec.c.input_version == contract.input_version,
        )
        with hub.db.write() as conn:
            conn.execute(
                schema.papers.insert().from_select(
                    ["paper_id", *(c.name for c in columns)],
                    select(sa.literal(prefix) + schema.papers.c.paper_id, *columns).where(
                        schema.papers.c.paper_id.in_(real_ids),
                        schema.papers.c.status == "active",
                        schema.papers.c.paper_id <= chosen[-1],
                        ~schema.papers.c.paper_id.startswith("syn"),
                    ),
                )
            )
            noisy = matrix[:count] + rng.standard_normal(
                (count, matrix.shape[1]), dtype=np.float32
            ) * (0.5 / np.sqrt(matrix.shape[1]))
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            for at in range(0, count, 20_000):
                part = slice(at, min(count, at + 20_000))
                store_vectors(
                    conn,
                    contract=contract,
                    paper_ids=[prefix + pid for pid in chosen[part]],
                    text_hashes=["synthetic"] * len(chosen[part]),
                    vectors=noisy[part],
                )
        print(
            f"copy {copy}: {count:,} papers, {time.perf_counter() - start:.0f} s", file=sys.stderr
        )
    hub.close()
    marker.touch()
    return GROWN


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


def interleaved(fns: list[Callable[[str], object]], inputs: list[str]) -> list[np.ndarray]:
    """Time several functions on each input in turn, rotating who goes first.

    A change of machine load during the run (other jobs share the cores) then weighs on all alike.
    """
    times: list[list[float]] = [[] for _ in fns]
    for n, item in enumerate(inputs):
        for i in ((n + j) % len(fns) for j in range(len(fns))):
            start = time.perf_counter()
            fns[i](item)
            times[i].append((time.perf_counter() - start) * 1000)
    return [np.array(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1_000, help="queries per row")
    parser.add_argument(
        "--papers", type=int, default=0, help="grow the store to this many papers (synthetic)"
    )
    args = parser.parse_args()
    if not (STORE / "paperfeed.db").is_file():
        sys.exit(f"no store in {STORE}: see this script's docstring")
    real = Hub.from_settings(Settings(data_dir=STORE))
    qs = queries(real, args.n)
    if args.papers:
        real.close()
        start = time.perf_counter()
        hub = Hub.from_settings(Settings(data_dir=grow(args.papers)))
        print(f"store grown in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    else:
        hub = real
    index = hub.search_index
    start = time.perf_counter()
    index.ensure_fresh(force=True)
    load_s = time.perf_counter() - start
    assert index.vectors is not None and hub.embedder is not None
    if args.papers:
        start = time.perf_counter()
        index.save()  # the next run maps the saved graph instead of building it
        print(f"vector index saved in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        ids = list(index.facets)
    else:
        with hub.db.read() as conn:
            ids, parts = [], []
            for batch_ids, batch in iter_vectors(conn, contract=index.contract):
                ids.extend(batch_ids)
                parts.append(batch)
        np.save(VECTORS, np.concatenate(parts))
    search(index, hub.embedder, "warm up the model", limit=10)
    keyword_only, convex, rank_fused = interleaved(
        [
            lambda q: search(index, None, q, limit=10),
            lambda q: search(index, hub.embedder, q, limit=10, embed_timeout_s=60),
            lambda q: search(index, hub.embedder, q, limit=10, embed_timeout_s=60, fusion="rrf"),
        ],
        qs,
    )
    rows = [
        ("keyword only (baseline)", keyword_only),
        ("search() hybrid, top 10", convex),
        ("search() hybrid, RRF fusion", rank_fused),
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
    synthetic = " (synthetic beyond the real 94,905)" if args.papers else ""
    print(
        f"{len(index.vectors):,} papers with vectors{synthetic}, {index.vectors.kind} vector "
        f"index; indexes loaded, built and checked in {load_s:.1f} s; {args.n:,} queries per "
        f"row; peak RSS {rss:,.0f} MB"
    )
    print(f"{'what':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 vs baseline':>17}")
    base = float(np.percentile(rows[0][1], 50))
    for name, lat in rows:
        p50, p95, p99 = (float(np.percentile(lat, q)) for q in (50, 95, 99))
        print(f"{name:<28}{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{p50 / base:>16.2f}x")
    if args.papers:
        print("target at 1M: search() p95 <= 40 ms")
    else:
        print("target at 95k: search() p50 <= 10 ms, p95 <= 25 ms")
        print(f"wrote {VECTORS} for bench/vectors.py (1M: recall@10, build time, memory)")
    hub.close()


if __name__ == "__main__":
    main()
