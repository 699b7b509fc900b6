"""A `paperfeed worker` process on SQLite for the week test: the in-process worker
(`run_worker`, as the command runs it) with the MarkingEmbedder, on a clock the test plays
through a file. `now` is the time written in MARK_DIR/now; the worker's sleep lasts until the
test writes another time there. After each pass the worker writes the time it ran at to
MARK_DIR/passed. Settings come from the environment (PAPERFEED_*).

Run as `python -m tests.loop.week_worker MARK_DIR`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.loop.worker import Pass, run_worker
from paperfeed.settings import Settings
from tests.loop.week import MarkingEmbedder

log = logging.getLogger(__name__)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    partial.replace(path)


class FileClock:
    """The time the test wrote to a file; sleeping waits until it writes another."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.at = self._read()

    def _read(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.path.read_text())

    def now(self) -> dt.datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        while (moment := self._read()) == self.at:
            time.sleep(0.02)
        self.at = moment


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    marks = Path(sys.argv[1])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    hub = Hub(settings=settings, db=Database(settings.resolved_database_url))
    hub.embedder = MarkingEmbedder(marks)
    clock = FileClock(marks / "now")

    def passed(result: Pass) -> None:
        for outcome in result.outcomes:
            log.info("%s %s", clock.now().isoformat(), outcome)
        write_atomically(marks / "passed", clock.now().isoformat())

    try:
        run_worker(hub, clock=clock, on_pass=passed)
    finally:
        hub.close()


if __name__ == "__main__":
    main()
