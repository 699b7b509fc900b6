"""The rows of the vector index: the paper id of each row and the row of each id, and the array
types of rows, ids and vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
RowArray = npt.NDArray[np.int64]
IdArray = npt.NDArray[np.bytes_]


class IdMap:
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

    def appended(self, keys: IdArray) -> tuple[IdMap, RowArray]:
        """Return a map with `keys` (unknown ids) added as new rows, and those rows."""
        new_rows = np.arange(self.row_count, self.row_count + len(keys), dtype=np.int64)
        width = np.dtype(f"S{max(self.row_ids.dtype.itemsize, keys.dtype.itemsize, 1)}")
        row_ids = np.concatenate([self.row_ids.astype(width), keys.astype(width)])
        order = np.argsort(keys, kind="stable")
        at = np.searchsorted(self._sorted_ids.astype(width), keys[order].astype(width))
        sorted_rows = np.insert(self._sorted_rows, at, new_rows[order])
        return IdMap(row_ids, sorted_rows=sorted_rows), new_rows

    def without(self, rows: RowArray) -> IdMap:
        """Return a map with `rows` marked removed (their row numbers stay taken)."""
        row_ids = self.row_ids.copy()
        row_ids[rows] = b""
        return IdMap(row_ids, sorted_rows=self._sorted_rows[~np.isin(self._sorted_rows, rows)])


def encode_ids(ids: Sequence[str]) -> IdArray:
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of paper ids, not one string")
    encoded = [paper_id.encode() for paper_id in ids]
    if any(not key or b"\0" in key for key in encoded):
        raise ValueError("paper ids must be non-empty and free of NUL characters")
    if len(set(encoded)) != len(encoded):
        raise ValueError("paper ids must be unique within one call")
    return np.array(encoded, dtype=np.bytes_) if encoded else np.zeros(0, dtype="S1")
