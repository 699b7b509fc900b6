"""The arXiv API source: Atom pages of `export.arxiv.org/api/query` by category and update date.

A malformed or refused page yields `Rejected` and ends the run; the stored checkpoint lets the
next run retry that page. A bad entry is rejected alone. Network failure raises `FetchError`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paperfeed.db import Database
from paperfeed.db.state import load_state
from paperfeed.ingest._fields import (
    MAX_ABSTRACT,
    MAX_TITLE,
    RecordError,
    check_record,
    parse_time,
)
from paperfeed.ingest._http import Clock, PageError, PoliteClient, check_url, parse_xml
from paperfeed.ingest.base import Checkpoint, RecordCounter, Source, SourceItem
from paperfeed.models import (
    Featuring,
    PaperRecord,
    Rejected,
    clean_text,
    parse_arxiv_id,
    status_from_comment,
)
from paperfeed.settings import Settings

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

log = logging.getLogger(__name__)

NAME = "arxiv-api"
ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"

# arXiv serves at most 30,000 results of one query, in slices of at most 2,000
# (https://info.arxiv.org/help/api/user-manual.html#3112-start-and-max_results-paging).
MAX_START = 30_000
MAX_PAGE_SIZE = 2_000
FIRST_RUN_DAYS = 7
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")
_STAMP = re.compile(r"^\d{12}$")


def normalize_categories(categories: list[str]) -> tuple[str, ...]:
    """Return the categories sorted and deduplicated; raise ValueError on anything else."""
    cleaned = sorted({c.strip() for c in categories if c.strip()})
    if not cleaned:
        raise ValueError("give at least one arXiv category, e.g. cs.CL")
    for category in cleaned:
        if not _CATEGORY.match(category):
            raise ValueError(f"not an arXiv category: {category!r} (expected e.g. cs.CL, hep-th)")
    return tuple(cleaned)


def search_query(categories: tuple[str, ...], *, begin: str, end: str) -> str:
    """Build `(cat:A OR cat:B) AND lastUpdatedDate:[begin TO end]` (stamps are YYYYMMDDHHMM)."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    return f"({cats}) AND lastUpdatedDate:[{begin} TO {end}]"


def day_stamp(day: dt.date, *, end: bool = False) -> str:
    """Format a day as arXiv's YYYYMMDDHHMM, at 00:00 or (with `end`) at 23:59."""
    return day.strftime("%Y%m%d") + ("2359" if end else "0000")


def time_stamp(moment: dt.datetime) -> str:
    """Format a UTC time as arXiv's YYYYMMDDHHMM (the minute it falls in)."""
    return moment.strftime("%Y%m%d%H%M")


@dataclass(frozen=True, slots=True)
class Feed:
    """One page of the API: `opensearch:totalResults` and the entries."""

    total: int
    entries: list[Element]


def parse_feed(body: bytes) -> Feed:
    """Parse one Atom page; raise PageError if it is malformed, unsafe or an API error."""
    root = parse_xml(body)
    if root.tag != f"{{{ATOM}}}feed":
        raise PageError(f"expected an Atom <feed>, got <{root.tag}>")
    entries = root.findall(f"{{{ATOM}}}entry")
    for entry in entries:
        # Errors come as a single entry whose id is http://arxiv.org/api/errors#...
        if "/api/errors" in (entry.findtext(f"{{{ATOM}}}id") or ""):
            message = clean_text(entry.findtext(f"{{{ATOM}}}summary") or "unknown error")
            raise PageError(f"arXiv API error: {message}")
    total_text = (root.findtext(f"{{{OPENSEARCH}}}totalResults") or "").strip()
    if not total_text.isdigit():
        raise PageError(f"missing or bad opensearch:totalResults ({total_text[:40]!r})")
    return Feed(total=int(total_text), entries=entries)


def _optional(entry: Element, tag: str) -> str | None:
    text = entry.findtext(tag)
    cleaned = clean_text(text) if text else ""
    return cleaned or None


def _time(entry: Element, tag: str) -> dt.datetime | None:
    try:
        return parse_time((entry.findtext(f"{{{ATOM}}}{tag}") or "").strip())
    except ValueError:
        raise RecordError(f"bad <{tag}> time") from None


def record_from_entry(entry: Element) -> PaperRecord:
    """Read one Atom `<entry>` into a PaperRecord; raise RecordError if it is unusable."""
    raw_id = (entry.findtext(f"{{{ATOM}}}id") or "").strip()
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise RecordError(f"not an arXiv id: {raw_id[:80]!r}")
    paper_id, version = parsed
    title = clean_text(entry.findtext(f"{{{ATOM}}}title") or "")
    abstract = clean_text(entry.findtext(f"{{{ATOM}}}summary") or "")
    if not title:
        raise RecordError("missing <title>")
    if not abstract:
        raise RecordError("missing <summary>")
    if len(title) > MAX_TITLE:
        raise RecordError(f"title longer than {MAX_TITLE} characters")
    if len(abstract) > MAX_ABSTRACT:
        raise RecordError(f"abstract longer than {MAX_ABSTRACT} characters")
    authors = tuple(
        name
        for name in (
            clean_text(a.findtext(f"{{{ATOM}}}name") or "")
            for a in entry.findall(f"{{{ATOM}}}author")
        )
        if name
    )
    terms = [clean_text(c.get("term") or "") for c in entry.findall(f"{{{ATOM}}}category")]
    primary_element = entry.find(f"{{{ARXIV}}}primary_category")
    primary = clean_text(primary_element.get("term") or "") if primary_element is not None else ""
    categories = list(dict.fromkeys(t for t in [primary, *terms] if t))
    comment = _optional(entry, f"{{{ARXIV}}}comment")
    license_url = _optional(entry, f"{{{ARXIV}}}license")
    if license_url is None:
        for link in entry.findall(f"{{{ATOM}}}link"):
            if link.get("rel") == "license" and link.get("href"):
                license_url = clean_text(link.get("href") or "")
    return PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors or None,
        categories=tuple(categories) or None,
        primary_category=categories[0] if categories else None,
        submitted=_time(entry, "published"),
        updated=_time(entry, "updated"),
        comment=comment,
        journal_ref=_optional(entry, f"{{{ARXIV}}}journal_ref"),
        doi=_optional(entry, f"{{{ARXIV}}}doi"),
        license=license_url,
        status=status_from_comment(comment),
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class ArxivApiSource(RecordCounter):
    """Page through one query, sorted by lastUpdatedDate ascending, checkpointing every page.

    The ascending sort makes the high-water mark (the latest `updated` seen) a safe place to
    start the next run from, and lets a result list longer than arXiv's 30,000 cap continue
    with a new query from that mark.
    """

    name = NAME
    unit = "records"

    def __init__(
        self,
        *,
        http: PoliteClient,
        url: str,
        categories: tuple[str, ...],
        key: str,
        begin: str,
        end: str,
        start: int = 0,
        high_water: dt.datetime | None = None,
        feature: bool = False,
        page_size: int = 100,
        max_start: int = MAX_START,
        empty_page_retries: int = 2,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.http = http
        self.url = check_url(url)
        self.categories = categories
        self.key = key
        self.begin = begin
        self.end = end
        self.start = start
        self.high_water = high_water
        self.feature = feature
        self.page_size = page_size
        self.max_start = max_start
        self.empty_page_retries = empty_page_retries

    def read(self) -> Iterator[SourceItem]:
        try:
            yield from self._pages()
        finally:
            self.http.close()

    def _params(self, begin: str, start: int) -> dict[str, str | int]:
        return {
            "search_query": search_query(self.categories, begin=begin, end=self.end),
            "start": start,
            "max_results": self.page_size,
            "sortBy": "lastUpdatedDate",
            "sortOrder": "ascending",
        }

    def _pages(self) -> Iterator[SourceItem]:
        begin, start = self.begin, self.start
        high_water = self.high_water  # what the next run starts from: never goes back
        window_high: dt.datetime | None = None  # the latest `updated` of this query
        offset = 0  # records of earlier windows, for progress()
        self._done = start
        while True:
            params = self._params(begin, start)
            for _ in range(self.empty_page_retries + 1):
                page = self.http.get(self.url, params=params, accept=(400,))
                try:
                    feed = parse_feed(page.body)
                    if page.status >= 400:
                        raise PageError(f"HTTP {page.status} without an arXiv error entry")
                except PageError as exc:
                    yield Rejected(page.url, str(exc))
                    return
                if feed.entries or start >= feed.total:
                    break
                # arXiv now and then answers an empty page in the middle of a list;
                # asking again usually works (the `arxiv` client library does the same).
                log.warning(
                    "%s: empty page at start=%d of %d; asking again", NAME, start, feed.total
                )
            else:
                yield Rejected(
                    page.url,
                    f"empty page at start={start} although totalResults={feed.total}; "
                    "the next run resumes here",
                )
                return
            self._total = offset + feed.total
            for index, entry in enumerate(feed.entries):
                try:
                    record = check_record(record_from_entry(entry))
                except RecordError as exc:
                    yield Rejected(f"{page.url} entry {start + index + 1}", str(exc))
                    continue
                yield record
                if self.feature and record.submitted is not None:
                    yield Featuring(record.paper_id, record.submitted.date(), source=NAME)
                if record.updated is not None:
                    window_high = max(window_high or record.updated, record.updated)
                    high_water = max(high_water or record.updated, record.updated)
            start += len(feed.entries)
            self._done = offset + start
            if not feed.entries or start >= feed.total:
                done = {"high_water": _iso(high_water)} if high_water is not None else None
                yield Checkpoint(self.key, done)
                return
            if start + self.page_size > self.max_start:
                # Past arXiv's cap: ask again from the latest update seen (sorted ascending).
                next_begin = time_stamp(window_high) if window_high is not None else begin
                if next_begin <= begin:
                    yield Rejected(
                        page.url,
                        f"more than {self.max_start} results updated within the minute {begin}",
                    )
                    return
                offset += start
                begin, start = next_begin, 0
            yield Checkpoint(
                self.key,
                {
                    "high_water": _iso(high_water),
                    "window": {"from": begin, "to": self.end},
                    "start": start,
                },
            )


def _stored_time(value: Any) -> dt.datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


def arxiv_source(
    *,
    db: Database,
    settings: Settings,
    categories: list[str],
    since: dt.date | None,
    until: dt.date | None,
    feature: bool = False,
    clock: Clock | None = None,
    page_size: int = 100,
) -> Source:
    """Build the arXiv API source for `categories`, updated between `since` and `until` (UTC).

    Without `since` it resumes an unfinished run, else starts from the stored high-water
    mark, else fetches the last FIRST_RUN_DAYS days. `until` defaults to today.
    """
    cats = normalize_categories(categories)
    key = ",".join(cats)
    with db.read() as conn:
        state = load_state(conn, source=NAME, key=key) or {}
    high_water = _stored_time(state.get("high_water"))
    end_day = until or dt.datetime.now(dt.UTC).date()
    end = day_stamp(end_day, end=True)
    if since is not None:
        if since > end_day:
            raise ValueError(f"since ({since}) is after until ({end_day})")
        begin = day_stamp(since)
    elif high_water is not None:
        begin = time_stamp(high_water)
    else:
        begin = day_stamp(end_day - dt.timedelta(days=FIRST_RUN_DAYS))
    start = 0
    window = state.get("window")
    stored_start = state.get("start")
    if (
        isinstance(window, dict)
        and isinstance(stored_start, int)
        and stored_start >= 0
        and all(isinstance(window.get(k), str) and _STAMP.match(window[k]) for k in ("from", "to"))
    ):
        if since is None and until is None:  # a plain incremental run finishes the last one
            begin, end, start = window["from"], window["to"], stored_start
        elif (window["from"], window["to"]) == (begin, end):
            start = stored_start
    return ArxivApiSource(
        http=PoliteClient.from_settings(settings, clock=clock),
        url=settings.arxiv_api_url,
        categories=cats,
        key=key,
        begin=begin,
        end=end,
        start=start,
        high_water=high_water,
        feature=feature,
        page_size=page_size,
    )
