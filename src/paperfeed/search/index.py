"""SearchIndex: the keyword and vector indexes kept in step with the store, never silently stale.

Both indexes live in folders beside the database and record the store state they reflect, and so
does the facets file (days, categories, title keys: see facets.py), so a process opens search
without walking the store. Every search first compares those records with the store (two cheap
queries, at most once a second) and catches up on what changed; a vector index of another
embedding contract is rebuilt, and so is a facets file that is missing, damaged or stale.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.db import Database
from paperfeed.db.papers import iter_paper_facets, iter_papers, latest_change, store_marks
from paperfeed.db.vectors import (
    EmbeddingContract,
    count_vectors,
    iter_vectors,
    latest_embedding,
)
from paperfeed.models import PaperRecord
from paperfeed.search.embedder import EMBEDDING_INPUT_VERSION, Embedder
from paperfeed.search.facets import (
    FILE_NAME,
    Facets,
    FacetTable,
    UnusableFacets,
    facet_row,
    saved_mark,
    title_key,
)
from paperfeed.search.keyword import KeywordIndex, KeywordIndexLocked
from paperfeed.search.vectors import VectorIndex

logger = logging.getLogger(__name__)

FRESHNESS_CHECK_S = 1.0
# A search that caught up on this many changed papers saves the facets file (0.3 to 0.6 s at
# 95k papers); on fewer, the next process reads them again from the file's marker (ms).
FACETS_SAVE_AFTER = 1_000
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


__all__ = ["Facets", "SearchIndex", "contract_of", "title_key"]


class _FacetView(Mapping[str, Facets]):
    """The facets of the visible papers by id, read from the table as asked."""

    def __init__(self, table: FacetTable) -> None:
        self._table = table

    def __getitem__(self, paper_id: str) -> Facets:
        found = self._table.facets(paper_id)
        if found is None:
            raise KeyError(paper_id)
        return found

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.paper_ids())

    def __len__(self) -> int:
        return len(self._table)


class _TitleView:
    """Exact-title look-ups: a title key to the visible paper of that title."""

    def __init__(self, table: FacetTable) -> None:
        self._table = table

    def get(self, key: str, default: str | None = None) -> str | None:
        found = self._table.titled(key)
        return found if found is not None else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._table.titled(key) is not None


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
        self._table = FacetTable.empty()
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self._papers_mark: dt.datetime | None = None  # the keyword index's
        self._vectors_mark: dt.datetime | None = None
        self._loaded = False

    @property
    def facets(self) -> Mapping[str, Facets]:
        """The day and categories of each visible paper."""
        return _FacetView(self._table)

    @property
    def titles(self) -> _TitleView:
        """Title keys (see `title_key`) to the visible paper of that title."""
        return _TitleView(self._table)

    @property
    def facets_path(self) -> Path:
        """The facets file: what search needs to open, beside the indexes."""
        return self.folder / FILE_NAME

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
            if papers_changed != self._papers_mark or papers_changed != self._table.mark:
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
            # The facets follow the same batches (on a copy: searches on other threads keep a
            # whole table), so the import needs no read of the store at its end.
            table = self._table if self._loaded else self._open_facets()
            facets = table.copy() if table.mark == start else None
            hidden: list[str] = []

            def on_stored(records: list[PaperRecord]) -> None:
                # An empty index holds none of them, unless an earlier batch brought it.
                again = [r.paper_id for r in records if not empty or r.paper_id in indexed]
                if again:
                    self.keyword.delete(again)
                self.keyword.add(records)
                indexed.update(r.paper_id for r in records)
                if facets is not None:
                    hidden.extend(facets.apply([facet_row(r) for r in records]))

            try:
                yield on_stored
            except BaseException:
                self.keyword.close()
                raise
            with self.db.read() as conn:
                marks = store_marks(conn)
            self.keyword.commit()
            in_step = self.keyword.count() == marks.visible_papers
            if in_step:
                self.keyword.set_meta({"papers_modified_at": _iso(marks.papers_modified_at)})
                self.keyword.commit()
                self._papers_mark = marks.papers_modified_at
            else:  # another process changed papers meanwhile: the next look catches up
                logger.info("store changed during the import; the keyword index will catch up")
            # The facets file follows, so the next process to search opens without walking the
            # store: from the import's own batches, else by a light query of the changed papers.
            if facets is not None and in_step and len(facets) == marks.visible_papers:
                facets.mark = marks.papers_modified_at
                self._table = facets
                self._save_facets(facets)
            else:
                self._table = table
                hidden = self._sync_facets(save_after=0)
            if hidden and self.vectors is not None:
                self.vectors.remove(hidden)

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
        """Open the facets file (rebuilt if unusable) and the vector index, both from disk."""
        self._table = self._open_facets()
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

    def _open_facets(self) -> FacetTable:
        """The saved facets, if usable and not ahead of the store; else rebuilt and saved."""
        try:
            table = FacetTable.load(self.facets_path)
        except UnusableFacets as exc:
            logger.info("%s: rebuilding the search facets from the store", exc)
            return self._build_facets()
        with self.db.read() as conn:
            marks = store_marks(conn)
        latest = marks.papers_modified_at
        if table.mark is not None and (latest is None or table.mark > latest):
            logger.info("search facets reflect a newer store than this one: rebuilding them")
            return self._build_facets()
        if table.mark == latest and len(table) != marks.visible_papers:
            logger.info(
                "search facets hold %d papers, the store %d: rebuilding them",
                len(table),
                marks.visible_papers,
            )
            return self._build_facets()
        return table

    def _build_facets(self) -> FacetTable:
        """Read the facets of every visible paper from the store (one light query) and save."""
        with self.db.read() as conn:
            marks = store_marks(conn)
            table = FacetTable.build(
                iter_paper_facets(conn, include_hidden=False), mark=marks.papers_modified_at
            )
        self._save_facets(table)
        return table

    def _sync_facets(self, *, save_after: int | None = None) -> list[str]:
        """Catch the facets up with the store's changed papers; return the ids now hidden.

        The file is saved when at least `save_after` (FACETS_SAVE_AFTER) papers were read.
        """
        save_after = FACETS_SAVE_AFTER if save_after is None else save_after
        hidden: list[str] = []
        read = 0
        with self.db.read() as conn:
            latest = latest_change(conn)
            if latest == self._table.mark:
                return hidden
            # Changed on a copy: searches on other threads read the table without the lock.
            table = self._table.copy()
            for batch in iter_paper_facets(conn, modified_since=table.mark):
                hidden.extend(table.apply(batch))
                read += len(batch)
        table.mark = latest
        self._table = table
        if read >= save_after and saved_mark(self.facets_path) != _iso(latest):
            self._save_facets(self._table)
        return hidden

    def _save_facets(self, table: FacetTable) -> None:
        try:
            table.save(self.facets_path)
        except OSError as exc:  # a read-only data folder: search still works, opening is slower
            logger.warning("could not save the search facets to %s: %s", self.facets_path, exc)

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
        return self._table.allowed(since=since, until=until, categories=categories)

    def category_counts(self) -> list[tuple[str, int]]:
        """How many visible papers list each category (primary or cross-listed), most first."""
        self.ensure_fresh()
        return self._table.category_counts()

    def _sync_papers(self) -> None:
        """Bring the keyword index and facets up to the store's latest paper change."""
        hidden = self._sync_facets()
        if hidden and self.vectors is not None:
            self.vectors.remove(hidden)
        with self.db.read() as conn:
            marks = store_marks(conn)
            if marks.papers_modified_at == self._papers_mark:
                return
            # Another process (an import) may have brought the keyword index up to date.
            self.keyword.reload()
            stored = _parse(self.keyword.meta().get("papers_modified_at"))
            if stored == marks.papers_modified_at:
                self._papers_mark = stored
                return
            try:
                for batch in iter_papers(conn, modified_since=stored):
                    self.keyword.upsert(batch)
                self.keyword.set_meta({"papers_modified_at": _iso(marks.papers_modified_at)})
                self.keyword.commit()
            except KeywordIndexLocked:
                logger.info("keyword index busy in another process; it will catch up there")
                self.keyword.reload()
                return
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
        """Persist the vector index (the keyword index and the facets persist as they change)."""
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

                table = FacetTable.empty(mark=marks.papers_modified_at)

                def records() -> Any:
                    for batch in iter_papers(conn, include_hidden=False):
                        table.apply([facet_row(record) for record in batch])
                        yield from batch
                        if progress is not None:
                            progress(len(batch))

                self.keyword.rebuild_from(
                    records(), meta={"papers_modified_at": _iso(marks.papers_modified_at)}
                )
            self._save_facets(table)
            self._load()  # the facets just saved, and the vector index from disk
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
