"""A `paperfeed worker` process for the PostgreSQL week test: the Procrastinate engine with the
FakeEmbedder, slowed, leaving a mark (a file named after its pid) each time it embeds, so the
test knows whom to kill with kill -9 in the middle of embedding. No schedule tick: the test
defers on its fake clock. Settings come from the environment (PAPERFEED_*).

Run as `python -m tests.pg.queue_worker MARK_DIR`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from paperfeed.db import Database
from paperfeed.hub import Hub
from paperfeed.loop.queue import run_queue_worker
from paperfeed.settings import Settings
from tests.search.fakes import FakeEmbedder

EMBED_DELAY_S = 1.5


class MarkingEmbedder(FakeEmbedder):
    """The FakeEmbedder (same vectors), slow, and marking each embedding in `marks`."""

    def __init__(self, marks: Path) -> None:
        super().__init__()
        self.marks = marks

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        (self.marks / f"embedding-{os.getpid()}").write_text(str(len(texts)))
        time.sleep(EMBED_DELAY_S)
        return super().embed(texts, batch_size=batch_size, progress=progress)


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
