"""Ingest benchmark: the whole `paperfeed ingest snapshot` command beside the store-only loop.

Run with `make bench-ingest` (or `.venv/bin/python bench/ingest.py [PATH]`). Each phase runs in
its own process, timed with `os.wait4`, so its wall time, CPU time and peak RSS are its own. The
baseline, measured in the same run, is reading and parsing the file without storing anything.
The whole command is timed from start to keyword-searchable (the index is fed as it imports);
its peak RSS counts its parsing process too (the sum over the process tree, sampled).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
TARGET_RATE = 5_000
TARGET_RSS_MB = 300
TARGET_SECONDS = 20


def phase(name: str, path: Path, db_path: Path) -> dict[str, float]:
    """Run one store-only phase in this process and return its counts."""
    from paperfeed.db import Database
    from paperfeed.ingest.base import run_ingest
    from paperfeed.ingest.snapshot import SnapshotSource
    from paperfeed.models import PaperRecord

    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    if name == "parse only (baseline)":
        papers = sum(isinstance(i, PaperRecord) for i in SnapshotSource(path).read())
        changed = 0
    else:
        summary = run_ingest(db, SnapshotSource(path))
        papers = summary.imported + summary.updated + summary.unchanged
        changed = summary.imported + summary.updated
    return {"papers": papers, "changed": changed}


def tree_rss_mb(root: int) -> float:
    """The resident memory of `root` and all its descendants together, in MB (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total_kb = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[str, dict[str, float]]:
    """Run `command`; return its stdout and its own wall s, CPU s and peak RSS (MB).

    The peak is the larger of the kernel's (the largest single process) and the sum over the
    process and its children sampled every 50 ms (an import parses in a second process).
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.DEVNULL, text=True, env=env
        )
        peak = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, tree_rss_mb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        stdout.seek(0)
        out = stdout.read()
    if process.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return out, {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": max(usage.ru_maxrss / 1024, peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument(
        "--semantic", action="store_true", help="Run the CLI with semantic search on."
    )
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
            out, figures = timed(
                [sys.executable, __file__, str(args.path), "--phase", name, "--db", str(target)]
            )
            rows.append((name, {**json.loads(out.strip().splitlines()[-1]), **figures}))
        size_mb = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*")) / 1e6
        env = {
            **os.environ,
            "PAPERFEED_DATA_DIR": str(Path(tmp) / "cli"),
            "PAPERFEED_SEMANTIC_SEARCH": "true" if args.semantic else "false",
        }
        env.pop("PAPERFEED_DATABASE_URL", None)
        out, figures = timed(
            [sys.executable, "-m", "paperfeed", "ingest", "snapshot", str(args.path)], env
        )
        # "94,905 imported, 0 updated, 0 unchanged, 0 rejected; ..."
        counts = [int(w.replace(",", "")) for w in out.split(";")[0].split()[::2]]
        whole = {"papers": sum(counts[:3]), "changed": sum(counts[:2]), **figures}
        rows.append(("whole CLI command", whole))
    base = rows[0][1]["seconds"]
    print(f"corpus: {args.path} · store: SQLite (WAL) · {size_mb:,.0f} MB on disk after import")
    print(
        "whole CLI command: `paperfeed ingest snapshot PATH` into a fresh data folder, start to "
        f"keyword-searchable, semantic search {'on' if args.semantic else 'off'}"
    )
    print(
        f"{'phase':<26}{'papers':>9}{'changed':>9}{'seconds':>9}{'CPU s':>8}{'papers/s':>10}"
        f"{'vs baseline':>13}{'peak RSS':>11}"
    )
    for name, r in rows:
        rate = r["papers"] / r["seconds"]
        print(
            f"{name:<26}{r['papers']:>9,.0f}{r['changed']:>9,.0f}{r['seconds']:>9.2f}"
            f"{r['cpu']:>8.1f}{rate:>10,.0f}{r['seconds'] / base:>12.2f}x{r['rss_mb']:>8,.0f} MB"
        )
    rate = whole["papers"] / whole["seconds"]
    ok = (
        rate >= TARGET_RATE
        and whole["rss_mb"] <= TARGET_RSS_MB
        and whole["seconds"] <= TARGET_SECONDS
    )
    print(
        f"target for the whole command: >= {TARGET_RATE:,} papers/s, <= {TARGET_SECONDS} s, "
        f"peak RSS <= {TARGET_RSS_MB} MB: " + ("met" if ok else "NOT met")
    )


if __name__ == "__main__":
    main()
