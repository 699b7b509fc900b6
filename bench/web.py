"""Web throughput on the full corpus: the feed page and /api/daily_papers under load.

Run `make bench-web`. It copies the pre-imported 94,905-paper store of `data/bench/full/` (see
bench/search.py for how that is built) to `data/bench/web/` once, migrates the copy, adds 10,000
SYNTHETIC upvotes (1,000 readers, 10 each, on papers featured in the last 30 days, cast at
random times over those days), then serves it with a real uvicorn (2 workers) on 127.0.0.1 and
loads each URL for a bounded time with `wrk` (Debian package `wrk`; without it, a small asyncio
httpx client stands in, which spends CPU the server could use: the numbers are lower).

Baseline, same run: the smallest route there is (the API docs page, a constant string through
the same middleware), so the ratios say what the database and the templates cost.
Target (issue #4): feed page >= 1,000 requests/s on 2 cores with p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data/bench/full"
STORE = ROOT / "data/bench/web"
UPVOTES = 10_000
READERS = 1_000

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
    .. '"p50": %d, "p95": %d, "p99": %d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def app():  # type: ignore[no-untyped-def]
    """The uvicorn factory each worker calls: the app over the store in PAPERFEED_DATA_DIR."""
    from paperfeed.hub import Hub
    from paperfeed.settings import Settings
    from paperfeed.web.app import create_app

    return create_app(Hub.from_settings(Settings(semantic_search=False), migrate=False))


def prepare_store() -> None:
    """Copy the full store once, migrate it and add the synthetic upvotes (once)."""
    from sqlalchemy import func, insert, select

    from paperfeed.db import schema
    from paperfeed.hub import Hub
    from paperfeed.settings import Settings

    if not (SOURCE / "paperfeed.db").exists():
        sys.exit(f"no store at {SOURCE}: build it first (see bench/search.py)")
    if not (STORE / "paperfeed.db").exists():
        STORE.mkdir(parents=True, exist_ok=True)
        print(f"copying {SOURCE / 'paperfeed.db'} to {STORE} …", flush=True)
        partial = STORE / "paperfeed.db.partial"
        with sqlite3.connect(SOURCE / "paperfeed.db") as source, sqlite3.connect(partial) as copy:
            source.backup(copy)  # a consistent copy; the source is only read
        partial.rename(STORE / "paperfeed.db")
    hub = Hub.from_settings(Settings(data_dir=STORE, semantic_search=False))  # migrates
    try:
        with hub.db.write() as conn:
            if conn.scalar(select(func.count()).select_from(schema.upvotes)) >= UPVOTES:
                return
            latest = conn.scalar(select(func.max(schema.feed_entries.c.day)))
            start = latest - dt.timedelta(days=30)
            recent = list(
                conn.scalars(
                    select(schema.feed_entries.c.paper_id)
                    .where(schema.feed_entries.c.day > start)
                    .order_by(schema.feed_entries.c.paper_id)
                )
            )
            rng = random.Random(4)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            users = [
                {"email": f"bench-reader-{n}@example.org", "role": "member", "created_at": now}
                for n in range(READERS)
            ]
            conn.execute(insert(schema.users), users)
            ids = list(
                conn.scalars(
                    select(schema.users.c.user_id).where(
                        schema.users.c.email.like("bench-reader-%")
                    )
                )
            )
            base = dt.datetime(start.year, start.month, start.day)
            # Popularity is skewed, as on a real hub: a few papers draw most of the votes.
            weights = [1 / (rank + 1) ** 0.8 for rank in range(len(recent))]
            rng.shuffle(weights)
            votes = []
            for user_id in ids:
                chosen: set[str] = set()
                while len(chosen) < UPVOTES // READERS:
                    chosen.add(rng.choices(recent, weights)[0])
                for paper_id in sorted(chosen):
                    seconds = rng.uniform(0, 31 * 86400)
                    votes.append(
                        {
                            "user_id": user_id,
                            "paper_id": paper_id,
                            "created_at": base + dt.timedelta(seconds=seconds),
                        }
                    )
            conn.execute(insert(schema.upvotes), votes)
            print(f"added {len(votes):,} synthetic upvotes by {len(ids):,} readers", flush=True)
    finally:
        hub.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(STORE), "PAPERFEED_SEMANTIC_SEARCH": "false"}
    command = [
        sys.executable, "-m", "uvicorn", "web:app", "--factory",
        "--app-dir", str(ROOT / "bench"),
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/docs", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not start")


@dataclass
class Result:
    label: str
    path: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int
    bytes_per_response: int


def run_wrk(url: str, seconds: float, connections: int, threads: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        command += ["--timeout", "5s", "-s", script.name, url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("{"))
    data = json.loads(line)
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50": data["p50"] / 1000,
        "p95": data["p95"] / 1000,
        "p99": data["p99"] / 1000,
        "failures": data["non2xx"] + data["errors"],
    }


def run_httpx(url: str, seconds: float, connections: int) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient, stop: float) -> None:
        nonlocal failures
        while time.perf_counter() < stop:
            began = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - began)
            failures += response.status_code >= 400

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=5) as client:
            began = time.perf_counter()
            stop = began + seconds
            await asyncio.gather(*(worker(client, stop) for _ in range(connections)))
            return time.perf_counter() - began

    elapsed = asyncio.run(main())
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "rps": len(ordered) / elapsed,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "failures": failures,
    }


def measure(base: str, label: str, path: str, args: argparse.Namespace) -> Result:
    import httpx

    url = base + path
    first = httpx.get(url, timeout=30)  # also warms the worker's caches
    first.raise_for_status()
    httpx.get(url, timeout=30)
    if shutil.which("wrk") and not args.httpx:
        numbers = run_wrk(url, args.seconds, args.connections, args.threads)
    else:
        numbers = run_httpx(url, args.seconds, args.connections)
    return Result(
        label,
        path,
        numbers["rps"],
        numbers["p50"],
        numbers["p95"],
        numbers["p99"],
        int(numbers["failures"]),
        len(first.content),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per URL [10]")
    parser.add_argument("--connections", type=int, default=16, help="open connections [16]")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads [2]")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers [2]")
    parser.add_argument("--httpx", action="store_true", help="use the Python load generator")
    parser.add_argument("--all", action="store_true", help="also a month, trending and search")
    args = parser.parse_args()
    prepare_store()
    with sqlite3.connect(f"file:{STORE / 'paperfeed.db'}?mode=ro", uri=True) as conn:
        (latest,) = conn.execute("SELECT max(day) FROM feed_entries").fetchone()
        papers, upvotes = conn.execute(
            "SELECT (SELECT count(*) FROM papers), (SELECT count(*) FROM upvotes)"
        ).fetchone()
    rows = [
        ("baseline: /api/docs (constant page)", "/api/docs"),
        ("feed page: latest day", "/"),
        ("API: /api/daily_papers", "/api/daily_papers"),
    ]
    if args.all:
        month = latest[:7]
        rows += [
            (f"feed page: month {month}, page 2", f"/papers?month={month}&page=2"),
            ("API: /api/daily_papers?month", f"/api/daily_papers?month={month}"),
            ("trending page: week", "/trending?window=week"),
            ("RSS: /papers.rss", "/papers.rss"),
        ]
    load_before = os.getloadavg()[0]  # other processes on these cores show up in p95/p99
    port = free_port()
    server = start_server(port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        results = [measure(base, label, path, args) for label, path in rows]
    finally:
        server.terminate()
        server.wait(timeout=30)
    tool = "wrk" if shutil.which("wrk") and not args.httpx else "httpx (asyncio)"
    fast = [name for name in ("httptools", "uvloop") if importlib.util.find_spec(name)]
    print()
    print(
        f"store: {papers:,} papers, {upvotes:,} upvotes; uvicorn {args.workers} workers "
        f"({' + '.join(fast) or 'h11 + asyncio'}); "
        f"{tool}, {args.connections} connections, {args.seconds:g} s per URL; "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} before the run"
    )
    print(
        f"{'URL':<40} {'req/s':>8} {'x base':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'fail':>5} {'KB':>6}"
    )
    baseline = results[0].rps
    for r in results:
        print(
            f"{r.label:<40} {r.rps:>8,.0f} {r.rps / baseline:>7.2f} {r.p50_ms:>7.1f} "
            f"{r.p95_ms:>7.1f} {r.p99_ms:>7.1f} {r.failures:>5} {r.bytes_per_response / 1024:>6.0f}"
        )
    feed = results[1]
    verdict = "meets" if feed.rps >= 1000 and feed.p99_ms <= 50 else "misses"
    print(
        f"\nfeed page: {feed.rps:,.0f} req/s, p99 {feed.p99_ms:.1f} ms: {verdict} the target "
        "(>= 1,000 req/s, p99 <= 50 ms on 2 cores)"
    )


if __name__ == "__main__":
    main()
