"""A reader's imported library in the store: the file's name and format, and its entries (matched
to a paper, embedded, or skipped with the reason). One library per reader: storing a new one
replaces the old one whole, in the caller's transaction, so an import is all or nothing.

Also the look-ups an import matches entries with: papers by arXiv id and by DOI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, func, insert, select

from paperfeed.db.schema import library_entries, papers, reader_libraries, utc_now

EntryStatus = Literal["matched", "embedded", "skipped"]
MatchedBy = Literal["arxiv", "doi", "title"]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One entry of a reader's library as stored."""

    position: int
    key: str
    title: str
    status: EntryStatus
    matched_by: MatchedBy | None = None
    paper_id: str | None = None
    note: str | None = None
    model_id: str | None = None
    vector: npt.NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class LibraryInfo:
    """What a reader's library holds: the file it came from and its counts by status."""

    source: str
    file_format: str
    imported_at: dt.datetime
    counts: dict[str, int]


def replace_library(
    conn: Connection,
    *,
    user_id: int,
    source: str,
    file_format: str,
    entries: Sequence[StoredEntry],
    now: dt.datetime | None = None,
) -> None:
    """Store `entries` as the reader's whole library (any earlier one is dropped)."""
    conn.execute(delete(library_entries).where(library_entries.c.user_id == user_id))
    conn.execute(delete(reader_libraries).where(reader_libraries.c.user_id == user_id))
    conn.execute(
        insert(reader_libraries).values(
            user_id=user_id,
            source=source[:300],
            file_format=file_format,
            imported_at=now or utc_now(),
        )
    )
    rows = [
        {
            "user_id": user_id,
            "position": e.position,
            "entry_key": e.key[:200],
            "title": e.title,
            "status": e.status,
            "matched_by": e.matched_by,
            "paper_id": e.paper_id,
            "note": e.note[:300] if e.note else None,
            "model_id": e.model_id,
            "dim": None if e.vector is None else len(e.vector),
            "vector": None if e.vector is None else e.vector.astype("<f4").tobytes(),
        }
        for e in entries
    ]
    if rows:
        conn.execute(insert(library_entries), rows)


def delete_library(conn: Connection, *, user_id: int) -> bool:
    """Forget the reader's library; False if they had none."""
    conn.execute(delete(library_entries).where(library_entries.c.user_id == user_id))
    gone = conn.execute(delete(reader_libraries).where(reader_libraries.c.user_id == user_id))
    return gone.rowcount == 1


def library_info(conn: Connection, *, user_id: int) -> LibraryInfo | None:
    """The reader's library file and its counts, or None when they imported none."""
    row = conn.execute(
        select(reader_libraries).where(reader_libraries.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    counts = {"matched": 0, "embedded": 0, "skipped": 0}
    query = (
        select(library_entries.c.status, func.count())
        .where(library_entries.c.user_id == user_id)
        .group_by(library_entries.c.status)
    )
    for status, count in conn.execute(query):
        counts[status] = count
    return LibraryInfo(row.source, row.file_format, row.imported_at, counts)


def library_of(
    conn: Connection, *, user_id: int, statuses: Iterable[EntryStatus] | None = None
) -> list[StoredEntry]:
    """The reader's library entries in file order (only those of `statuses` when given)."""
    query = (
        select(library_entries)
        .where(library_entries.c.user_id == user_id)
        .order_by(library_entries.c.position)
    )
    if statuses is not None:
        query = query.where(library_entries.c.status.in_(list(statuses)))
    found = []
    for r in conn.execute(query):
        vector = (
            None if r.vector is None else np.frombuffer(r.vector, dtype="<f4").astype(np.float32)
        )
        found.append(
            StoredEntry(
                r.position,
                r.entry_key,
                r.title,
                r.status,
                r.matched_by,
                r.paper_id,
                r.note,
                r.model_id,
                vector,
            )
        )
    return found


def has_library(conn: Connection, *, user_id: int) -> bool:
    """Whether the reader's library has an entry that can steer recommendations."""
    query = select(library_entries.c.position).where(
        library_entries.c.user_id == user_id, library_entries.c.status != "skipped"
    )
    return conn.execute(query.limit(1)).first() is not None


def papers_by_id(conn: Connection, paper_ids: Iterable[str]) -> dict[str, str]:
    """Paper id to title for the ids that are stored papers."""
    wanted = list(dict.fromkeys(paper_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(papers.c.paper_id, papers.c.title).where(papers.c.paper_id.in_(chunk))
        found.update({r.paper_id: r.title for r in conn.execute(query)})
    return found


def papers_by_doi(conn: Connection, dois: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Lower-case DOI to (paper id, title) for the DOIs some stored paper has."""
    wanted = list(dict.fromkeys(d.lower() for d in dois))
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        doi = func.lower(papers.c.doi)
        query = select(doi.label("doi"), papers.c.paper_id, papers.c.title).where(doi.in_(chunk))
        for r in conn.execute(query):
            found.setdefault(r.doi, (r.paper_id, r.title))
    return found
