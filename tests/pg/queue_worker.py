"""A `paperfeed worker` process for the PostgreSQL week test: the Procrastinate engine with the
MarkingEmbedder of tests/loop/week.py, leaving a mark (a file named after its pid) each time it
embeds and waiting while the test holds it, so the test knows whom to kill with kill -9 in the
middle of embedding. No schedule tick: the test defers on its fake clock. Settings come from the
environment (PAPERFEED_*).

Run as `python -m tests.pg.queue_worker MARK_DIR`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.loop.queue import run_queue_worker
from paperfeed.settings import Settings
from tests.loop.week import MarkingEmbedder


def main() -> None:
    marks = Path(sys.argv[1])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    hub = Hub(settings=settings, db=Database(settings.resolved_database_url))
    hub.embedder = MarkingEmbedder(marks)
    (marks / f"ready-{os.getpid()}").touch()
    try:
        run_queue_worker(hub, concurrency=2, tick=False, name=f"test-{os.getpid()}")
    finally:
        hub.close()


if __name__ == "__main__":
    main()
