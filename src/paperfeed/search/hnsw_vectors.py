"""Approximate cosine search on a usearch HNSW graph, and its settings; the vector index's backend
above its exact threshold.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final, Literal, TypedDict

import numpy as np

from paperfeed.search.vector_files import corrupt
from paperfeed.search.vector_rows import FloatArray, RowArray

if TYPE_CHECKING:
    from usearch.index import Index

# HNSW over-fetch for filtered searches grows 4x per round up to this many candidates (ef=2,560
# costs ~13 ms), then the filter runs over every paper and those passing are scored exactly.
HNSW_MAX_FETCH: Final = 10_000
# With `mask_ids` of at most this many papers, HNSW mode scores just their vectors exactly
# (reading a vector back from the graph costs ~2 µs: ~8 ms for 4,000); more ids filter HNSW
# results by membership, since turning 100k ids into rows alone takes ~60 ms at 1M.
HNSW_SUBSET_LIMIT: Final = 4_000


def _usearch() -> ModuleType:
    """usearch's index module, loaded on first use (a keyword-only hub never pays its 30 MB).

    onnxruntime must load before usearch: usearch's wheel links libstdc++ statically and
    exports its locale facet ids as GNU-unique symbols; onnxruntime loaded after it binds to
    those and segfaults on import (in std::codecvt). Loaded first, it makes usearch bind to the
    system's.
    """
    import onnxruntime  # noqa: F401
    from usearch import index

    return index


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


class HnswVectors:
    """A usearch HNSW graph over cosine distance; keys are row numbers."""

    kind = "hnsw"
    suffix = "usearch"

    def __init__(self, index: Index, *, viewed: bool) -> None:
        self.index = index
        self.viewed = viewed  # a read-only memory map of a saved file

    @classmethod
    def build(cls, rows: RowArray, matrix: FloatArray, config: HnswConfig) -> HnswVectors:
        index = _usearch().Index(
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
        assert isinstance(found, _usearch().Matches)
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

    def writable(self) -> HnswVectors:
        """Return self, or an in-memory copy when this is a read-only view of a file."""
        return HnswVectors(self.index.copy(), viewed=False) if self.viewed else self

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
    def load(cls, path: Path, *, count: int, dim: int, config: HnswConfig) -> HnswVectors:
        try:
            index = _usearch().Index.restore(
                path, view=True, expansion_search=config.expansion_search
            )
        except (RuntimeError, ValueError) as error:
            raise corrupt(path, f"unreadable ({error})") from error
        if index is None or index.ndim != dim or len(index) != count:
            raise corrupt(path, f"not an HNSW index of {count} vectors of {dim} numbers")
        return cls(index, viewed=True)
