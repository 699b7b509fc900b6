"""Ingest benchmark: import the full daily corpus into a fresh SQLite store, then again.

Run with `make bench-ingest` (or `.venv/bin/python bench/ingest.py [PATH]`). Each phase runs in
its own process so its peak RSS is its own. The baseline, measured in the same run, is reading
and parsing the file without storing anything.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
TARGET_RATE = 5_000
TARGET_RSS_MB = 500


def phase(name: str, path: Path, db_path: Path) -> dict[str, float]:
    """Run one phase in this process and return its figures."""
    from paperfeed.db import Database
    from paperfeed.ingest.base import run_ingest
    from paperfeed.ingest.snapshot import SnapshotSource
    from paperfeed.models import PaperRecord

    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    start = time.perf_counter()
    if name == "parse only (baseline)":
        papers = sum(isinstance(i, PaperRecord) for i in SnapshotSource(path).read())
        changed = 0
    else:
        summary = run_ingest(db, SnapshotSource(path))
        papers = summary.imported + summary.updated + summary.unchanged
        changed = summary.imported + summary.updated
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"papers": papers, "changed": changed, "seconds": seconds, "rss_mb": rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.path, args.db)))
        return
    if not args.path.is_file():
        sys.exit(f"no corpus at {args.path}: pass the path of arxiv_daily.jsonl.gz")
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        rows = []
        for name in ("parse only (baseline)", "import (fresh database)", "re-import (no change)"):
            target = Path(tmp) / "baseline.db" if name.startswith("parse") else db_path
            out = subprocess.run(
                [sys.executable, __file__, str(args.path), "--phase", name, "--db", str(target)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append((name, json.loads(out.strip().splitlines()[-1])))
        size_mb = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*")) / 1e6
    base = rows[0][1]["seconds"]
    print(f"corpus: {args.path} · store: SQLite (WAL) · {size_mb:,.0f} MB on disk after import")
    print(
        f"{'phase':<26}{'papers':>9}{'changed':>9}{'seconds':>9}{'papers/s':>10}"
        f"{'vs baseline':>13}{'peak RSS':>11}"
    )
    for name, r in rows:
        rate = r["papers"] / r["seconds"]
        print(
            f"{name:<26}{r['papers']:>9,.0f}{r['changed']:>9,.0f}{r['seconds']:>9.2f}"
            f"{rate:>10,.0f}{r['seconds'] / base:>12.2f}x{r['rss_mb']:>8,.0f} MB"
        )
    fresh = rows[1][1]
    rate = fresh["papers"] / fresh["seconds"]
    ok = rate >= TARGET_RATE and fresh["rss_mb"] < TARGET_RSS_MB and fresh["seconds"] < 30
    print(
        f"target: >= {TARGET_RATE:,} papers/s, under 30 s, peak RSS < {TARGET_RSS_MB} MB: "
        + ("met" if ok else "NOT met")
    )


if __name__ == "__main__":
    main()
