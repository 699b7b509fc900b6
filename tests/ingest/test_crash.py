"""kill -9 in the middle of an import leaves the store consistent; running again completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import write_big_snapshot

pytestmark = pytest.mark.slow


def count(db_path: Path, table: str) -> int:
    with sqlite3.connect(db_path, timeout=10) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_kill_9_mid_import_then_rerun_completes(tmp_path: Path) -> None:
    snapshot = tmp_path / "big.jsonl.gz"
    total = write_big_snapshot(snapshot, copies=15)
    db_path = tmp_path / "crash.db"
    env = {**os.environ, "PAPERFEED_DATABASE_URL": f"sqlite:///{db_path}"}
    # --feature: each batch then writes feed entries too, and their count checks atomicity.
    command = [sys.executable, "-m", "paperfeed", "ingest", "snapshot", str(snapshot), "--feature"]
    subprocess.run([sys.executable, "-m", "paperfeed", "migrate"], env=env, check=True)

    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        stored = count(db_path, "papers")
        if stored >= 4000:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    papers, entries = count(db_path, "papers"), count(db_path, "feed_entries")
    assert 0 < papers < total
    assert papers == entries  # each batch stored its papers and their feed entries together

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{total - papers:,} imported" in rerun.stdout
    assert f"{papers:,} unchanged" in rerun.stdout
    assert count(db_path, "papers") == count(db_path, "feed_entries") == total
