"""Exact cosine search: all unit vectors in one float32 matrix, scored by a product (BLAS); the
vector index's backend up to its exact threshold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from paperfeed.search.vector_files import corrupt, save_npy
from paperfeed.search.vector_rows import FloatArray, RowArray


def rank(scores: FloatArray, first: int) -> Iterator[RowArray]:
    """Yield the positions of the best `first`, then 4x as many…, best first, until all."""
    wanted = first
    while wanted < len(scores):
        top = np.argpartition(-scores, wanted - 1)[:wanted]
        yield top[np.argsort(-scores[top], kind="stable")].astype(np.int64)
        wanted *= 4
    yield np.argsort(-scores, kind="stable").astype(np.int64)


class ExactVectors:
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
        for order in rank(scores, first):
            yield order, scores[order]

    def score(self, q: FloatArray, rows: RowArray) -> FloatArray:
        scores: FloatArray = self.matrix[rows] @ q
        return scores

    def vectors(self, rows: RowArray) -> FloatArray:
        return np.asarray(self.matrix[rows], dtype=np.float32)

    def save(self, path: Path) -> None:
        save_npy(path, np.asarray(self.matrix))

    @classmethod
    def load(cls, path: Path, *, rows: int, dim: int) -> ExactVectors:
        try:
            matrix = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise corrupt(path, f"unreadable ({error})") from error
        if matrix.dtype != np.float32 or matrix.shape != (rows, dim):
            raise corrupt(path, f"{matrix.dtype} {matrix.shape}, expected float32 ({rows}, {dim})")
        return cls(matrix)
