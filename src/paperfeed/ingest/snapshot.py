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
from typing import IO, Any

from paperfeed.ingest.base import SourceItem, parse_day
from paperfeed.models import (
    Featuring,
    PaperRecord,
    Rejected,
    clean_text,
    parse_arxiv_id,
    status_from_comment,
)

MAX_TITLE = 2_000
MAX_ABSTRACT = 20_000
MAX_LINE = 1_000_000

_AND = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


class RecordError(ValueError):
    """A record that cannot be imported; the message says why."""


def open_maybe_gzip(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """Open `path` for binary reading, unzipping if it starts with the gzip magic.

    Returns (stream to read, raw file) so callers can report progress in raw bytes.
    """
    raw = path.open("rb")
    magic = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def _str(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key!r} must be a string, not {type(value).__name__}")
    return clean_text(value)


def _str_list(obj: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{key!r} must be a list of strings")
    return tuple(clean_text(v) for v in value if v.strip())


def _paper_id(obj: dict[str, Any]) -> tuple[str, int | None]:
    raw = obj.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise RecordError("missing 'id'")
    parsed = parse_arxiv_id(raw)
    if parsed:
        return parsed
    # Not an arXiv id (CACM's numbered papers, say): keep it as given.
    paper_id = raw.strip()
    if len(paper_id) > 64 or any(c.isspace() for c in paper_id):
        raise RecordError(f"id {paper_id[:80]!r} is not usable as a paper id")
    return paper_id, None


def _text(obj: dict[str, Any], *keys: str) -> tuple[str, str]:
    title = _str(obj, "title", required=True) or ""
    abstract = None
    for key in keys:
        abstract = _str(obj, key)
        if abstract:
            break
    if not abstract:
        raise RecordError(f"missing {keys[0]!r}")
    if len(title) > MAX_TITLE:
        raise RecordError(f"title longer than {MAX_TITLE} characters")
    if len(abstract) > MAX_ABSTRACT:
        raise RecordError(f"abstract longer than {MAX_ABSTRACT} characters")
    return title, abstract


def record_from_daily(obj: dict[str, Any]) -> PaperRecord:
    """Read one line of the daily-listing format (`first_seen`, list `authors`, …)."""
    paper_id, version = _paper_id(obj)
    title, abstract = _text(obj, "abstract")
    categories = _str_list(obj, "categories")
    primary = _str(obj, "primary_category") or (categories[0] if categories else None)
    comment = _str(obj, "comment")
    try:
        announced = parse_day(obj.get("first_seen"))
    except ValueError as exc:
        raise RecordError(f"bad 'first_seen': {exc}") from None
    return PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=_str_list(obj, "authors"),
        categories=categories or None,
        primary_category=primary,
        announced=announced,
        comment=comment,
        doi=_str(obj, "doi"),
        journal_ref=_str(obj, "journal_ref"),
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
    authors = _str(obj, "authors")
    if authors is None:
        return None
    return tuple(name.strip() for name in _AND.split(authors) if name.strip())


def record_from_kaggle(obj: dict[str, Any]) -> PaperRecord:
    """Read one object of the Kaggle/Cornell `arxiv-metadata-oai-snapshot.json`."""
    paper_id, version = _paper_id(obj)
    title, abstract = _text(obj, "abstract")
    categories_text = _str(obj, "categories")
    categories = tuple(categories_text.split()) if categories_text else None
    submitted = updated = None
    versions = obj.get("versions")
    if versions is not None:
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise RecordError("'versions' must be a list of objects")
        numbers = []
        for entry in versions:
            match = re.fullmatch(r"v(\d+)", str(entry.get("version", "")))
            if not match:
                raise RecordError(f"bad version {entry.get('version')!r}")
            numbers.append(int(match.group(1)))
            try:
                created = email.utils.parsedate_to_datetime(str(entry.get("created")))
            except (TypeError, ValueError):
                raise RecordError(f"bad version date {entry.get('created')!r}") from None
            created = created.replace(tzinfo=None)
            if int(match.group(1)) == 1:
                submitted = created
            if updated is None or created > updated:
                updated = created
        if numbers:
            version = max(numbers)
    comment = _str(obj, "comments")
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
        journal_ref=_str(obj, "journal-ref"),
        doi=_str(obj, "doi"),
        license=_str(obj, "license"),
        status=status_from_comment(comment),
    )


def record_from_object(obj: Any) -> tuple[PaperRecord, bool]:
    """Read either snapshot format; returns (record, whether it is the daily-listing format)."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    if "versions" in obj or "authors_parsed" in obj or "update_date" in obj:
        return record_from_kaggle(obj), False
    return record_from_daily(obj), True


class SnapshotSource:
    """A JSONL snapshot file (gzip or plain) in either supported format."""

    unit = "bytes"

    def __init__(self, path: Path, *, feature: bool | None = None, name: str = "snapshot") -> None:
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
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                location = f"{self.path}:{number}"
                try:
                    if len(line) > MAX_LINE:
                        raise RecordError(f"line longer than {MAX_LINE} bytes")
                    try:
                        obj = json.loads(line)
                    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                        raise RecordError(f"invalid JSON: {exc}") from None
                    record, daily = record_from_object(obj)
                except RecordError as exc:
                    yield Rejected(location, str(exc))
                    continue
                yield record
                feature = self.feature if self.feature is not None else daily
                if feature and record.announced is not None:
                    yield Featuring(record.paper_id, record.announced, source=self.name)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield Rejected(f"{self.path}", f"cannot read further: {exc}")
        finally:
            stream.close()
            raw.close()


def sample_path() -> Path:
    """The bundled one-week sample (2,027 real arXiv papers, 2026-03-16..20)."""
    return Path(__file__).resolve().parent.parent / "data" / "arxiv_daily_sample.jsonl.gz"


def sample_source() -> SnapshotSource:
    """The bundled sample, featured on the days its papers were announced."""
    return SnapshotSource(sample_path(), feature=True, name="sample")
