"""The facets (day, categories) and exact-title keys of the visible papers, held in numpy arrays.

Persisted beside the search indexes in one .npz file, written atomically with its format and the
store state it reflects, so that a process opens search without walking the papers table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from paperfeed.db.papers import PaperFacetRow
from paperfeed.models import PaperRecord, PaperStatus, normalize_space
from paperfeed.search.atomic_file import replace_file

# Bump when the arrays or their meaning change: a file of another format is rebuilt.
FORMAT: Final = 1
FILE_NAME: Final = "facets.npz"
_ARRAYS: Final = (
    "format",
    "mark",
    "ids",
    "day",
    "cat_offsets",
    "cat_codes",
    "categories",
    "title_hash",
    "title_offsets",
    "title_bytes",
)


class UnusableFacets(RuntimeError):
    """The facets file is missing, damaged or of another format: rebuild it from the store."""


@dataclass(frozen=True, slots=True)
class Facets:
    """What the filters need of a paper."""

    day: dt.date | None
    categories: frozenset[str]


def title_key(title: str) -> str:
    """Normalise a title for exact-title look-ups."""
    return normalize_space(title).casefold().rstrip(".")


def facet_row(record: PaperRecord) -> PaperFacetRow:
    """The facets of a paper record, as the store's facet query returns them."""
    return PaperFacetRow(
        record.paper_id,
        record.title,
        tuple(record.categories or ()),
        record.announced,
        record.submitted,
        record.status is PaperStatus.ACTIVE,
    )


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _title_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(_utf8(key), digest_size=8).digest(), "little")


def _day_ordinal(row: PaperFacetRow) -> int:
    # As `keyword.paper_day`: the announcement day, else the submission day; 0 is "no day".
    if row.announced is not None:
        return row.announced.toordinal()
    if row.submitted is not None:
        return row.submitted.date().toordinal()
    return 0


class FacetTable:
    """One row per paper: its day, categories and title key; rows of changed papers go dead.

    `mark` is the store state (latest paper change) the table reflects. Dead rows are dropped
    when the table is saved.
    """

    def __init__(
        self,
        *,
        ids: list[str],
        day: np.ndarray,
        cat_offsets: np.ndarray,
        cat_codes: np.ndarray,
        categories: list[str],
        title_hash: np.ndarray,
        title_offsets: np.ndarray,
        title_bytes: np.ndarray,
        mark: dt.datetime | None,
    ) -> None:
        self._ids = ids
        # Built on first use: a plain search asks no paper by id (0.1 s at 95k papers).
        self._rows: dict[str, int] | None = None
        self._alive = np.ones(len(ids), dtype=bool)
        self._day = day
        self._cat_offsets = cat_offsets
        self._cat_codes = cat_codes
        self._categories = categories
        self._code_of = {category: code for code, category in enumerate(categories)}
        self._title_hash = title_hash
        self._title_offsets = title_offsets
        self._title_bytes = title_bytes
        self._entry_rows: np.ndarray | None = None
        # Filters asked again and again (a digest's window, a category page): kept per table.
        self._allowed: dict[tuple[object, ...], frozenset[str]] = {}
        self.mark = mark

    @classmethod
    def empty(cls, *, mark: dt.datetime | None = None) -> FacetTable:
        """A table with no papers."""
        return cls(
            ids=[],
            day=np.zeros(0, np.int32),
            cat_offsets=np.zeros(1, np.int64),
            cat_codes=np.zeros(0, np.int32),
            categories=[],
            title_hash=np.zeros(0, np.uint64),
            title_offsets=np.zeros(1, np.int64),
            title_bytes=np.zeros(0, np.uint8),
            mark=mark,
        )

    @classmethod
    def build(
        cls, batches: Iterable[Sequence[PaperFacetRow]], *, mark: dt.datetime | None
    ) -> FacetTable:
        """A table of these papers (hidden ones left out)."""
        table = cls.empty(mark=mark)
        for batch in batches:
            table.apply(batch)
        return table

    def copy(self) -> FacetTable:
        """A table that `apply` can change while readers still use this one."""
        other = FacetTable.empty(mark=self.mark)
        other.__dict__.update(self.__dict__)
        other._ids = list(self._ids)
        other._rows = dict(self._rows) if self._rows is not None else None
        other._alive = self._alive.copy()
        other._categories = list(self._categories)
        other._code_of = dict(self._code_of)
        other._allowed = {}
        return other

    @property
    def _row(self) -> dict[str, int]:
        if self._rows is None:
            alive = self._alive.tolist()
            self._rows = {pid: row for row, pid in enumerate(self._ids) if alive[row]}
        return self._rows

    def __len__(self) -> int:
        return int(np.count_nonzero(self._alive))

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._row

    def paper_ids(self) -> list[str]:
        """The visible papers, oldest rows first."""
        return list(self._row)

    def apply(self, rows: Sequence[PaperFacetRow]) -> list[str]:
        """Take in changed papers (the last one of an id wins); return the ids now hidden."""
        latest = {row.paper_id: row for row in rows}
        hidden = []
        for paper_id, row in latest.items():
            old = self._row.pop(paper_id, None)
            if old is not None:
                self._alive[old] = False
                if not row.visible:
                    hidden.append(paper_id)
        added = [row for row in latest.values() if row.visible]
        if not added:
            return hidden
        start = len(self._ids)
        codes: list[int] = []
        counts: list[int] = []
        for row in added:
            counts.append(len(row.categories))
            for category in row.categories:
                code = self._code_of.get(category)
                if code is None:
                    code = self._code_of[category] = len(self._categories)
                    self._categories.append(category)
                codes.append(code)
        keys = [_utf8(title_key(row.title)) if row.title else b"" for row in added]
        self._ids.extend(row.paper_id for row in added)
        self._row.update((row.paper_id, start + i) for i, row in enumerate(added))
        self._alive = np.concatenate([self._alive, np.ones(len(added), dtype=bool)])
        days = np.array([_day_ordinal(row) for row in added], np.int32)
        self._day = np.concatenate([self._day, days])
        self._cat_offsets = np.concatenate(
            [self._cat_offsets, self._cat_offsets[-1] + np.cumsum(counts, dtype=np.int64)]
        )
        self._cat_codes = np.concatenate([self._cat_codes, np.array(codes, np.int32)])
        hashes = [
            _title_hash(key.decode("utf-8", "surrogatepass")) if row.title else 0
            for key, row in zip(keys, added, strict=True)
        ]
        self._title_hash = np.concatenate([self._title_hash, np.array(hashes, np.uint64)])
        self._title_offsets = np.concatenate(
            [
                self._title_offsets,
                self._title_offsets[-1] + np.cumsum([len(k) for k in keys], dtype=np.int64),
            ]
        )
        self._title_bytes = np.concatenate(
            [self._title_bytes, np.frombuffer(b"".join(keys), dtype=np.uint8)]
        )
        self._entry_rows = None
        self._allowed = {}
        return hidden

    def facets(self, paper_id: str) -> Facets | None:
        """The facets of a visible paper (None: not visible)."""
        row = self._row.get(paper_id)
        if row is None:
            return None
        day = int(self._day[row])
        codes = self._cat_codes[self._cat_offsets[row] : self._cat_offsets[row + 1]]
        return Facets(
            dt.date.fromordinal(day) if day else None,
            frozenset(self._categories[int(code)] for code in codes),
        )

    def _title_at(self, row: int) -> str:
        start, end = self._title_offsets[row], self._title_offsets[row + 1]
        return self._title_bytes[start:end].tobytes().decode("utf-8", "surrogatepass")

    def titled(self, key: str) -> str | None:
        """The visible paper with this title key (the lowest id when several share it)."""
        if not key:
            return None
        rows = np.flatnonzero((self._title_hash == np.uint64(_title_hash(key))) & self._alive)
        found = [self._ids[row] for row in rows.tolist() if self._title_at(row) == key]
        return min(found) if found else None

    def allowed(
        self,
        *,
        since: dt.date | None,
        until: dt.date | None,
        categories: Sequence[str] | None,
    ) -> frozenset[str]:
        """The visible papers of a day range (inclusive) in any of these categories."""
        key = (since, until, tuple(sorted(set(categories or ()))))
        cached = self._allowed.get(key)
        if cached is not None:
            return cached
        mask = self._alive.copy()
        if categories:
            codes = [c for c in map(self._code_of.get, set(categories)) if c is not None]
            if self._entry_rows is None:
                self._entry_rows = np.repeat(
                    np.arange(len(self._ids)), np.diff(self._cat_offsets)
                ).astype(np.int32)
            listed = np.zeros(len(self._ids), dtype=bool)
            listed[self._entry_rows[np.isin(self._cat_codes, codes)]] = True
            mask &= listed
        if since is not None or until is not None:
            low = since.toordinal() if since is not None else 1
            high = until.toordinal() if until is not None else dt.date.max.toordinal()
            mask &= (self._day >= low) & (self._day <= high)
        ids = self._ids
        result = frozenset([ids[row] for row in np.flatnonzero(mask).tolist()])
        if len(self._allowed) >= 64:
            self._allowed.clear()
        self._allowed[key] = result
        return result

    def category_counts(self) -> list[tuple[str, int]]:
        """How many visible papers list each category, most first, then by name."""
        if self._entry_rows is None:
            self._entry_rows = np.repeat(
                np.arange(len(self._ids)), np.diff(self._cat_offsets)
            ).astype(np.int32)
        live = self._cat_codes[self._alive[self._entry_rows]]
        counts = np.bincount(live, minlength=len(self._categories))
        found = [(self._categories[c], int(counts[c])) for c in np.flatnonzero(counts).tolist()]
        return sorted(found, key=lambda item: (-item[1], item[0]))

    def save(self, path: Path) -> None:
        """Write the live rows to `path` atomically (a temporary file, fsync, rename)."""
        live = np.flatnonzero(self._alive)
        cat_counts = np.diff(self._cat_offsets)[live]
        title_counts = np.diff(self._title_offsets)[live]
        arrays = {
            "format": np.array(FORMAT, np.int64),
            "mark": np.array(self.mark.isoformat() if self.mark is not None else ""),
            "ids": np.array([self._ids[row] for row in live.tolist()], dtype=np.str_),
            "day": self._day[live],
            "cat_offsets": np.concatenate([[0], np.cumsum(cat_counts)]).astype(np.int64),
            "cat_codes": self._cat_codes[_live_values(self._cat_offsets, self._alive)],
            "categories": np.array(self._categories, dtype=np.str_),
            "title_hash": self._title_hash[live],
            "title_offsets": np.concatenate([[0], np.cumsum(title_counts)]).astype(np.int64),
            "title_bytes": self._title_bytes[_live_values(self._title_offsets, self._alive)],
        }
        if arrays["ids"].size == 0:
            arrays["ids"] = np.zeros(0, dtype="<U1")
        if arrays["categories"].size == 0:
            arrays["categories"] = np.zeros(0, dtype="<U1")
        replace_file(path, lambda out: np.savez(out, allow_pickle=False, **arrays))

    @classmethod
    def load(cls, path: Path) -> FacetTable:
        """Read a saved table; raise UnusableFacets if missing, damaged or of another format."""
        try:
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as saved:
                if "format" not in saved.files or int(saved["format"]) != FORMAT:
                    raise UnusableFacets(f"{path} is of another format")
                missing = [name for name in _ARRAYS if name not in saved.files]
                if missing:
                    raise UnusableFacets(f"{path} lacks {', '.join(missing)}")
                arrays = {name: saved[name] for name in _ARRAYS}
        except FileNotFoundError:
            raise UnusableFacets(f"{path} is missing") from None
        except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise UnusableFacets(f"{path} is damaged ({error})") from error
        mark_text = str(arrays["mark"])
        table = cls(
            ids=arrays["ids"].tolist(),
            day=arrays["day"].astype(np.int32, copy=False),
            cat_offsets=arrays["cat_offsets"].astype(np.int64, copy=False),
            cat_codes=arrays["cat_codes"].astype(np.int32, copy=False),
            categories=arrays["categories"].tolist(),
            title_hash=arrays["title_hash"].astype(np.uint64, copy=False),
            title_offsets=arrays["title_offsets"].astype(np.int64, copy=False),
            title_bytes=arrays["title_bytes"].astype(np.uint8, copy=False),
            mark=dt.datetime.fromisoformat(mark_text) if mark_text else None,
        )
        if not table._consistent():
            raise UnusableFacets(f"{path} is damaged (inconsistent arrays)")
        return table

    def _consistent(self) -> bool:
        n = len(self._ids)
        offsets_ok = all(
            len(offsets) == n + 1
            and offsets[0] == 0
            and offsets[-1] == len(values)
            and bool(np.all(np.diff(offsets) >= 0))
            for offsets, values in (
                (self._cat_offsets, self._cat_codes),
                (self._title_offsets, self._title_bytes),
            )
        )
        return (
            offsets_ok
            and len(self._day) == n
            and len(self._title_hash) == n
            and bool(np.all((self._cat_codes >= 0) & (self._cat_codes < len(self._categories))))
        )


def saved_mark(path: Path) -> str | None:
    """The store state a saved table reflects, as saved (None: no usable file)."""
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as saved:
            return str(saved["mark"]) if int(saved["format"]) == FORMAT else None
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _live_values(offsets: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """A mask over CSR values: True for each value of a live row (one byte a value).

    Positions (eight bytes a value, plus temporaries) cost 130 MB on the title bytes of 95k
    papers; the mask costs 8 MB.
    """
    return np.repeat(alive, np.diff(offsets))
