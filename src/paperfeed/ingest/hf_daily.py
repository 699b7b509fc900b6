"""Hugging Face daily papers: the `/api/daily_papers` shape, as a JSON array or JSONL.

Each entry brings a paper, the day it was featured and its upvote count. The flat shape of
`shared/data/hf_daily_papers_2024/` (id, title, abstract, published, upvotes) is read too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from paperfeed.ingest._fields import (
    RecordError,
    check_featuring,
    check_record,
    paper_id_field,
    parse_day,
    parse_time,
    str_field,
    str_list_field,
    text_fields,
)
from paperfeed.ingest.base import RecordCounter, SourceItem
from paperfeed.ingest.snapshot import MAX_LINE, open_maybe_gzip, read_lines
from paperfeed.models import MAX_STORED_INT, Featuring, PaperRecord, Rejected

MAX_ARRAY = 64 * 2**20  # a year of Hugging Face daily papers is a few MiB as one JSON array


def _upvotes(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STORED_INT:
        raise RecordError(f"'upvotes' must be a non-negative integer, not {value!r}")
    return value


def _authors(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise RecordError("'authors' must be a list")
    names = []
    for author in value:
        if isinstance(author, dict):
            author = author.get("name")
        if not isinstance(author, str):
            raise RecordError("each author must be a name or an object with 'name'")
        if author.strip():
            names.append(" ".join(author.split()))
    return tuple(names)


def entry_to_items(entry: Any) -> tuple[PaperRecord, Featuring]:
    """Read one daily-papers entry into the paper and its featuring."""
    if not isinstance(entry, dict):
        raise RecordError(f"expected a JSON object, got {type(entry).__name__}")
    paper = entry.get("paper")
    if isinstance(paper, dict):  # the /api/daily_papers shape
        paper_id, version = paper_id_field(paper)
        title, abstract = text_fields(
            {**paper, "title": paper.get("title") or entry.get("title")}, "summary", "abstract"
        )
        published = paper.get("publishedAt")
        featured = entry.get("publishedAt") or published
        upvotes = _upvotes(paper.get("upvotes"))
        authors = _authors(paper.get("authors"))
        categories = None
    else:  # the flat shape of shared/data/hf_daily_papers_2024
        paper_id, version = paper_id_field(entry)
        title, abstract = text_fields(entry, "abstract", "summary")
        published = entry.get("published") or entry.get("publishedAt")
        featured = published
        upvotes = _upvotes(entry.get("upvotes"))
        authors = _authors(entry.get("authors"))
        categories = str_list_field(entry, "categories")
    try:
        submitted = parse_time(published)
        day = parse_day(featured)
    except ValueError as exc:
        raise RecordError(f"bad date: {exc}") from None
    if day is None:
        raise RecordError("missing 'publishedAt' (the day the paper was featured)")
    record = PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=categories or None,
        primary_category=categories[0] if categories else None,
        submitted=submitted,
        announced=None,
        comment=str_field(entry, "comment"),
    )
    return record, Featuring(paper_id, day, source="hf-daily", upvotes=upvotes)


class HfDailySource(RecordCounter):
    """A file of Hugging Face daily papers: a JSON array, or one entry per line (gzip or plain)."""

    unit = "records"
    name = "hf-daily"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _entries(self) -> Iterator[tuple[str, Any]]:
        stream, raw = open_maybe_gzip(self.path)
        with stream, raw:
            head = stream.read(1)
            while head and head.isspace():
                head = stream.read(1)
            if head == b"[":
                # The array form is parsed whole, so its size is bounded; JSONL streams.
                data = head + stream.read(MAX_ARRAY)
                if len(data) > MAX_ARRAY:
                    too_big = f"a JSON array over {MAX_ARRAY // 2**20} MiB: write it as JSONL"
                    yield f"{self.path}", RecordError(f"{too_big} (one entry a line) instead")
                    return
                try:
                    entries = _loads(data)
                except RecordError as exc:
                    yield f"{self.path}", exc
                    return
                self._total = len(entries)
                for index, entry in enumerate(entries):
                    yield f"{self.path}:entry {index + 1}", entry
                return
            for number, line in read_lines(_Prefixed(head, stream)):
                location = f"{self.path}:{number}"
                if line is None:
                    yield location, RecordError(f"line longer than {MAX_LINE} bytes")
                elif line.strip():
                    try:
                        yield location, _loads(line)
                    except RecordError as exc:
                        yield location, exc

    def read(self) -> Iterator[SourceItem]:
        for location, entry in self._entries():
            self._done += 1
            if isinstance(entry, RecordError):
                yield Rejected(location, str(entry))
                continue
            try:
                record, featuring = entry_to_items(entry)
                check_record(record)
                check_featuring(featuring)
            except RecordError as exc:
                yield Rejected(location, str(exc))
                continue
            yield record
            yield featuring


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise RecordError(f"invalid JSON: {reason}") from None


class _Prefixed:
    """A byte stream with the bytes already read from its start put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        head, self._head = self._head, b""
        if head.endswith(b"\n") or (limit >= 0 and len(head) >= limit):
            return head
        return head + self._stream.readline(limit - len(head) if limit >= 0 else -1)
