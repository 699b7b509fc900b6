"""The Source protocol, the items sources yield, and the runner that stores them in batches.

Each batch is one write transaction holding papers, feed entries and the source's
checkpoint together, so a crash (even kill -9) leaves the store consistent and running
the same command again completes the job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from paperfeed.db import Database
from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.state import clear_state, save_state
from paperfeed.models import Featuring, ImportSummary, PaperRecord, Rejected


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a resumable source stands; stored in the same transaction as what came before it.

    `value=None` clears the stored state (the job is complete).
    """

    key: str
    value: dict[str, Any] | None


SourceItem = PaperRecord | Featuring | Rejected | Checkpoint


class Source(Protocol):
    """Anything that yields papers: files, the arXiv API, OAI-PMH, Hugging Face daily papers."""

    name: str
    unit: str  # what progress() counts: "bytes", "records", "pages"

    def read(self) -> Iterator[SourceItem]:
        """Yield papers, featurings, rejections and checkpoints, in order."""
        ...

    def progress(self) -> tuple[float, float | None]:
        """Return (done, total) in `unit`s; total is None when unknown."""
        ...


class RecordCounter:
    """`progress()` for sources that count records: `_done` so far, `_total` once known."""

    _done: int = 0
    _total: int | None = None

    def progress(self) -> tuple[float, float | None]:
        """Return (done, total) records; total is None until the source knows it."""
        return float(self._done), float(self._total) if self._total is not None else None


ProgressCallback = Callable[[ImportSummary, "Source"], None]


def run_ingest(
    db: Database,
    source: Source,
    *,
    batch_size: int = 2000,
    on_batch: ProgressCallback | None = None,
) -> ImportSummary:
    """Read `source` to the end and store what it yields, one transaction per batch."""
    total = ImportSummary()
    records: list[PaperRecord] = []
    featurings: list[Featuring] = []

    def flush(checkpoint: Checkpoint | None = None) -> None:
        if not records and not featurings and checkpoint is None:
            return
        with db.write() as conn:
            batch = upsert_papers(conn, records)
            batch.featured = feature_papers(conn, featurings)
            if checkpoint is not None:
                if checkpoint.value is None:
                    clear_state(conn, source=source.name, key=checkpoint.key)
                else:
                    save_state(conn, source=source.name, key=checkpoint.key, value=checkpoint.value)
        total.add(batch)
        records.clear()
        featurings.clear()
        if on_batch is not None:
            on_batch(total, source)

    for item in source.read():
        if isinstance(item, PaperRecord):
            # A full batch is flushed before the next paper, so a paper and the featurings
            # that follow it are stored in the same transaction.
            if len(records) >= batch_size or len(featurings) >= batch_size:
                flush()
            records.append(item)
        elif isinstance(item, Featuring):
            featurings.append(item)
        elif isinstance(item, Rejected):
            total.rejected.append(item)
        else:
            flush(item)
    flush()
    if on_batch is not None:
        on_batch(total, source)
    return total


def parse_day(value: object) -> dt.date | None:
    """Read a `YYYY-MM-DD` (or ISO timestamp) into a date; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    return dt.date.fromisoformat(value[:10])


def parse_time(value: object) -> dt.datetime | None:
    """Read an ISO timestamp into a naive UTC datetime; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed
