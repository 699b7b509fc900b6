"""Online backup: a consistent copy while an import is writing to the live database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperfeed.db import Database
from tests.helpers import write_big_snapshot


def test_backup_refuses_to_overwrite_and_postgres(db: Database, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    db.backup(target)
    with pytest.raises(FileExistsError):
        db.backup(target)
    with pytest.raises(NotImplementedError, match="pg_dump"):
        Database("postgresql://nobody@127.0.0.1:1/none").backup(tmp_path / "pg.db")


@pytest.mark.slow
def test_backup_while_an_import_runs_is_consistent(tmp_path: Path) -> None:
    snapshot = tmp_path / "big.jsonl.gz"
    write_big_snapshot(snapshot, copies=10)
    db_path = tmp_path / "live.db"
    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    env = {**os.environ, "PAPERFEED_DATABASE_URL": f"sqlite:///{db_path}"}
    importer = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "snapshot", str(snapshot), "--feature"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        copies = []
        for n in range(3):
            time.sleep(0.3)
            target = tmp_path / f"copy{n}.db"
            db.backup(target)
            copies.append(target)
    finally:
        importer.wait(timeout=120)
    assert importer.returncode == 0
    for target in copies:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            entries = conn.execute("SELECT count(*) FROM feed_entries").fetchone()[0]
        assert papers == entries
