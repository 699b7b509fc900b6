"""Keyword index benchmark: build the tantivy index of the full daily corpus, then time queries.

Run with `.venv/bin/python bench/keyword_index.py [PATH]` (not `keyword.py`: a script of that
name would shadow the standard library's `keyword` module). The baseline, run alongside on the
same papers and queries, is SQLite FTS5 (porter stemmer, `bm25()`, same field weights) in memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from paperfeed.ingest.snapshot import record_from_daily
from paperfeed.models import PaperRecord
from paperfeed.search.keyword import KeywordIndex, query_words

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
QUERIES = 1_000
LIMIT = 100


def load(path: Path) -> list[PaperRecord]:
    """Read every paper of a daily-listing JSONL file."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [record_from_daily(json.loads(line)) for line in f if line.strip()]


def make_queries(records: Sequence[PaperRecord], *, count: int, seed: int = 7) -> list[str]:
    """Half real titles, half 2-4-word phrases cut from real abstracts."""
    rng = random.Random(seed)
    queries = [rng.choice(records).title for _ in range(count // 2)]
    while len(queries) < count:
        words = re.findall(r"\S+", rng.choice(records).abstract)
        size = rng.randint(2, 4)
        if len(words) > size:
            start = rng.randrange(len(words) - size)
            queries.append(" ".join(words[start : start + size]))
    return queries


def timings(run: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    """Run each query once after a warm-up pass; return milliseconds per query."""
    for query in queries[:50]:
        run(query)
    result = []
    for query in queries:
        start = time.perf_counter()
        run(query)
        result.append((time.perf_counter() - start) * 1000)
    return result


def fts5(records: Sequence[PaperRecord]) -> tuple[sqlite3.Connection, float]:
    """Build the baseline FTS5 table in memory; return it and the build seconds."""
    conn = sqlite3.connect(":memory:")
    start = time.perf_counter()
    conn.execute(
        "CREATE VIRTUAL TABLE papers USING fts5(paper_id UNINDEXED, title, abstract, authors,"
        " tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    conn.executemany(
        "INSERT INTO papers VALUES (?, ?, ?, ?)",
        ((r.paper_id, r.title, r.abstract, ", ".join(r.authors or ())) for r in records),
    )
    conn.commit()
    return conn, time.perf_counter() - start


def fts5_search(conn: sqlite3.Connection, query: str) -> list[tuple[str, float]]:
    """The baseline query: the same words, quoted, OR'ed, ranked by weighted bm25()."""
    words = query_words(query)
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    rows = conn.execute(
        "SELECT paper_id, bm25(papers, 0, 2.0, 1.0, 1.0) AS s FROM papers"
        " WHERE papers MATCH ? ORDER BY s LIMIT ?",
        (match, LIMIT),
    )
    return [(str(pid), -float(score)) for pid, score in rows]


def size_mb(path: Path) -> float:
    """Total size of the files under a folder, in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def row(name: str, ms: list[float], base: list[float] | None) -> str:
    p50 = statistics.median(ms)
    p95 = statistics.quantiles(ms, n=100)[94]
    ratio = f"{statistics.median(base) / p50:7.1f}x" if base else "   base"
    return f"{name:<38} {p50:9.2f} {p95:9.2f} {statistics.fmean(ms):9.2f} {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--threads", type=int, default=1, help="indexing threads")
    parser.add_argument("--heap-mb", type=int, default=128, help="writer heap in MB")
    args = parser.parse_args()
    if not args.path.is_file():
        sys.exit(f"no corpus at {args.path}: pass the path of arxiv_daily.jsonl.gz")
    start = time.perf_counter()
    records = load(args.path)
    print(f"read {len(records):,} papers in {time.perf_counter() - start:.1f} s")
    queries = make_queries(records, count=QUERIES)
    days = sorted({r.announced for r in records if r.announced})
    since = days[len(days) // 2] if days else dt.date(2000, 1, 1)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "keyword-index"
        index = KeywordIndex.open(
            folder, heap_size=args.heap_mb * 1_000_000, num_threads=args.threads
        )
        start = time.perf_counter()
        indexed = index.rebuild_from(records)
        build = time.perf_counter() - start
        on_disk = size_mb(folder)
        conn, fts_build = fts5(records)

        base = timings(lambda q: fts5_search(conn, q), queries)
        plain = timings(lambda q: index.search(q, limit=LIMIT), queries)
        top10 = timings(lambda q: index.search(q, limit=10), queries)
        filtered = timings(
            lambda q: index.search(q, limit=LIMIT, since=since, categories=["cs.LG", "cs.CV"]),
            queries,
        )
        long_query = " ".join(r.abstract for r in records[:20])[:10_000]
        long_ms = timings(lambda q: index.search(q, limit=LIMIT), [long_query] * 20)
        index.close()

    print(f"tantivy: {indexed:,} papers indexed in {build:.1f} s ({indexed / build:,.0f}/s),")
    print(f"         {on_disk:.1f} MB on disk; FTS5 baseline built in {fts_build:.1f} s")
    print(f"{QUERIES:,} queries: half real titles, half 2-4-word phrases from abstracts")
    print(f"{'query (ms)':<38} {'p50':>9} {'p95':>9} {'mean':>9} {'vs FTS5':>8}")
    print(row("FTS5 bm25(), top 100 (baseline)", base, None))
    print(row("tantivy, top 100", plain, base))
    print(row("tantivy, top 10", top10, base))
    print(row("tantivy, top 100, since + 2 categories", filtered, base))
    print(row("tantivy, 10,000-char query (64 words)", long_ms, base))


if __name__ == "__main__":
    main()
