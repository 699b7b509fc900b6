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
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
from usearch.index import Index, Matches

FloatArray = npt.NDArray[np.float32]
RowArray = npt.NDArray[np.int64]
IdArray = npt.NDArray[np.bytes_]

# Exact search took 3.3 ms a query at 100k and ~37 ms at 1M on 2 idle cores: ~250k fit in 10 ms.
DEFAULT_EXACT_THRESHOLD: Final = 200_000
FORMAT: Final = 1
MANIFEST: Final = "vectors.json"
# HNSW over-fetch for filtered searches grows 4x per round up to this many candidates (ef=2,560
# costs ~13 ms), then the filter runs over every paper and those passing are scored exactly.
HNSW_MAX_FETCH: Final = 10_000
# With `mask_ids` of at most this many papers, HNSW mode scores just their vectors exactly
# (reading a vector back from the graph costs ~2 µs: ~8 ms for 4,000); more ids filter HNSW
# results by membership, since turning 100k ids into rows alone takes ~60 ms at 1M.
HNSW_SUBSET_LIMIT: Final = 4_000
# Over-fetch rounds of a search that may come back short (`complete=False`).
INCOMPLETE_ROUNDS: Final = 2


class HnswParams(TypedDict, total=False):
    """The HNSW knobs `VectorIndex.build` accepts; see `HnswConfig` for the defaults."""

    dtype: Literal["bf16", "f16", "f32"]
    connectivity: int
    expansion_add: int
    expansion_search: int


@dataclass(frozen=True, slots=True)
class HnswConfig:
    """usearch HNSW settings, chosen by `bench/vectors.py` (recall@10 >= 0.98 at 1M, <= 1 GB)."""

    dtype: Literal["bf16", "f16", "f32"] = "bf16"  # bf16 has AVX-512 kernels; int8 stalls ~0.84
    connectivity: int = 16  # "M": 32 would add ~130 MB per million papers
    expansion_add: int = 128  # "efConstruction"
    expansion_search: int = 512  # "ef": 0.983 at 1M (256: 0.974); more results widen it to fit

    def __post_init__(self) -> None:
        if self.dtype not in ("bf16", "f16", "f32"):
            raise ValueError(f"HNSW dtype must be bf16, f16 or f32, not {self.dtype!r}")
        for name in ("connectivity", "expansion_add", "expansion_search"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 2:
                raise ValueError(f"HNSW {name} must be an integer of at least 2")


class CorruptIndexError(RuntimeError):
    """A saved vector index cannot be used; rebuild it from the store."""


class VectorIndex:
    """Cosine similarity search over unit vectors keyed by paper id.

    Searches may run from many threads at once. Changes (`upsert`, `remove`) are serialised by
    a writer mutex and applied under a short exclusive lock, so searches never see half a change.
    """

    def __init__(
        self, ids: _IdMap, backend: _Backend, *, exact_threshold: int, config: HnswConfig
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
        keys = _encode_ids(ids)
        matrix = _unit_rows(vectors, dim=None, count=len(keys))
        id_map = _IdMap(keys)
        backend: _Backend
        if len(keys) > exact_threshold:
            backend = _HnswVectors.build(np.arange(len(keys)), matrix, config)
        else:
            backend = _ExactVectors(matrix)
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
            if isinstance(self._backend, _HnswVectors):
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

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add papers or replace their vectors; switch to HNSW once past the exact threshold."""
        keys = _encode_ids(ids)
        with self._write_mutex:
            id_map, backend = self._ids, self._backend
            matrix = _unit_rows(vectors, dim=backend.dim, count=len(keys))
            if len(keys) == 0:
                return
            rows = id_map.rows_of(ids)
            known = rows >= 0
            if isinstance(backend, _ExactVectors):
                new_ids, _ = id_map.appended(keys[~known])
                grown = np.concatenate([backend.matrix, matrix[~known]])
                grown[rows[known]] = matrix[known]
                new_backend: _Backend
                if len(new_ids) > self._exact_threshold:
                    new_backend = _HnswVectors.build(np.arange(len(grown)), grown, self._config)
                else:
                    new_backend = _ExactVectors(grown)
                self._swap(new_ids, new_backend)
                return
            assert isinstance(backend, _HnswVectors)
            # A replaced paper gets a fresh row: its old one is tombstoned in the graph.
            new_ids, new_rows = id_map.without(rows[known]).appended(keys)

            def replace_rows(hnsw: _HnswVectors) -> None:
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
            if isinstance(backend, _ExactVectors):
                keep = np.ones(id_map.row_count, dtype=np.bool_)
                keep[rows] = False
                self._swap(_IdMap(id_map.row_ids[keep]), _ExactVectors(backend.matrix[keep]))
                return
            assert isinstance(backend, _HnswVectors)
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
            ids_file = _write_file(
                folder / f"vectors-{generation}.ids.npy",
                lambda path: _save_npy(path, id_map.row_ids),
            )
            vectors_file = _write_file(
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
            _fsync_folder(folder)
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
            raise _corrupt(manifest_path, f"unreadable manifest ({error})") from error
        if fmt != FORMAT:
            raise _corrupt(manifest_path, f"format {fmt!r}, this version reads {FORMAT}")
        if kind not in ("exact", "hnsw") or not isinstance(state, dict):
            raise _corrupt(manifest_path, "unknown index kind or state")
        ids_path = _checked_file(folder, ids_entry)
        vectors_path = _checked_file(folder, vectors_entry)
        try:
            row_ids = np.load(ids_path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise _corrupt(ids_path, f"unreadable ({error})") from error
        if row_ids.ndim != 1 or row_ids.dtype.kind != "S":
            raise _corrupt(ids_path, "not a list of ids")
        id_map = _IdMap(row_ids)
        if len(id_map) != count:
            raise _corrupt(ids_path, f"{len(id_map)} ids, the manifest says {count}")
        backend: _Backend
        if kind == "exact":
            backend = _ExactVectors.load(vectors_path, rows=len(row_ids), dim=dim)
        else:
            backend = _HnswVectors.load(vectors_path, count=count, dim=dim, config=config)
        index = cls(id_map, backend, exact_threshold=exact_threshold, config=config)
        return index, state

    def _swap(self, ids: _IdMap, backend: _Backend) -> None:
        with self._lock.writing():
            self._ids, self._backend = ids, backend

    def _change_graph(
        self, backend: _HnswVectors, ids: _IdMap, change: Callable[[_HnswVectors], None]
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


class _IdMap:
    """Paper id of each row, and row of each id by binary search: ~30 bytes a paper, not ~140.

    Immutable: a change makes a new map, so a writer can prepare it while searches run.
    """

    def __init__(self, row_ids: IdArray, *, sorted_rows: RowArray | None = None) -> None:
        self.row_ids = row_ids  # b"" marks a row removed from the HNSW graph
        if sorted_rows is None:
            live = np.flatnonzero(row_ids != b"")
            sorted_rows = live[np.argsort(row_ids[live], kind="stable")].astype(np.int64)
        self._sorted_rows: RowArray = sorted_rows
        self._sorted_ids: IdArray = row_ids[sorted_rows]

    def __len__(self) -> int:
        return len(self._sorted_rows)

    @property
    def live_rows(self) -> RowArray:
        return self._sorted_rows

    @property
    def row_count(self) -> int:
        return len(self.row_ids)

    @property
    def nbytes(self) -> int:
        return self.row_ids.nbytes + self._sorted_rows.nbytes + self._sorted_ids.nbytes

    def id_at(self, row: int) -> str:
        return str(self.row_ids[row].decode())

    def rows_of(self, ids: Iterable[str]) -> RowArray:
        """Return the row of each id, -1 where unknown."""
        keys = np.array([paper_id.encode() for paper_id in ids], dtype=np.bytes_)
        if len(keys) == 0 or len(self._sorted_ids) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        width = self._sorted_ids.dtype
        too_long = (
            np.char.str_len(keys) > width.itemsize
            if keys.dtype.itemsize > width.itemsize
            else np.zeros(len(keys), dtype=np.bool_)
        )
        keys = keys.astype(width)  # truncates the too-long ones, masked out below
        at = np.minimum(np.searchsorted(self._sorted_ids, keys), len(self._sorted_ids) - 1)
        found = (self._sorted_ids[at] == keys) & ~too_long
        return np.where(found, self._sorted_rows[at], -1).astype(np.int64)

    def appended(self, keys: IdArray) -> tuple[_IdMap, RowArray]:
        """Return a map with `keys` (unknown ids) added as new rows, and those rows."""
        new_rows = np.arange(self.row_count, self.row_count + len(keys), dtype=np.int64)
        width = np.dtype(f"S{max(self.row_ids.dtype.itemsize, keys.dtype.itemsize, 1)}")
        row_ids = np.concatenate([self.row_ids.astype(width), keys.astype(width)])
        order = np.argsort(keys, kind="stable")
        at = np.searchsorted(self._sorted_ids.astype(width), keys[order].astype(width))
        sorted_rows = np.insert(self._sorted_rows, at, new_rows[order])
        return _IdMap(row_ids, sorted_rows=sorted_rows), new_rows

    def without(self, rows: RowArray) -> _IdMap:
        """Return a map with `rows` marked removed (their row numbers stay taken)."""
        row_ids = self.row_ids.copy()
        row_ids[rows] = b""
        return _IdMap(row_ids, sorted_rows=self._sorted_rows[~np.isin(self._sorted_rows, rows)])


def _encode_ids(ids: Sequence[str]) -> IdArray:
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of paper ids, not one string")
    encoded = [paper_id.encode() for paper_id in ids]
    if any(not key or b"\0" in key for key in encoded):
        raise ValueError("paper ids must be non-empty and free of NUL characters")
    if len(set(encoded)) != len(encoded):
        raise ValueError("paper ids must be unique within one call")
    return np.array(encoded, dtype=np.bytes_) if encoded else np.zeros(0, dtype="S1")


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


def _rank(scores: FloatArray, first: int) -> Iterator[RowArray]:
    """Yield the positions of the best `first`, then 4x as many…, best first, until all."""
    wanted = first
    while wanted < len(scores):
        top = np.argpartition(-scores, wanted - 1)[:wanted]
        yield top[np.argsort(-scores[top], kind="stable")].astype(np.int64)
        wanted *= 4
    yield np.argsort(-scores, kind="stable").astype(np.int64)


def _subset_rankings(
    rows: RowArray, scores: FloatArray, first: int
) -> Iterator[tuple[RowArray, FloatArray]]:
    for order in _rank(scores, first):
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
        self, ids: _IdMap, *, excluded: set[int], allowed: Callable[[str], bool] | None
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


class _ExactVectors:
    """All unit vectors in one float32 matrix, scored by a matrix-vector product (BLAS)."""

    kind = "exact"
    suffix = "f32.npy"

    def __init__(self, matrix: FloatArray) -> None:
        self.matrix = matrix  # may be a read-only memory map; changes build a new matrix

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes)

    def prefers_subset(self, rows: int, *, k: int) -> bool:
        return rows * 4 <= len(self.matrix)

    def rankings(self, q: FloatArray, first: int) -> Iterator[tuple[RowArray, FloatArray]]:
        scores = self.matrix @ q
        for order in _rank(scores, first):
            yield order, scores[order]

    def score(self, q: FloatArray, rows: RowArray) -> FloatArray:
        scores: FloatArray = self.matrix[rows] @ q
        return scores

    def vectors(self, rows: RowArray) -> FloatArray:
        return np.asarray(self.matrix[rows], dtype=np.float32)

    def save(self, path: Path) -> None:
        _save_npy(path, np.asarray(self.matrix))

    @classmethod
    def load(cls, path: Path, *, rows: int, dim: int) -> _ExactVectors:
        try:
            matrix = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise _corrupt(path, f"unreadable ({error})") from error
        if matrix.dtype != np.float32 or matrix.shape != (rows, dim):
            raise _corrupt(path, f"{matrix.dtype} {matrix.shape}, expected float32 ({rows}, {dim})")
        return cls(matrix)


class _HnswVectors:
    """A usearch HNSW graph over cosine distance; keys are row numbers."""

    kind = "hnsw"
    suffix = "usearch"

    def __init__(self, index: Index, *, viewed: bool) -> None:
        self.index = index
        self.viewed = viewed  # a read-only memory map of a saved file

    @classmethod
    def build(cls, rows: RowArray, matrix: FloatArray, config: HnswConfig) -> _HnswVectors:
        index = Index(
            ndim=matrix.shape[1],
            metric="cos",
            dtype=config.dtype,
            connectivity=config.connectivity,
            expansion_add=config.expansion_add,
            expansion_search=config.expansion_search,
        )
        hnsw = cls(index, viewed=False)
        hnsw.add(rows, matrix)
        return hnsw

    @property
    def dim(self) -> int:
        return int(self.index.ndim)

    @property
    def nbytes(self) -> int:
        return int(self.index.memory_usage)

    def prefers_subset(self, rows: int, *, k: int) -> bool:
        """Score the allowed papers exactly when few, or when HNSW would need too many results."""
        return rows <= HNSW_SUBSET_LIMIT or 2 * k * len(self.index) > HNSW_MAX_FETCH * rows

    def rankings(self, q: FloatArray, first: int) -> Iterator[tuple[RowArray, FloatArray]]:
        """Yield HNSW results for `first`, 4x, 16x… candidates, up to HNSW_MAX_FETCH."""
        size = len(self.index)
        wanted = first
        while True:
            yield self._search(q, min(wanted, size))
            wanted *= 4
            if wanted // 4 >= size or wanted > HNSW_MAX_FETCH:
                return

    def _search(self, q: FloatArray, count: int) -> tuple[RowArray, FloatArray]:
        found = self.index.search(q, count, threads=1)
        assert isinstance(found, Matches)
        return found.keys.astype(np.int64), (1.0 - found.distances).astype(np.float32)

    def score(self, q: FloatArray, rows: RowArray) -> FloatArray:
        """Score rows exactly on their stored vectors (~2 ms a thousand), in bounded chunks."""
        parts = [self.vectors(rows[at : at + 50_000]) @ q for at in range(0, len(rows), 50_000)]
        scores: FloatArray = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return scores

    def vectors(self, rows: RowArray) -> FloatArray:
        found = self.index.get(rows.astype(np.uint64), dtype="f32")
        assert isinstance(found, tuple)
        rows_found = [vector for vector in found if vector is not None]
        assert len(rows_found) == len(rows), "asked for the vector of a removed row"
        return np.vstack(rows_found).astype(np.float32, copy=False)

    def writable(self) -> _HnswVectors:
        """Return self, or an in-memory copy when this is a read-only view of a file."""
        return _HnswVectors(self.index.copy(), viewed=False) if self.viewed else self

    def add(self, rows: RowArray, matrix: FloatArray) -> None:
        # Concurrent inserts into a small graph leave a few nodes unreachable (measured: 0.3% of
        # 500 random vectors could not find themselves; none with one thread). One thread is
        # also deterministic, and as fast below ~10k vectors.
        threads = 1 if len(rows) < 10_000 else 0
        if len(rows):
            self.index.add(rows.astype(np.uint64), matrix, threads=threads)

    def remove(self, rows: RowArray) -> None:
        if len(rows):
            self.index.remove(rows.astype(np.uint64))

    def save(self, path: Path) -> None:
        self.index.save(os.fspath(path))

    @classmethod
    def load(cls, path: Path, *, count: int, dim: int, config: HnswConfig) -> _HnswVectors:
        try:
            index = Index.restore(path, view=True, expansion_search=config.expansion_search)
        except (RuntimeError, ValueError) as error:
            raise _corrupt(path, f"unreadable ({error})") from error
        if index is None or index.ndim != dim or len(index) != count:
            raise _corrupt(path, f"not an HNSW index of {count} vectors of {dim} numbers")
        return cls(index, viewed=True)


_Backend = _ExactVectors | _HnswVectors


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as out:
        np.save(out, array, allow_pickle=False)


def _write_file(path: Path, write: Callable[[Path], None]) -> dict[str, Any]:
    """Write through a temporary name, fsync, rename; return the manifest entry (size, CRC-32)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        entry = {"name": path.name, "bytes": tmp.stat().st_size, "crc32": _crc32(tmp)}
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return entry


def _checked_file(folder: Path, entry: Any) -> Path:
    """Return the path of a manifest entry after checking its size and CRC-32 (~0.3 s a GB).

    Reading the file also warms the page cache, so the first searches do not wait on the disk.
    """
    try:
        name, size, crc = str(entry["name"]), int(entry["bytes"]), int(entry["crc32"])
    except (TypeError, KeyError, ValueError) as error:
        raise _corrupt(folder / MANIFEST, f"bad file entry {entry!r}") from error
    path = folder / name
    if Path(name).name != name or not path.is_file():
        raise _corrupt(path, "missing")
    if path.stat().st_size != size:
        raise _corrupt(path, f"{path.stat().st_size} bytes, expected {size} (truncated?)")
    if _crc32(path) != crc:
        raise _corrupt(path, "checksum mismatch")
    return path


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as data:
        while chunk := data.read(16 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _corrupt(path: Path, why: str) -> CorruptIndexError:
    return CorruptIndexError(f"vector index {path}: {why}; rebuild needed (`paperfeed index`)")


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
