"""JSONL snapshots on disk: the daily-listing format and the Kaggle/Cornell arXiv snapshot.

Gzip or plain, one JSON object per line, streamed in constant memory. The format is told
per line, so the two can even be mixed. Bad lines are reported with file, line and reason.
"""

from __future__ import annotations

import email.utils
import gzip
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol, cast

from paperfeed.ingest._fields import (
    RecordError,
    check_record,
    keywords_field,
    paper_id_field,
    str_field,
    str_list_field,
    text_fields,
)
from paperfeed.ingest.base import SourceItem, parse_day
from paperfeed.models import (
    Featuring,
    PaperRecord,
    Rejected,
    clean_text,
    status_from_comment,
)

MAX_LINE = 1_000_000

_AND = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def open_maybe_gzip(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """Open `path` for binary reading, unzipping if it starts with the gzip magic.

    Returns (stream to read, raw file) so callers can report progress in raw bytes.
    """
    raw = path.open("rb")
    magic = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")), raw
    return raw, raw


def record_from_daily(obj: dict[str, Any]) -> PaperRecord:
    """Read one line of the daily-listing format (`first_seen`, list `authors`, …)."""
    paper_id, version = paper_id_field(obj)
    title, abstract = text_fields(obj, "abstract")
    categories = str_list_field(obj, "categories")
    primary = str_field(obj, "primary_category") or (categories[0] if categories else None)
    comment = str_field(obj, "comment")
    try:
        announced = parse_day(obj.get("first_seen"))
    except ValueError as exc:
        raise RecordError(f"bad 'first_seen': {exc}") from None
    return PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=str_list_field(obj, "authors"),
        categories=categories or None,
        primary_category=primary,
        announced=announced,
        comment=comment,
        doi=str_field(obj, "doi"),
        journal_ref=str_field(obj, "journal_ref"),
        keywords=keywords_field(obj),
        status=status_from_comment(comment),
    )


def _kaggle_authors(obj: dict[str, Any]) -> tuple[str, ...] | None:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
                raise RecordError("'authors_parsed' must be a list of [last, first, suffix]")
            last, first, suffix = [*parts, "", ""][:3]
            names.append(clean_text(" ".join(p for p in (first, last, suffix) if p)))
        return tuple(n for n in names if n)
    authors = str_field(obj, "authors")
    if authors is None:
        return None
    return tuple(name.strip() for name in _AND.split(authors) if name.strip())


def record_from_kaggle(obj: dict[str, Any]) -> PaperRecord:
    """Read one object of the Kaggle/Cornell `arxiv-metadata-oai-snapshot.json`."""
    paper_id, version = paper_id_field(obj)
    title, abstract = text_fields(obj, "abstract")
    categories_text = str_field(obj, "categories")
    categories = tuple(categories_text.split()) if categories_text else None
    submitted = updated = None
    versions = obj.get("versions")
    if versions is not None:
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise RecordError("'versions' must be a list of objects")
        numbers = []
        for entry in versions:
            match = re.fullmatch(r"v(\d{1,6})", str(entry.get("version", "")))
            if not match:
                raise RecordError(f"bad version {entry.get('version')!r}")
            numbers.append(int(match.group(1)))
            try:
                created = email.utils.parsedate_to_datetime(str(entry.get("created")))
            except (TypeError, ValueError, OverflowError):
                raise RecordError(f"bad version date {str(entry.get('created'))[:40]!r}") from None
            created = created.replace(tzinfo=None)
            if int(match.group(1)) == 1:
                submitted = created
            if updated is None or created > updated:
                updated = created
        if numbers:
            version = max(numbers)
    comment = str_field(obj, "comments")
    return PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=_kaggle_authors(obj),
        categories=categories,
        primary_category=categories[0] if categories else None,
        submitted=submitted,
        updated=updated,
        comment=comment,
        journal_ref=str_field(obj, "journal-ref"),
        doi=str_field(obj, "doi"),
        license=str_field(obj, "license"),
        status=status_from_comment(comment),
    )


def record_from_object(obj: Any) -> tuple[PaperRecord, bool]:
    """Read either snapshot format; returns (record, whether it is the daily-listing format)."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    if "versions" in obj or "authors_parsed" in obj or "update_date" in obj:
        return record_from_kaggle(obj), False
    return record_from_daily(obj), True


class LineStream(Protocol):
    """What `read_lines` reads from: a binary file, or anything with its `readline(limit)`."""

    def readline(self, limit: int = -1, /) -> bytes: ...


def read_lines(stream: LineStream) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, line) in bounded memory; a line over MAX_LINE bytes comes as None.

    No more than MAX_LINE + 1 bytes of a line are ever held: the rest of an over-long line is
    read and dropped in chunks of that size.
    """
    number = 0
    while line := stream.readline(MAX_LINE + 1):
        number += 1
        if len(line) <= MAX_LINE or line.endswith(b"\n"):  # at most MAX_LINE bytes and "\n"
            yield number, line
            continue
        while not line.endswith(b"\n"):
            line = stream.readline(MAX_LINE + 1)
            if not line:
                break
        yield number, None


def record_from_line(line: bytes) -> tuple[PaperRecord, bool]:
    """Read one JSONL line of either format; raise RecordError with the reason if it is bad."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        # ValueError: bad JSON, bad UTF-8, or an integer of more than 4,300 digits.
        # RecursionError: arrays or objects nested thousands deep.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise RecordError(f"invalid JSON: {reason}") from None
    record, daily = record_from_object(obj)
    return check_record(record), daily


class SnapshotSource:
    """A JSONL snapshot file (gzip or plain) in either supported format.

    It records papers and their announcement days; only with `feature=True` does it also
    feature each paper on its day (a bulk import must not flood a curated feed).
    """

    unit = "bytes"

    def __init__(self, path: Path, *, feature: bool = False, name: str = "snapshot") -> None:
        self.path = path
        self.name = name
        self.feature = feature
        self._raw: IO[bytes] | None = None
        self._total = float(path.stat().st_size)

    def progress(self) -> tuple[float, float | None]:
        if self._raw is None or self._raw.closed:
            return (self._total, self._total) if self._raw is not None else (0.0, self._total)
        return float(self._raw.tell()), self._total

    def read(self) -> Iterator[SourceItem]:
        stream, raw = open_maybe_gzip(self.path)
        self._raw = raw
        try:
            for number, line in read_lines(stream):
                location = f"{self.path}:{number}"
                try:
                    if line is None:
                        raise RecordError(f"line longer than {MAX_LINE} bytes")
                    if not line.strip():
                        continue
                    record, _daily = record_from_line(line)
                except RecordError as exc:
                    yield Rejected(location, str(exc))
                    continue
                yield record
                if self.feature and record.announced is not None:
                    yield Featuring(record.paper_id, record.announced, source=self.name)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield Rejected(f"{self.path}", f"cannot read further: {exc}")
        finally:
            stream.close()
            raw.close()


def sample_path() -> Path:
    """The bundled one-week sample (2,027 real arXiv papers, 2026-03-16..20)."""
    return Path(__file__).resolve().parent.parent / "data" / "arxiv_daily_sample.jsonl.gz"


def sample_source(*, feature: bool = True) -> SnapshotSource:
    """The bundled sample, featured on the days its papers were announced unless `feature` is
    False (`paperfeed init` records it unfeatured: the demo's feed is the Hugging Face history)."""
    return SnapshotSource(sample_path(), feature=feature, name="sample")
