"""SearchIndex: the keyword and vector indexes kept in step with the store, never silently stale.

Both indexes live in folders beside the database and record the store state they reflect. Every
search first compares that record with the store (two cheap queries, at most once a second) and
catches up on what changed; a vector index of another embedding contract is rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.db import Database
from paperfeed.db.papers import iter_papers, latest_change, store_marks
from paperfeed.db.vectors import (
    EmbeddingContract,
    count_vectors,
    iter_vectors,
    latest_embedding,
)
from paperfeed.models import PaperRecord, PaperStatus, normalize_space
from paperfeed.search.embedder import EMBEDDING_INPUT_VERSION, Embedder
from paperfeed.search.keyword import KeywordIndex, KeywordIndexLocked, paper_day
from paperfeed.search.vectors import VectorIndex

logger = logging.getLogger(__name__)

FRESHNESS_CHECK_S = 1.0
# The keyword writer of an import: tantivy indexes on its own threads while Python parses and
# stores the next batch. 64 MB bounds the indexing buffer (the peak RSS budget is 300 MB).
IMPORT_HEAP_BYTES = 64_000_000
IMPORT_WRITER_THREADS = 1

StoredBatch = Callable[[list[PaperRecord]], None]
# The contract of a hub with semantic search turned off: no stored vector ever matches it.
KEYWORD_ONLY = EmbeddingContract(model_id="none", revision="none", input_version=0, dim=1)


def contract_of(embedder: Embedder) -> EmbeddingContract:
    """The embedding contract of an embedder: stored vectors must match it to be searched."""
    return EmbeddingContract(
        model_id=embedder.model_id,
        revision=embedder.revision,
        input_version=EMBEDDING_INPUT_VERSION,
        dim=embedder.dim,
    )


def title_key(title: str) -> str:
    """Normalise a title for exact-title look-ups."""
    return normalize_space(title).casefold().rstrip(".")


@dataclass(frozen=True, slots=True)
class Facets:
    """What the filters need of a paper."""

    day: dt.date | None
    categories: frozenset[str]


@dataclass
class IndexStatus:
    """How the indexes stand against the store."""

    papers: int
    keyword_documents: int
    vectors_current: int
    vectors_missing: int
    reindex_needed: bool
    stale: bool = False
    notes: list[str] = field(default_factory=list)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


class SearchIndex:
    """The derived search state of one store: keyword index, vector index, facets and titles."""

    def __init__(self, *, db: Database, folder: Path, contract: EmbeddingContract) -> None:
        self.db = db
        self.folder = folder
        self.contract = contract
        self.keyword = KeywordIndex.open(folder / "keyword-index")
        self.vectors: VectorIndex | None = None
        self.facets: dict[str, Facets] = {}
        self.titles: dict[str, str] = {}
        self._title_of: dict[str, str] = {}
        self.by_category: dict[str, set[str]] = {}
        self._allowed_cache: dict[tuple[object, ...], frozenset[str]] = {}
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self._papers_mark: dt.datetime | None = None
        self._vectors_mark: dt.datetime | None = None
        self._loaded = False

    # -- keeping in step -------------------------------------------------------------------

    def ensure_fresh(self, *, force: bool = False) -> None:
        """Catch up with the store if it changed since the last look (at most once a second)."""
        now = time.monotonic()
        if not force and self._loaded and now - self._checked_at < FRESHNESS_CHECK_S:
            return
        with self._lock:
            if (
                not force
                and self._loaded
                and time.monotonic() - self._checked_at < FRESHNESS_CHECK_S
            ):
                return
            if not self._loaded:
                self._load()
            # Two index look-ups: cheap enough to run before a search once a second.
            with self.db.read() as conn:
                papers_changed = latest_change(conn)
                vectors_changed = latest_embedding(conn)
            if papers_changed != self._papers_mark:
                self._sync_papers()
            if vectors_changed != self._vectors_mark:
                self._sync_vectors()
            self._checked_at = time.monotonic()

    @contextlib.contextmanager
    def import_indexing(
        self,
        *,
        heap_size: int = IMPORT_HEAP_BYTES,
        num_threads: int = IMPORT_WRITER_THREADS,
    ) -> Iterator[StoredBatch | None]:
        """Keep the keyword index in step while an import stores papers, batch by batch.

        Yields a callback for each committed batch of changed papers (as stored, hidden ones
        included). On a clean exit the index is committed with the store state it reflects, so
        the import ends keyword-searchable without a rebuild. Yields None when the index is not
        in step with the store, or another process holds its writer: the caller then catches
        up afterwards with `ensure_fresh`. If the import fails, what it indexed is dropped and
        the index keeps its older marker, so the next look catches up from there.
        """
        with self._lock:
            with self.db.read() as conn:
                start = latest_change(conn)
            if _parse(self.keyword.meta().get("papers_modified_at")) != start:
                yield None
                return
            try:
                self.keyword.open_writer(heap_size=heap_size, num_threads=num_threads)
            except KeywordIndexLocked:
                logger.info("keyword index busy in another process; it will catch up there")
                yield None
                return
            empty = self.keyword.count() == 0
            indexed: set[str] = set()

            def on_stored(records: list[PaperRecord]) -> None:
                # An empty index holds none of them, unless an earlier batch brought it.
                again = [r.paper_id for r in records if not empty or r.paper_id in indexed]
                if again:
                    self.keyword.delete(again)
                self.keyword.add(records)
                indexed.update(r.paper_id for r in records)

            try:
                yield on_stored
            except BaseException:
                self.keyword.close()
                raise
            with self.db.read() as conn:
                marks = store_marks(conn)
            self.keyword.commit()
            if self.keyword.count() == marks.visible_papers:
                self.keyword.set_meta({"papers_modified_at": _iso(marks.papers_modified_at)})
                self.keyword.commit()
            else:  # another process changed papers meanwhile: the next look catches up
                logger.info("store changed during the import; the keyword index will catch up")
            self._loaded = False  # facets and titles are read again on the next search

    def refresh_vectors(self) -> None:
        """Bring only the vector index up to date with the store and save it (no facets)."""
        with self._lock:
            if self.vectors is None:
                loaded = VectorIndex.load(self.folder / "vector-index")
                if loaded is not None:
                    index, state = loaded
                    if state.get("contract") == self._contract_state():
                        self.vectors = index
                        self._vectors_mark = _parse(state.get("embedded_at"))
            with self.db.read() as conn:
                vectors_changed = latest_embedding(conn)
            if vectors_changed != self._vectors_mark:
                self._sync_vectors()
            self.save()

    def _load(self) -> None:
        """Load the facets and titles from the store and the vector index from disk."""
        with self.db.read() as conn:
            for batch in iter_papers(conn, include_hidden=False):
                self._remember(batch)
        meta = self.keyword.meta()
        self._papers_mark = _parse(meta.get("papers_modified_at"))
        loaded = VectorIndex.load(self.folder / "vector-index")
        if loaded is not None:
            index, state = loaded
            if state.get("contract") == self._contract_state():
                self.vectors = index
                self._vectors_mark = _parse(state.get("embedded_at"))
        self._loaded = True

    def _contract_state(self) -> dict[str, Any]:
        c = self.contract
        return {"model_id": c.model_id, "revision": c.revision, "input": c.input_version}

    def _remember(self, records: list[PaperRecord]) -> None:
        self._allowed_cache.clear()
        for record in records:
            old = self.facets.pop(record.paper_id, None)
            for category in old.categories if old is not None else ():
                self.by_category.get(category, set()).discard(record.paper_id)
            old_title = self._title_of.pop(record.paper_id, None)
            if old_title is not None and self.titles.get(old_title) == record.paper_id:
                del self.titles[old_title]
            if record.status is not PaperStatus.ACTIVE:
                continue
            self.facets[record.paper_id] = Facets(
                paper_day(record), frozenset(record.categories or ())
            )
            for category in record.categories or ():
                self.by_category.setdefault(category, set()).add(record.paper_id)
            if record.title:
                key = title_key(record.title)
                self.titles.setdefault(key, record.paper_id)
                self._title_of[record.paper_id] = key

    def allowed_ids(
        self,
        *,
        since: dt.date | None,
        until: dt.date | None,
        categories: Sequence[str] | None,
    ) -> frozenset[str] | None:
        """The visible papers that pass the filters (None: no filter); cached until a change."""
        if since is None and until is None and not categories:
            return None
        key = (since, until, tuple(sorted(set(categories or ()))))
        cached = self._allowed_cache.get(key)
        if cached is not None:
            return cached
        if categories:
            candidates: set[str] = set()
            for category in set(categories):
                candidates |= self.by_category.get(category, set())
        else:
            candidates = set(self.facets)
        if since is not None or until is not None:
            low, high = since or dt.date.min, until or dt.date.max
            facets = self.facets
            candidates = {
                pid
                for pid in candidates
                if (day := facets[pid].day) is not None and low <= day <= high
            }
        result = frozenset(candidates)
        if len(self._allowed_cache) > 64:
            self._allowed_cache.clear()
        self._allowed_cache[key] = result
        return result

    def _sync_papers(self) -> None:
        """Bring the keyword index and facets up to the store's latest paper change."""
        with self.db.read() as conn:
            marks = store_marks(conn)
            hidden: list[str] = []
            try:
                for batch in iter_papers(conn, modified_since=self._papers_mark):
                    self.keyword.upsert(batch)
                    self._remember(batch)
                    hidden.extend(r.paper_id for r in batch if r.status is not PaperStatus.ACTIVE)
                self.keyword.set_meta({"papers_modified_at": _iso(marks.papers_modified_at)})
                self.keyword.commit()
            except KeywordIndexLocked:
                logger.info("keyword index busy in another process; it will catch up there")
                self.keyword.reload()
                return
        if hidden and self.vectors is not None:
            self.vectors.remove(hidden)
        self._papers_mark = marks.papers_modified_at

    def _sync_vectors(self) -> None:
        """Add vectors embedded since the last look; rebuild when the index cannot catch up."""
        with self.db.read() as conn:
            counts = count_vectors(conn, contract=self.contract)
            since = self._vectors_mark if self.vectors is not None else None
            ids: list[str] = []
            parts: list[np.ndarray] = []
            for batch_ids, batch in iter_vectors(conn, contract=self.contract, since=since):
                ids.extend(batch_ids)
                parts.append(batch)
        if not ids and self.vectors is None:
            self._vectors_mark = counts.last_embedded_at
            return
        matrix = np.concatenate(parts) if parts else np.zeros((0, self.contract.dim), np.float32)
        if self.vectors is None:
            self.vectors = VectorIndex.build(ids, matrix)
        elif ids:
            self.vectors.upsert(ids, matrix)
        if len(self.vectors) != counts.current:
            logger.info(
                "vector index out of step (%d vs %d): rebuilding", len(self.vectors), counts.current
            )
            self.vectors = None
            self._vectors_mark = None
            self._sync_vectors()
            return
        self._vectors_mark = counts.last_embedded_at

    def save(self) -> None:
        """Persist the vector index (the keyword index persists itself at each commit)."""
        with self._lock:
            if self.vectors is not None:
                self.vectors.save(
                    self.folder / "vector-index",
                    state={
                        "contract": self._contract_state(),
                        "embedded_at": _iso(self._vectors_mark),
                    },
                )

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> None:
        """Rebuild both indexes from the store."""
        with self._lock:
            with self.db.read() as conn:
                marks = store_marks(conn)

                def records() -> Any:
                    for batch in iter_papers(conn, include_hidden=False):
                        yield from batch
                        if progress is not None:
                            progress(len(batch))

                self.keyword.rebuild_from(
                    records(), meta={"papers_modified_at": _iso(marks.papers_modified_at)}
                )
            self.facets.clear()
            self.titles.clear()
            self._title_of.clear()
            self.by_category.clear()
            self._allowed_cache.clear()
            self._load()  # facets and titles from the store
            self._papers_mark = marks.papers_modified_at
            self.vectors = None  # rebuilt from the stored vectors, not from disk
            self._vectors_mark = None
            self._sync_vectors()
            self._checked_at = time.monotonic()

    def status(self) -> IndexStatus:
        """Report how the indexes stand against the store."""
        self.ensure_fresh(force=True)
        with self.db.read() as conn:
            marks = store_marks(conn)
            counts = count_vectors(conn, contract=self.contract)
        notes = []
        if counts.reindex_needed:
            notes.append(
                f"reindex needed: {counts.other_contract:,} vectors were made by another model or "
                "input format; run `paperfeed index`"
            )
        if counts.missing:
            notes.append(f"{counts.missing:,} papers have no vector yet; run `paperfeed index`")
        return IndexStatus(
            papers=marks.visible_papers,
            keyword_documents=self.keyword.count(),
            vectors_current=len(self.vectors) if self.vectors is not None else 0,
            vectors_missing=counts.missing,
            reindex_needed=counts.reindex_needed,
            notes=notes,
        )
