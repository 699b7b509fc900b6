"""The Source protocol, the items sources yield, and the runner that stores them in batches.

Each batch is one write transaction holding papers, feed entries and the source's
checkpoint together, so a crash (even kill -9) leaves the store consistent and running
the same command again completes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import DataError, IntegrityError

from paperfeed.db import Database
from paperfeed.db.feed import feature_papers
from paperfeed.db.hf_papers import record_hf_facts
from paperfeed.db.papers import upsert_papers
from paperfeed.db.state import clear_state, save_state
from paperfeed.ingest._fields import RecordError, check_featuring, check_record
from paperfeed.models import Featuring, HfFacts, ImportSummary, PaperRecord, Rejected


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a resumable source stands; stored in the same transaction as what came before it.

    `value=None` clears the stored state (the job is complete).
    """

    key: str
    value: dict[str, Any] | None


SourceItem = PaperRecord | Featuring | HfFacts | Rejected | Checkpoint


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
StoredCallback = Callable[[list[PaperRecord]], None]

# What storing a bad row raises: the database refusing a value (SQLAlchemy's wrappers of the
# driver's errors), or the driver failing to bind one (an integer over 64 bits, a surrogate).
# Not OperationalError: a locked or full database is no fault of the row, and it propagates.
STORE_ERRORS = (DataError, IntegrityError, ValueError, OverflowError)


def run_ingest(
    db: Database,
    source: Source,
    *,
    batch_size: int = 2000,
    on_batch: ProgressCallback | None = None,
    on_stored: StoredCallback | None = None,
) -> ImportSummary:
    """Read `source` to the end and store what it yields, one transaction per batch.

    A record the store cannot hold is rejected alone: each one is checked before it joins a
    batch, and should a batch still fail to store, it is stored again row by row so only the
    bad row is rejected. `on_stored` receives the papers each batch changed, as stored, once
    the batch is committed (to index them as the import goes).
    """
    total = ImportSummary()
    records: list[PaperRecord] = []
    featurings: list[Featuring] = []
    facts: list[HfFacts] = []
    refused: set[str] = set()

    def store(
        papers: list[PaperRecord],
        features: list[Featuring],
        mark: Checkpoint | None,
        said: Sequence[HfFacts] = (),
    ) -> list[PaperRecord]:
        with db.write() as conn:
            batch = upsert_papers(conn, papers)
            batch.featured = feature_papers(conn, features)
            record_hf_facts(conn, [f for f in said if f.paper_id not in refused])
            if mark is not None:
                if mark.value is None:
                    clear_state(conn, source=source.name, key=mark.key)
                else:
                    save_state(conn, source=source.name, key=mark.key, value=mark.value)
        total.add(batch)
        return batch.changed

    def store_row_by_row(checkpoint: Checkpoint | None) -> list[PaperRecord]:
        stored: list[PaperRecord] = []
        by_paper: dict[str, list[Featuring]] = {}
        for featuring in featurings:
            by_paper.setdefault(featuring.paper_id, []).append(featuring)
        for record in records:
            try:
                stored.extend(store([record], by_paper.pop(record.paper_id, []), None))
            except STORE_ERRORS as exc:
                refused.add(record.paper_id)
                total.rejected.append(Rejected(_where(source, record.paper_id), _reason(exc)))
        for paper_id, features in by_paper.items():
            try:
                store([], features, None)
            except STORE_ERRORS as exc:
                total.rejected.append(Rejected(_where(source, paper_id), _reason(exc)))
        store([], [], checkpoint, facts)
        return stored

    def flush(checkpoint: Checkpoint | None = None) -> None:
        if not records and not featurings and not facts and checkpoint is None:
            return
        try:
            stored = store(records, featurings, checkpoint, facts)
        except STORE_ERRORS:
            stored = store_row_by_row(checkpoint)
        records.clear()
        featurings.clear()
        facts.clear()
        if on_stored is not None and stored:
            on_stored(stored)
        if on_batch is not None:
            on_batch(total, source)

    for item in source.read():
        if isinstance(item, PaperRecord):
            # A full batch is flushed before the next paper, so a paper and the featurings
            # that follow it are stored in the same transaction.
            if len(records) >= batch_size or len(featurings) >= batch_size:
                flush()
            try:
                records.append(check_record(item))
            except RecordError as exc:
                refused.add(item.paper_id)
                total.rejected.append(Rejected(_where(source, item.paper_id), str(exc)))
        elif isinstance(item, Featuring):
            if item.paper_id in refused:
                continue
            try:
                featurings.append(check_featuring(item))
            except RecordError as exc:
                total.rejected.append(Rejected(_where(source, item.paper_id), str(exc)))
        elif isinstance(item, HfFacts):
            facts.append(item)
        elif isinstance(item, Rejected):
            total.rejected.append(item)
        else:
            flush(item)
    flush()
    if on_batch is not None:
        on_batch(total, source)
    return total


def _where(source: Source, paper_id: str) -> str:
    return f"{source.name}: paper {paper_id[:80]!r}"


def _reason(exc: BaseException) -> str:
    return f"the store refused it: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
