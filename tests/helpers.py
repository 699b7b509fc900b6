"""Test helpers that make real data bigger without inventing text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from paperfeed.ingest.snapshot import sample_path


def write_big_snapshot(path: Path, copies: int) -> int:
    """Write the bundled sample `copies` times with fresh ids; return the number of papers."""
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    count = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for copy in range(copies):
            for number, record in enumerate(records):
                record = {**record, "id": f"{2000 + copy:04d}.{number:05d}"}
                out.write(json.dumps(record) + "\n")
                count += 1
    return count
