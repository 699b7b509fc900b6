"""VectorIndex: cosine search over paper vectors, exact (numpy) when small, usearch HNSW when large.

Derived from the vectors in the store; saved to and loaded from its own folder beside the database.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Final, Unpack

import numpy as np

from paperfeed.search.exact_vectors import ExactVectors, rank
from paperfeed.search.hnsw_vectors import HnswConfig, HnswParams, HnswVectors
from paperfeed.search.vector_files import (
    FORMAT,
    MANIFEST,
    checked_file,
    corrupt,
    fsync_folder,
    save_npy,
    write_file,
)
from paperfeed.search.vector_rows import FloatArray, IdMap, RowArray, encode_ids

# Exact search took 3.3 ms a query at 100k and ~37 ms at 1M on 2 idle cores: ~250k fit in 10 ms.
DEFAULT_EXACT_THRESHOLD: Final = 200_000
# Over-fetch rounds of a search that may come back short (`complete=False`).
INCOMPLETE_ROUNDS: Final = 2

_Backend = ExactVectors | HnswVectors


class VectorIndex:
    """Cosine similarity search over unit vectors keyed by paper id.

    Searches may run from many threads at once. Changes (`upsert`, `remove`) are serialised by
    a writer mutex and applied under a short exclusive lock, so searches never see half a change.
    """

    def __init__(
        self, ids: IdMap, backend: _Backend, *, exact_threshold: int, config: HnswConfig
    ) -> None:
        self._ids = ids
        self._backend = backend
        self._exact_threshold = exact_threshold
        self._config = config
        self._lock = _ReadWriteLock()
        self._write_mutex = threading.Lock()

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        exact_threshold: int = DEFAULT_EXACT_THRESHOLD,
        **hnsw_params: Unpack[HnswParams],
    ) -> VectorIndex:
        """Index `vectors` (one row per id): exact up to `exact_threshold` papers, HNSW above."""
        config = HnswConfig(**hnsw_params)
        keys = encode_ids(ids)
        matrix = _unit_rows(vectors, dim=None, count=len(keys))
        id_map = IdMap(keys)
        backend: _Backend
        if len(keys) > exact_threshold:
            backend = HnswVectors.build(np.arange(len(keys)), matrix, config)
        else:
            backend = ExactVectors(matrix)
        return cls(id_map, backend, exact_threshold=exact_threshold, config=config)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def kind(self) -> str:
        """Return "exact" or "hnsw"."""
        return self._backend.kind

    @property
    def dim(self) -> int:
        """Return the number of dimensions of the vectors."""
        return self._backend.dim

    @property
    def nbytes(self) -> int:
        """Return the bytes the vectors, graph and id arrays take (mapped files in full)."""
        return self._backend.nbytes + self._ids.nbytes

    def set_expansion_search(self, expansion_search: int) -> None:
        """Trade latency for recall at search time (HNSW "ef"); takes effect without a rebuild."""
        with self._write_mutex, self._lock.writing():
            self._config = replace(self._config, expansion_search=expansion_search)
            if isinstance(self._backend, HnswVectors):
                # usearch defines this setter apart from its getter, which mypy reads as read-only
                self._backend.index.expansion_search = expansion_search  # type: ignore[misc]

    def search(
        self,
        query: np.ndarray,
        *,
        k: int = 10,
        allowed: Callable[[str], bool] | None = None,
        exclude: Collection[str] = (),
        mask_ids: Collection[str] | None = None,
        complete: bool = True,
    ) -> list[tuple[str, float]]:
        """Find the `k` papers most similar to `query`, best first, as (paper_id, cosine).

        `allowed` filters by paper id. `mask_ids` gives the allowed ids as a set instead: a few
        are scored directly, so selective filters stay fast. `exclude` drops ids (the query
        paper itself, say). When a filter lets through few of the approximate neighbours (a
        query far from every allowed paper), `complete` scores every allowed paper to fill `k`
        (seconds at 1M when the filter is wide); `complete=False` returns what passed instead.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        if isinstance(exclude, str) or isinstance(mask_ids, str):
            raise TypeError("exclude and mask_ids take collections of paper ids, not one string")
        with self._lock.reading():
            ids, backend = self._ids, self._backend
            q = _unit_query(query, backend.dim)
            if len(ids) == 0:
                return []
            excluded = {int(row) for row in ids.rows_of(exclude) if row >= 0}
            first = 4 * k + len(excluded)
            rankings: Iterator[tuple[RowArray, FloatArray]]
            exhaustive = True  # the last ranking holds every candidate
            if mask_ids is not None and backend.prefers_subset(len(mask_ids), k=k):
                rows = np.unique(ids.rows_of(mask_ids))
                rows = rows[rows >= 0]
                rankings = _subset_rankings(rows, backend.score(q, rows), first)
            else:
                if mask_ids is not None:  # many ids: test membership, as cheap as a lookup
                    allowed = _both(mask_ids.__contains__, allowed)
                rankings = backend.rankings(q, first)
                exhaustive = backend.kind == "exact"
                if not exhaustive and not complete:
                    # Two rounds (4·k, then 16·k neighbours): the third (64·k, ~13 ms at 1M) is
                    # where far-from-the-filter queries spent their time, and found little.
                    rankings = itertools.islice(rankings, INCOMPLETE_ROUNDS)
            passes = _Filter(ids, excluded=excluded, allowed=allowed)
            hits = _walk(rankings, k, passes)
            if len(hits) < k and not exhaustive and complete:
                # HNSW over-fetch ran out before k papers passed: score every passing paper.
                rows = passes.rows()
                hits = _walk(_subset_rankings(rows, backend.score(q, rows), k), k, passes)
            return [(ids.id_at(row), min(1.0, max(-1.0, score))) for row, score in hits]

    def vector(self, paper_id: str) -> np.ndarray | None:
        """Return the stored unit vector of a paper (bf16-rounded under HNSW), or None."""
        with self._lock.reading():
            row = int(self._ids.rows_of([paper_id])[0])
            if row < 0:
                return None
            vector: FloatArray = self._backend.vectors(np.array([row], dtype=np.int64))[0].copy()
            return vector

    def vectors_of(self, paper_ids: Iterable[str]) -> tuple[list[str], FloatArray]:
        """Return the papers among `paper_ids` that have a vector, and their unit vectors (one
        row each, in that order): one look-up for many papers."""
        wanted = list(paper_ids)
        with self._lock.reading():
            rows = self._ids.rows_of(wanted)
            known = rows >= 0
            if not known.any():
                return [], np.zeros((0, self._backend.dim), dtype=np.float32)
            matrix = self._backend.vectors(rows[known]).astype(np.float32, copy=True)
        return [pid for pid, ok in zip(wanted, known, strict=True) if ok], matrix

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add papers or replace their vectors; switch to HNSW once past the exact threshold."""
        keys = encode_ids(ids)
        with self._write_mutex:
            id_map, backend = self._ids, self._backend
            matrix = _unit_rows(vectors, dim=backend.dim, count=len(keys))
            if len(keys) == 0:
                return
            rows = id_map.rows_of(ids)
            known = rows >= 0
            if isinstance(backend, ExactVectors):
                new_ids, _ = id_map.appended(keys[~known])
                grown = np.concatenate([backend.matrix, matrix[~known]])
                grown[rows[known]] = matrix[known]
                new_backend: _Backend
                if len(new_ids) > self._exact_threshold:
                    new_backend = HnswVectors.build(np.arange(len(grown)), grown, self._config)
                else:
                    new_backend = ExactVectors(grown)
                self._swap(new_ids, new_backend)
                return
            assert isinstance(backend, HnswVectors)
            # A replaced paper gets a fresh row: its old one is tombstoned in the graph.
            new_ids, new_rows = id_map.without(rows[known]).appended(keys)

            def replace_rows(hnsw: HnswVectors) -> None:
                hnsw.remove(rows[known])
                hnsw.add(new_rows, matrix)

            self._change_graph(backend, new_ids, replace_rows)

    def remove(self, ids: Iterable[str]) -> None:
        """Drop papers from the index; unknown ids are ignored."""
        with self._write_mutex:
            id_map, backend = self._ids, self._backend
            rows = np.unique(id_map.rows_of(list(ids)))
            rows = rows[rows >= 0]
            if len(rows) == 0:
                return
            if isinstance(backend, ExactVectors):
                keep = np.ones(id_map.row_count, dtype=np.bool_)
                keep[rows] = False
                self._swap(IdMap(id_map.row_ids[keep]), ExactVectors(backend.matrix[keep]))
                return
            assert isinstance(backend, HnswVectors)
            self._change_graph(backend, id_map.without(rows), lambda hnsw: hnsw.remove(rows))

    def save(self, folder: Path, *, state: dict[str, Any]) -> None:
        """Write the index to `folder` atomically, with `state` (JSON values): what it reflects.

        Files of a save carry a fresh generation in their names; the manifest naming them is
        replaced last, by rename, so a crash leaves the previous save whole.
        """
        state_json = json.loads(json.dumps(state))  # fail early on values JSON cannot hold
        folder.mkdir(parents=True, exist_ok=True)
        with self._write_mutex:  # one consistent snapshot: no change lands mid-save
            id_map, backend = self._ids, self._backend
            generation = uuid.uuid4().hex[:16]
            ids_file = write_file(
                folder / f"vectors-{generation}.ids.npy",
                lambda path: save_npy(path, id_map.row_ids),
            )
            vectors_file = write_file(
                folder / f"vectors-{generation}.{backend.suffix}", backend.save
            )
            manifest = {
                "format": FORMAT,
                "kind": backend.kind,
                "dim": backend.dim,
                "count": len(id_map),
                "exact_threshold": self._exact_threshold,
                "hnsw": asdict(self._config),
                "files": {"ids": ids_file, "vectors": vectors_file},
                "state": state_json,
            }
            tmp = folder / f".{MANIFEST}.{generation}.tmp"
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump(manifest, out, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, folder / MANIFEST)
            fsync_folder(folder)
            for old in folder.glob("vectors-*"):
                if not old.name.startswith(f"vectors-{generation}."):
                    old.unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path) -> tuple[VectorIndex, dict[str, Any]] | None:
        """Load a saved index (memory-mapped) and its state; None when nothing was saved.

        Raises CorruptIndexError when the files are damaged or of another format: rebuild then.
        """
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            return None
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            kind, dim, count = manifest["kind"], int(manifest["dim"]), int(manifest["count"])
            fmt, state = manifest["format"], manifest["state"]
            files = manifest["files"]
            ids_entry, vectors_entry = files["ids"], files["vectors"]
            config = HnswConfig(**manifest["hnsw"])
            exact_threshold = int(manifest["exact_threshold"])
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise corrupt(manifest_path, f"unreadable manifest ({error})") from error
        if fmt != FORMAT:
            raise corrupt(manifest_path, f"format {fmt!r}, this version reads {FORMAT}")
        if kind not in ("exact", "hnsw") or not isinstance(state, dict):
            raise corrupt(manifest_path, "unknown index kind or state")
        ids_path = checked_file(folder, ids_entry)
        vectors_path = checked_file(folder, vectors_entry)
        try:
            row_ids = np.load(ids_path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise corrupt(ids_path, f"unreadable ({error})") from error
        if row_ids.ndim != 1 or row_ids.dtype.kind != "S":
            raise corrupt(ids_path, "not a list of ids")
        id_map = IdMap(row_ids)
        if len(id_map) != count:
            raise corrupt(ids_path, f"{len(id_map)} ids, the manifest says {count}")
        backend: _Backend
        if kind == "exact":
            backend = ExactVectors.load(vectors_path, rows=len(row_ids), dim=dim)
        else:
            backend = HnswVectors.load(vectors_path, count=count, dim=dim, config=config)
        index = cls(id_map, backend, exact_threshold=exact_threshold, config=config)
        return index, state

    def _swap(self, ids: IdMap, backend: _Backend) -> None:
        with self._lock.writing():
            self._ids, self._backend = ids, backend

    def _change_graph(
        self, backend: HnswVectors, ids: IdMap, change: Callable[[HnswVectors], None]
    ) -> None:
        """Change the graph in place while searches wait, or a copy of a memory-mapped one."""
        hnsw = backend.writable()
        if hnsw is backend:
            with self._lock.writing():
                change(hnsw)
                self._ids = ids
        else:
            change(hnsw)
            self._swap(ids, hnsw)


def _unit_rows(vectors: np.ndarray, *, dim: int | None, count: int) -> FloatArray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != count or (dim is not None and matrix.shape[1] != dim):
        want = f"{count}×{dim if dim is not None else 'dim'}"
        raise ValueError(f"expected a {want} matrix of vectors, got shape {matrix.shape}")
    if matrix.shape[1] == 0:
        raise ValueError("vectors need at least one dimension")
    norms = np.linalg.norm(matrix, axis=1)
    if not np.all(np.isfinite(norms)):
        raise ValueError("vectors must not hold NaN or infinite values")
    if np.any(norms == 0):
        raise ValueError(f"zero vectors have no direction (rows {np.flatnonzero(norms == 0)[:5]})")
    unit: FloatArray = matrix / norms[:, None]
    return unit


def _unit_query(query: np.ndarray, dim: int) -> FloatArray:
    q = np.asarray(query, dtype=np.float32)
    if q.ndim == 2 and q.shape[0] == 1:
        q = q[0]
    if q.ndim != 1 or q.shape[0] != dim:
        raise ValueError(f"query must be a vector of {dim} numbers, got shape {q.shape}")
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm):
        raise ValueError("query vector holds NaN or infinite values")
    if norm == 0.0:
        raise ValueError("query vector is zero: it has no direction to compare by cosine")
    unit: FloatArray = q / norm
    return unit


def _subset_rankings(
    rows: RowArray, scores: FloatArray, first: int
) -> Iterator[tuple[RowArray, FloatArray]]:
    for order in rank(scores, first):
        yield rows[order], scores[order]


def _both(
    in_mask: Callable[[str], bool], allowed: Callable[[str], bool] | None
) -> Callable[[str], bool]:
    if allowed is None:
        return in_mask
    return lambda paper_id: in_mask(paper_id) and allowed(paper_id)


class _Filter:
    """The search filters on rows: excluded rows and a predicate on ids, asked once per row."""

    def __init__(
        self, ids: IdMap, *, excluded: set[int], allowed: Callable[[str], bool] | None
    ) -> None:
        self.ids = ids
        self._excluded = excluded
        self._allowed = allowed
        self._verdicts: dict[int, bool] = {}

    def __call__(self, row: int) -> bool:
        if row in self._excluded:
            return False
        if self._allowed is None:
            return True
        verdict = self._verdicts.get(row)
        if verdict is None:
            verdict = self._verdicts[row] = bool(self._allowed(self.ids.id_at(row)))
        return verdict

    def rows(self) -> RowArray:
        """Return every live row that passes; the predicate runs over all papers (~0.15 s at 1M)."""
        rows = self.ids.live_rows
        if self._excluded:
            rows = rows[~np.isin(rows, list(self._excluded))]
        if self._allowed is None:
            return rows
        allowed, verdicts = self._allowed, self._verdicts
        keep = [
            verdict if (verdict := verdicts.get(row)) is not None else allowed(key.decode())
            for row, key in zip(rows.tolist(), self.ids.row_ids[rows].tolist(), strict=True)
        ]
        return rows[np.array(keep, dtype=np.bool_)] if keep else rows


def _walk(
    rankings: Iterator[tuple[RowArray, FloatArray]], k: int, passes: _Filter
) -> list[tuple[int, float]]:
    """Walk ever longer rankings until `k` rows pass the filters or the rankings end."""
    hits: list[tuple[int, float]] = []
    for rows, scores in rankings:
        hits = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if passes(row):
                hits.append((row, score))
                if len(hits) == k:
                    return hits
    return hits


class _ReadWriteLock:
    """Shared for searches, exclusive for swapping in a change; a waiting writer goes next."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
