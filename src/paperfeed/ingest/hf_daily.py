"""Hugging Face daily papers: the `/api/daily_papers` shape, as a JSON array or JSONL, or live
from any Hugging Face compatible `/api/daily_papers` endpoint (`HfDailyApiSource`).

Each entry brings a paper, the day it was featured and its upvote count, and what Hugging Face
says of it: the submitter, `ai_summary`, `ai_keywords`, `githubRepo`, `projectPage` (`HfFacts`).
The flat shape of `shared/data/hf_daily_papers_2024/` (id, title, abstract, published, upvotes)
is read too.
"""

from __future__ import annotations

import datetime as dt
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
from paperfeed.ingest._http import Clock, PoliteClient, check_url
from paperfeed.ingest.base import RecordCounter, SourceItem
from paperfeed.ingest.snapshot import MAX_LINE, open_maybe_gzip, read_lines
from paperfeed.models import MAX_STORED_INT, Featuring, HfFacts, PaperRecord, Rejected
from paperfeed.settings import Settings

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


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.split())[:limit]


def _submitter(entry: dict[str, Any], paper: dict[str, Any]) -> str | None:
    for who in (entry.get("submittedBy"), paper.get("submittedOnDailyBy")):
        if isinstance(who, dict):
            name = _text(who.get("fullname"), 100) or _text(who.get("name"), 100)
            if name:
                return name
    return None


def _facts(paper_id: str, entry: dict[str, Any], paper: dict[str, Any]) -> HfFacts | None:
    keywords = paper.get("ai_keywords")
    words = (
        tuple(w for k in keywords[:30] if (w := _text(k, 100)))
        if isinstance(keywords, list)
        else ()
    )
    facts = HfFacts(
        paper_id,
        submitter=_submitter(entry, paper),
        ai_summary=_text(paper.get("ai_summary"), 5000),
        ai_keywords=words or None,
        github_repo=_text(paper.get("githubRepo"), 500),
        project_page=_text(paper.get("projectPage"), 500),
    )
    return facts if facts != HfFacts(paper_id) else None


def entry_to_items(entry: Any) -> tuple[PaperRecord, Featuring, HfFacts | None]:
    """Read one daily-papers entry into the paper, its featuring, and what Hugging Face says
    of it (None: nothing)."""
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
        facts = _facts(paper_id, entry, paper)
    else:  # the flat shape of shared/data/hf_daily_papers_2024
        paper_id, version = paper_id_field(entry)
        title, abstract = text_fields(entry, "abstract", "summary")
        published = entry.get("published") or entry.get("publishedAt")
        featured = published
        upvotes = _upvotes(entry.get("upvotes"))
        authors = _authors(entry.get("authors"))
        categories = str_list_field(entry, "categories")
        facts = _facts(paper_id, entry, entry)
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
    return record, Featuring(paper_id, day, source="hf-daily", upvotes=upvotes), facts


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
                record, featuring, facts = entry_to_items(entry)
                check_record(record)
                check_featuring(featuring)
            except RecordError as exc:
                yield Rejected(location, str(exc))
                continue
            yield record
            yield featuring
            if facts is not None:
                yield facts


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


class HfDailyApiSource(RecordCounter):
    """Daily papers read live from a Hugging Face compatible `/api/daily_papers` (huggingface.co
    or another paperfeed hub), one day at a time from `since` to `until`, every page of each.

    Requests go through the shared polite client (`hf_request_interval_s` apart, retried).
    """

    unit = "days"
    name = "hf-daily"
    PAGE = 100

    def __init__(
        self,
        *,
        settings: Settings,
        since: dt.date,
        until: dt.date,
        clock: Clock | None = None,
    ) -> None:
        self.base = check_url(settings.hf_api_url).rstrip("/")
        self.settings = settings
        self.since = since
        self.until = until
        self.clock = clock
        self._total = max(0, (until - since).days + 1)

    def read(self) -> Iterator[SourceItem]:
        client = PoliteClient(
            min_interval_s=self.settings.hf_request_interval_s,
            timeout_s=self.settings.http_timeout_s,
            retries=self.settings.http_retries,
            clock=self.clock,
            max_bytes=16 * 1024 * 1024,
        )
        url = f"{self.base}/api/daily_papers"
        with client:
            day = self.since
            while day <= self.until:
                for page in range(1000):
                    params: dict[str, str | int] = {
                        "date": day.isoformat(),
                        "limit": self.PAGE,
                        "p": page,
                    }
                    location = f"{url}?date={day.isoformat()}&p={page}"
                    try:
                        entries = _loads(client.get(url, params=params).body)
                    except RecordError as exc:
                        yield Rejected(location, str(exc))
                        break
                    if not isinstance(entries, list):
                        yield Rejected(location, "expected a JSON array of daily papers")
                        break
                    for index, entry in enumerate(entries):
                        try:
                            record, featuring, facts = entry_to_items(entry)
                            check_record(record)
                            check_featuring(featuring)
                        except RecordError as exc:
                            yield Rejected(f"{location}: entry {index + 1}", str(exc))
                            continue
                        yield record
                        yield featuring
                        if facts is not None:
                            yield facts
                    if len(entries) < self.PAGE:
                        break
                self._done += 1
                day += dt.timedelta(days=1)
