"""Search latency on the full corpus: `search()` (query embedding included) and `similar_papers()`.

Run `make bench-search` after `PAPERFEED_DATA_DIR=data/bench/full paperfeed ingest snapshot
../shared/data/arxiv_daily/arxiv_daily.jsonl.gz && … paperfeed index` (the store this reads).
Baseline, same run: keyword-only search. It also writes `data/bench/vectors-95k.npy`, the real
vectors `bench/vectors.py` grows to 1M papers for the ANN recall, build time and memory table.

`--papers 1000000` runs the same rows on a store grown to that size in `data/bench/million/`
(built once, ~5 GB): the real papers plus SYNTHETIC copies of them, with new ids ("syn01:2603.…")
and the same text, whose vectors are the real vectors plus noise (cosine ~0.89 to the original,
as in bench/vectors.py) rather than re-embedded. The queries still come from the real papers.

`similar_papers()` is timed as it is, as it was before issue #15 (`SIMILAR_BEFORE`) and as
plain cosine, interleaved on the same papers, `--repeats` times, with the ratio to the pre-#15
form (the issue allows 10% more). `--synthetic-vectors` gives the store's papers that have no
vector a synthetic one instead of embedding them (~35 CPU minutes for 94,905): the bundled
sample's real vectors plus noise, for latency only (see `synthetic_vectors`).

Cold starts (issue #11), first, on the real store: a whole `paperfeed search` process and the
web's first search after a restart and after an ingest, against `paperfeed --help` measured in
the same run (wall time, median of `--cold-runs`, and peak RSS). The ingest re-imports 200
papers of the bundled sample with a new comment (`paperfeed ingest snapshot`), so it leaves the
store's papers with that comment; `--cold` runs these rows only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
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
from paperfeed.ingest.snapshot import sample_path
from paperfeed.search.hybrid import search
from paperfeed.search.index import SearchIndex
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


def synthetic_vectors(folder: Path, *, seed: int = 13) -> int:
    """Give each paper of the store at `folder` that has no vector a SYNTHETIC one; return how many.

    Embedding the 94,905 papers takes ~35 CPU minutes; for latency only, a paper without a
    vector gets a random real vector of the store (the bundled sample's) plus noise (cosine
    ~0.89 to it, as `grow` does), normalized. Their neighbours mean nothing: never use such a
    store for quality. The text, keyword index and filters stay real.
    """
    hub = Hub.from_settings(Settings(data_dir=folder))
    contract = hub.search_index.contract
    vec = schema.paper_vectors
    with hub.db.read() as conn:
        real = [batch for _, batch in iter_vectors(conn, contract=contract)]
        have = select(vec.c.paper_id).where(
            vec.c.model_id == contract.model_id,
            vec.c.revision == contract.revision,
            vec.c.input_version == contract.input_version,
        )
        missing = list(
            conn.execute(
                select(schema.papers.c.paper_id).where(
                    schema.papers.c.status == "active", ~schema.papers.c.paper_id.in_(have)
                )
            ).scalars()
        )
    if not missing or not real:
        hub.close()
        return 0
    matrix = np.concatenate(real)
    rng = np.random.default_rng(seed)
    noisy = matrix[rng.integers(len(matrix), size=len(missing))] + rng.standard_normal(
        (len(missing), matrix.shape[1]), dtype=np.float32
    ) * (0.5 / np.sqrt(matrix.shape[1]))
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    with hub.db.write() as conn:
        for at in range(0, len(missing), 20_000):
            part = slice(at, min(len(missing), at + 20_000))
            store_vectors(
                conn,
                contract=contract,
                paper_ids=missing[part],
                text_hashes=["synthetic"] * len(missing[part]),
                vectors=noisy[part],
            )
    hub.close()
    return len(missing)


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


PAPERFEED = Path(sys.executable).with_name("paperfeed")
# The web process: the app as uvicorn serves it, one search after its start, and one more when
# the parent says an ingest is done (a line on stdin). Each prints its time and the peak RSS.
WEB_FIRST_SEARCHES = """
import json, resource, sys, time
from fastapi.testclient import TestClient
from paperfeed.hub import Hub
from paperfeed.web.app import create_app

def first(query):
    start = time.perf_counter()
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200 and "<article" in response.text, response.status_code
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": time.perf_counter() - start, "rss": rss}), flush=True)

app = create_app(Hub.from_settings(migrate=False))
with TestClient(app, base_url="http://127.0.0.1:8000") as client:
    first("graph neural networks for molecules")
    sys.stdin.readline()
    first("diffusion models for video generation")
"""
COLD_ROWS = (
    "cold process: paperfeed --help",
    "cold process: paperfeed search",
    "web first search after restart",
    "web first search after ingest",
)


def _process(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to its end; return its wall time (s) and peak RSS (MB)."""
    start = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        detail = child.stderr.read().decode() if child.stderr is not None else ""
        sys.exit(f"{' '.join(args)} failed: {detail}")
    return wall, usage.ru_maxrss / 1024


def _touched_sample(folder: Path, papers: int = 200) -> Path:
    """The first papers of the bundled sample with a new comment: an ingest that changes them."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for _, line in zip(range(papers), f, strict=False)]
    path = folder / "touched.jsonl"
    comment = f"bench-search ingest {stamp}"
    path.write_text(
        "".join(json.dumps({**line, "comment": comment}) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def cold_starts(runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Time whole processes on the real store: wall times (s) and peak RSS (MB) by row."""
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(STORE)}
    rows: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in COLD_ROWS}
    query = "graph neural networks for molecules"
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(runs):  # interleaved, so a change of machine load weighs on all alike
            for name, args in zip(
                COLD_ROWS[:2],
                ([str(PAPERFEED), "--help"], [str(PAPERFEED), "search", query]),
                strict=True,
            ):
                wall, rss = _process(args, env)
                rows[name][0].append(wall)
                rows[name][1].append(rss)
            web = subprocess.Popen(
                [sys.executable, "-c", WEB_FIRST_SEARCHES],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert web.stdin is not None and web.stdout is not None
            restart = json.loads(web.stdout.readline())
            touched = _touched_sample(Path(scratch))
            _process([str(PAPERFEED), "ingest", "snapshot", str(touched)], env)
            web.stdin.write("ingested\n")
            web.stdin.flush()
            ingest = json.loads(web.stdout.readline())
            if web.wait() != 0:
                sys.exit("the web process failed")
            for name, measured in zip(COLD_ROWS[2:], (restart, ingest), strict=True):
                rows[name][0].append(measured["s"])
                rows[name][1].append(measured["rss"])
    return rows


def print_cold_starts(rows: dict[str, tuple[list[float], list[float]]]) -> None:
    """Print the cold-start table, each row against `paperfeed --help` of the same run."""
    runs = len(rows[COLD_ROWS[0]][0])
    print(f"cold starts on {STORE.name}: {runs} runs each, interleaved; web rows: the request")
    print(f"{'what':<34}{'median s':>9}{'max s':>8}{'peak RSS MB':>13}{'vs --help':>11}")
    base = float(np.median(rows[COLD_ROWS[0]][0]))
    for name, (walls, rss) in rows.items():
        median = float(np.median(walls))
        print(
            f"{name:<34}{median:>9.2f}{max(walls):>8.2f}{max(rss):>13,.0f}{median / base:>10.2f}x"
        )
    print("target: paperfeed search <= 1.5 s as a whole process; web first search <= 1 s")


# similar_papers() as it was before issue #15 (vector neighbours, expansion from them, category
# bonus 0.03): the baseline its latency is held to, timed in the same run.
SIMILAR_BEFORE = {
    "keyword_weight": 0.0,
    "expand_from": "vectors",
    "category_bonus": 0.03,
    "second_search": "full",
    "depth": 100,
}
SIMILAR_ROWS = (
    "similar_papers() now",
    "similar_papers() before #15",
    "similar_papers() plain cosine",
)


def similar_rows(
    index: SearchIndex, ids: list[str], *, n: int, repeats: int
) -> list[tuple[str, np.ndarray, list[float]]]:
    """similar_papers() now, before #15 and plain cosine, interleaved on the same papers,
    `repeats` times: (name, all latencies, the p50 of each repeat)."""
    options = ({}, SIMILAR_BEFORE, {"keyword_weight": 0.0, "expansion": 0})
    papers = random.Random(3).sample(ids, n)
    runs = [
        interleaved(
            [
                lambda p, o=o: similar_papers(index, p, limit=10, **o)  # type: ignore[arg-type]
                for o in options
            ],
            papers,
        )
        for _ in range(repeats)
    ]
    return [
        (
            name,
            np.concatenate([run[i] for run in runs]),
            [float(np.percentile(run[i], 50)) for run in runs],
        )
        for i, name in enumerate(SIMILAR_ROWS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1_000, help="queries per row")
    parser.add_argument(
        "--papers", type=int, default=0, help="grow the store to this many papers (synthetic)"
    )
    parser.add_argument("--cold-runs", type=int, default=3, help="runs of each cold-start row")
    parser.add_argument("--cold", action="store_true", help="run the cold-start rows only")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start rows")
    parser.add_argument(
        "--similar-only", action="store_true", help="time the similar_papers() rows only"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of the similar_papers() rows (median p50)"
    )
    parser.add_argument(
        "--synthetic-vectors",
        action="store_true",
        help="give papers without a vector a synthetic one (latency only; see synthetic_vectors)",
    )
    args = parser.parse_args()
    if not (STORE / "paperfeed.db").is_file():
        sys.exit(f"no store in {STORE}: see this script's docstring")
    if args.synthetic_vectors:
        added = synthetic_vectors(STORE)
        if added:
            (STORE / "synthetic-vectors").write_text(f"{added}\n")
            print(f"{added:,} synthetic vectors added to {STORE}", file=sys.stderr)
    synthetic_store = (STORE / "synthetic-vectors").exists()
    if not args.no_cold and not args.similar_only:
        print_cold_starts(cold_starts(args.cold_runs))
    if args.cold:
        return
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
        if not synthetic_store:
            np.save(VECTORS, np.concatenate(parts))
    rows: list[tuple[str, np.ndarray]] = []
    if not args.similar_only:
        search(index, hub.embedder, "warm up the model", limit=10)
        keyword_only, convex, rank_fused = interleaved(
            [
                lambda q: search(index, None, q, limit=10),
                lambda q: search(index, hub.embedder, q, limit=10, embed_timeout_s=60),
                lambda q: search(
                    index, hub.embedder, q, limit=10, embed_timeout_s=60, fusion="rrf"
                ),
            ],
            qs,
        )
        filtered = timed(
            lambda q: search(
                index, hub.embedder, q, limit=10, categories=["cs.CV", "cs.CL"], embed_timeout_s=60
            ),
            qs,
        )
        rows = [
            ("keyword only (baseline)", keyword_only),
            ("search() hybrid, top 10", convex),
            ("search() hybrid, RRF fusion", rank_fused),
            ("search() hybrid, filtered", filtered),
        ]
    similar = similar_rows(index, ids, n=args.n, repeats=args.repeats)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    synthetic = " (synthetic beyond the real 94,905)" if args.papers else ""
    if synthetic_store:
        synthetic += " (SYNTHETIC vectors for papers outside the bundled sample: latency only)"
    load = os.getloadavg()
    print(
        f"{len(index.vectors):,} papers with vectors{synthetic}, {index.vectors.kind} vector "
        f"index; indexes loaded, built and checked in {load_s:.1f} s; {args.n:,} queries per "
        f"row; peak RSS {rss:,.0f} MB; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    print(f"{'what':<30}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 vs baseline':>17}")
    base = float(np.percentile(rows[0][1], 50)) if rows else 0.0
    for name, lat in rows:
        p50, p95, p99 = (float(np.percentile(lat, q)) for q in (50, 95, 99))
        print(f"{name:<30}{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{p50 / base:>16.2f}x")
    print(
        f"similar_papers(), top 10: {args.repeats} interleaved runs of {args.n:,} papers; "
        "p50 = median of the runs' p50s, p95/p99 over all calls"
    )
    before = float(np.median(similar[1][2]))
    for name, lat, p50s in similar:
        p50 = float(np.median(p50s))
        p95, p99 = (float(np.percentile(lat, q)) for q in (95, 99))
        print(f"{name:<30}{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{p50 / before:>16.2f}x")
    print(
        "  p50s of the runs: "
        + "; ".join(f"{name}: " + ", ".join(f"{x:.2f}" for x in p50s) for name, _, p50s in similar)
    )
    print("target: similar_papers() now <= 1.10x before #15 (p50, same run)")
    if args.papers:
        print("target at 1M: search() p95 <= 40 ms")
    else:
        print("target at 95k: search() p50 <= 10 ms, p95 <= 25 ms")
        if not synthetic_store:
            print(f"wrote {VECTORS} for bench/vectors.py (1M: recall@10, build time, memory)")
    hub.close()


if __name__ == "__main__":
    main()
