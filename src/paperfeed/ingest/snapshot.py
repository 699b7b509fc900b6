"""JSONL snapshots on disk: the daily-listing format and the Kaggle/Cornell arXiv snapshot.

Gzip or plain, one JSON object per line, streamed in constant memory. The format is told
per line, so the two can even be mixed. Bad lines are reported with file, line and reason.
"""

from __future__ import annotations

import dataclasses
import email.utils
import gzip
import io
import json
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from paperfeed.ingest._fields import (
    RecordError,
    check_record,
    keywords_field,
    paper_id_field,
    parse_day,
    str_field,
    str_list_field,
    text_fields,
)
from paperfeed.models import (
    Featuring,
    PaperRecord,
    Rejected,
    clean_text,
    status_from_comment,
)

if TYPE_CHECKING:  # the parsing process imports this module: no database modules in it
    from paperfeed.ingest.base import SourceItem

MAX_LINE = 1_000_000
# Parsing is a third of an import's work; a file this large is parsed in a second process
# while this one stores and indexes (on one core everything stays in this process).
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# What one parse job holds: this many lines, or this many bytes, whichever comes first.
CHUNK_LINES = 1_000
CHUNK_BYTES = 4 * 1024 * 1024

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
            last, first, suffix = [*parts, "", "", ""][:3]
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


# A parsed line: (line number, the record or why it was rejected, whether it is daily format).
Parsed = tuple[int, PaperRecord | str, bool]
Chunk = list[tuple[int, bytes | None]]


def parse_chunk(lines: Chunk) -> list[Parsed]:
    """Parse numbered lines (None for an over-long one), skipping blank ones."""
    parsed: list[Parsed] = []
    for number, line in lines:
        if line is None:
            parsed.append((number, f"line longer than {MAX_LINE} bytes", False))
            continue
        if not line.strip():
            continue
        try:
            record, daily = record_from_line(line)
        except RecordError as exc:
            parsed.append((number, str(exc), False))
            continue
        parsed.append((number, record, daily))
    return parsed


# What reading a damaged file raises: a truncated or corrupt gzip stream, a failing disk.
READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile)


def read_chunks(
    stream: LineStream, *, lines: int | None = None, size_limit: int | None = None
) -> Iterator[Chunk]:
    """Group `read_lines` into chunks of at most CHUNK_LINES lines or about CHUNK_BYTES.

    A read error comes after the chunk of lines read before it, so those are not lost.
    """
    lines = lines or CHUNK_LINES
    size_limit = size_limit or CHUNK_BYTES
    chunk: Chunk = []
    size = 0
    try:
        for number, line in read_lines(stream):
            chunk.append((number, line))
            size += len(line) if line is not None else 0
            if len(chunk) >= lines or size >= size_limit:
                yield chunk
                chunk, size = [], 0
    except READ_ERRORS:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


# Records cross to this process as plain tuples: a dataclass unpickles field by field in
# Python, at twice the cost of a tuple and a constructor call (measured on 5,000 records).
# The parsing process also computes each record's content hash, which the store needs for
# every paper: work taken off the importing process, which stores and indexes.
_FIELDS = tuple(field.name for field in dataclasses.fields(PaperRecord) if field.init)
FlatParsed = tuple[int, tuple[Any, ...] | str, bool]


def _flat(record: PaperRecord) -> tuple[Any, ...]:
    return (*(getattr(record, f) for f in _FIELDS), record.content_hash())


def _parse_chunk_flat(lines: Chunk) -> list[FlatParsed]:
    return [
        (number, item if isinstance(item, str) else _flat(item), daily)
        for number, item, daily in parse_chunk(lines)
    ]


def _unflatten(parsed: list[FlatParsed]) -> list[Parsed]:
    return [
        (
            number,
            item if isinstance(item, str) else PaperRecord(*item[:-1]).with_digest(item[-1]),
            daily,
        )
        for number, item, daily in parsed
    ]


def _parse_here(chunks: Iterator[Chunk]) -> Generator[list[Parsed]]:
    for chunk in chunks:
        yield parse_chunk(chunk)


def parse_file_to(path: Path, out: IO[bytes], *, lines: int, size_limit: int) -> None:
    """Read and parse a snapshot, writing pickled frames to `out` (the parsing process's side).

    Each frame is (bytes read so far, the chunk's parsed lines); a read error is sent as
    ("error", message) after the chunks read before it; None ends the stream.
    """
    try:
        stream, raw = open_maybe_gzip(path)
        with raw, stream:
            for chunk in read_chunks(stream, lines=lines, size_limit=size_limit):
                frame = (raw.tell(), _parse_chunk_flat(chunk))
                pickle.dump(frame, out, pickle.HIGHEST_PROTOCOL)
    except READ_ERRORS as exc:
        pickle.dump(("error", str(exc)), out, pickle.HIGHEST_PROTOCOL)
    pickle.dump(None, out, pickle.HIGHEST_PROTOCOL)
    out.flush()


def _parse_in_process(path: Path, progress: list[float]) -> Generator[list[Parsed]]:
    """Read and parse the file in a second process; yield its chunks in order.

    That process reads the file too, so this one only stores and indexes. The pipe between
    them holds a chunk or so: the reader waits while this process is behind, and memory stays
    bounded. `progress[0]` follows the bytes read. A read error comes after the chunks read
    before it have been yielded, as an OSError with the reader's message.
    """
    command = [
        sys.executable,
        "-m",
        "paperfeed.ingest._parse_process",
        str(path),
        str(CHUNK_LINES),
        str(CHUNK_BYTES),
    ]
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE) as child:
        assert child.stdout is not None
        try:
            while True:
                try:
                    frame = pickle.load(child.stdout)
                except EOFError:
                    code = child.wait()
                    raise OSError(f"the parsing process stopped (exit code {code})") from None
                if frame is None:
                    break
                position, parsed = frame
                if position == "error":
                    raise OSError(parsed)
                progress[0] = float(position)
                yield _unflatten(parsed)
        finally:
            if child.poll() is None:
                child.kill()


class SnapshotSource:
    """A JSONL snapshot file (gzip or plain) in either supported format.

    It records papers and their announcement days; only with `feature=True` does it also
    feature each paper on its day (a bulk import must not flood a curated feed).

    `parallel`: parse in a second process (None: when the file is large and there is a second
    core); the records, their order and the rejections are the same either way. That process
    (`python -m paperfeed.ingest._parse_process`) reads the file too.
    """

    unit = "bytes"

    def __init__(
        self,
        path: Path,
        *,
        feature: bool = False,
        name: str = "snapshot",
        parallel: bool | None = False,
    ) -> None:
        self.path = path
        self.name = name
        self.feature = feature
        self._raw: IO[bytes] | None = None
        self._position = [0.0]  # bytes read by the parsing process
        self._total = float(path.stat().st_size)
        if parallel is None:
            parallel = self._total >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
        self.parallel = parallel

    def progress(self) -> tuple[float, float | None]:
        if self.parallel:
            return self._position[0], self._total
        if self._raw is None or self._raw.closed:
            return (self._total, self._total) if self._raw is not None else (0.0, self._total)
        return float(self._raw.tell()), self._total

    def read(self) -> Iterator[SourceItem]:
        if self.parallel:
            stream: IO[bytes] | None = None
            parsed = _parse_in_process(self.path, self._position)
        else:
            stream, self._raw = open_maybe_gzip(self.path)
            parsed = _parse_here(read_chunks(stream))
        try:
            for batch in parsed:
                for number, item, _daily in batch:
                    if isinstance(item, str):
                        yield Rejected(f"{self.path}:{number}", item)
                        continue
                    yield item
                    if self.feature and item.announced is not None:
                        yield Featuring(item.paper_id, item.announced, source=self.name)
        except READ_ERRORS as exc:
            yield Rejected(f"{self.path}", f"cannot read further: {exc}")
        finally:
            parsed.close()
            if stream is not None and self._raw is not None:
                stream.close()
                self._raw.close()


def sample_path() -> Path:
    """The bundled one-week sample (2,027 real arXiv papers, 2026-03-16..20)."""
    return Path(__file__).resolve().parent.parent / "data" / "arxiv_daily_sample.jsonl.gz"


def sample_source(*, feature: bool = True) -> SnapshotSource:
    """The bundled sample, featured on the days its papers were announced unless `feature` is
    False (`paperfeed init` records it unfeatured: the demo's feed is the Hugging Face history)."""
    return SnapshotSource(sample_path(), feature=feature, name="sample")
