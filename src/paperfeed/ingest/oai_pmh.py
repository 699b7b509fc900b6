"""The OAI-PMH source: `ListRecords` of `export.arxiv.org/oai2` in the arXiv or arXivRaw format.

A malformed or refused page, or an OAI error, yields `Rejected` and ends the run; the stored
resumptionToken lets the next run retry. A bad record is rejected alone. Network failure raises.
"""

from __future__ import annotations

import datetime as dt
import email.utils
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
    parse_day,
)
from paperfeed.ingest._http import Clock, PageError, PoliteClient, check_url, parse_xml
from paperfeed.ingest.base import Checkpoint, RecordCounter, Source, SourceItem
from paperfeed.models import (
    Featuring,
    PaperRecord,
    PaperStatus,
    Rejected,
    clean_text,
    parse_arxiv_id,
    status_from_comment,
)
from paperfeed.settings import Settings

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

log = logging.getLogger(__name__)

NAME = "oai-pmh"
OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW = "http://arxiv.org/OAI/arXivRaw/"
FORMATS = {"arXiv": ARXIV, "arXivRaw": ARXIV_RAW}
_SET = re.compile(r"^[A-Za-z][A-Za-z\-.]*(?::[A-Za-z][A-Za-z\-.]*)*$")
_OAI_PREFIX = re.compile(r"^oai:arXiv\.org:", re.IGNORECASE)
# Authors in arXivRaw are one string: "A. Smith, B. Jones (MIT) and C. Lee".
_AUTHOR_SEPARATOR = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


@dataclass(frozen=True, slots=True)
class ListPage:
    """One `ListRecords` answer: its records and resumptionToken, or the OAI error it reports."""

    records: list[Element]
    token: str | None
    cursor: int | None
    complete_size: int | None
    error: tuple[str, str] | None


def _int_attribute(element: Element, name: str) -> int | None:
    value = (element.get(name) or "").strip()
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and not absurdly many.
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None


def parse_list_page(body: bytes) -> ListPage:
    """Parse one OAI-PMH answer; raise PageError if it is malformed or unsafe."""
    root = parse_xml(body)
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise PageError(f"expected an <OAI-PMH> response, got <{root.tag}>")
    error = root.find(f"{{{OAI}}}error")
    if error is not None:
        code = error.get("code") or "unknown"
        return ListPage([], None, None, None, (code, clean_text(error.text or "")))
    listing = root.find(f"{{{OAI}}}ListRecords")
    if listing is None:
        raise PageError("neither <ListRecords> nor <error> in the response")
    token_element = listing.find(f"{{{OAI}}}resumptionToken")
    token = cursor = size = None
    if token_element is not None:
        token = (token_element.text or "").strip() or None
        cursor = _int_attribute(token_element, "cursor")
        size = _int_attribute(token_element, "completeListSize")
    return ListPage(listing.findall(f"{{{OAI}}}record"), token, cursor, size, None)


def header_datestamp(record: Element) -> dt.date | None:
    """Return the `<datestamp>` of a record's header (the day it last changed), if readable."""
    text = record.findtext(f"{{{OAI}}}header/{{{OAI}}}datestamp")
    try:
        return parse_day((text or "").strip() or None)
    except ValueError:
        return None


def _paper_id(identifier: str) -> tuple[str, int | None]:
    parsed = parse_arxiv_id(_OAI_PREFIX.sub("", identifier.strip()))
    if parsed is None:
        raise RecordError(f"not an arXiv identifier: {identifier[:80]!r}")
    return parsed


def record_from_oai(record: Element) -> PaperRecord:
    """Read one OAI `<record>` (arXiv, arXivRaw or a deleted header); raise RecordError."""
    header = record.find(f"{{{OAI}}}header")
    if header is None:
        raise RecordError("record without <header>")
    paper_id, _ = _paper_id(header.findtext(f"{{{OAI}}}identifier") or "")
    if header.get("status") == "deleted":
        # No metadata: the store keeps the text it has and hides the paper.
        return PaperRecord(paper_id=paper_id, title="", abstract="", status=PaperStatus.DELETED)
    metadata = record.find(f"{{{OAI}}}metadata")
    if metadata is None or len(metadata) == 0:
        raise RecordError("record without <metadata>")
    payload = metadata[0]
    if payload.tag == f"{{{ARXIV}}}arXiv":
        result = _from_arxiv(payload)
    elif payload.tag == f"{{{ARXIV_RAW}}}arXivRaw":
        result = _from_arxiv_raw(payload)
    else:
        raise RecordError(f"unsupported metadata format <{payload.tag}>")
    if result.paper_id != paper_id:
        raise RecordError(f"header id {paper_id} differs from metadata id {result.paper_id}")
    return result


def _text(element: Element, ns: str, tag: str) -> str | None:
    raw = element.findtext(f"{{{ns}}}{tag}")
    cleaned = clean_text(raw) if raw else ""
    return cleaned or None


def _common(element: Element, ns: str) -> dict[str, Any]:
    paper_id, version = _paper_id(element.findtext(f"{{{ns}}}id") or "")
    title = _text(element, ns, "title")
    abstract = _text(element, ns, "abstract")
    if not title:
        raise RecordError("missing <title>")
    if not abstract:
        raise RecordError("missing <abstract>")
    if len(title) > MAX_TITLE:
        raise RecordError(f"title longer than {MAX_TITLE} characters")
    if len(abstract) > MAX_ABSTRACT:
        raise RecordError(f"abstract longer than {MAX_ABSTRACT} characters")
    categories = tuple(dict.fromkeys((_text(element, ns, "categories") or "").split()))
    comment = _text(element, ns, "comments")
    return {
        "paper_id": paper_id,
        "version": version,
        "title": title,
        "abstract": abstract,
        "categories": categories or None,
        "primary_category": categories[0] if categories else None,
        "comment": comment,
        "journal_ref": _text(element, ns, "journal-ref"),
        "doi": _text(element, ns, "doi"),
        "license": _text(element, ns, "license"),
        "status": status_from_comment(comment),
    }


def _midnight(element: Element, ns: str, tag: str) -> dt.datetime | None:
    try:
        day = parse_day(_text(element, ns, tag))
    except ValueError:
        raise RecordError(f"bad <{tag}> date") from None
    return dt.datetime.combine(day, dt.time()) if day is not None else None


def _from_arxiv(element: Element) -> PaperRecord:
    fields = _common(element, ARXIV)
    authors = []
    for author in element.findall(f"{{{ARXIV}}}authors/{{{ARXIV}}}author"):
        parts = (_text(author, ARXIV, tag) for tag in ("forenames", "keyname", "suffix"))
        name = " ".join(p for p in parts if p)
        if name:
            authors.append(name)
    created = _midnight(element, ARXIV, "created")
    updated = _midnight(element, ARXIV, "updated")
    # This format has no version numbers; <updated> appears only once there is a v2.
    version = fields.pop("version") or (1 if updated is None and created is not None else None)
    return PaperRecord(
        **fields,
        version=version,
        authors=tuple(authors) or None,
        submitted=created,
        updated=updated or created,
    )


def split_authors(text: str) -> tuple[str, ...]:
    """Split arXivRaw's author string on commas and "and", dropping (affiliations)."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    pieces = re.split(r"([()])", text)
    for piece in pieces:
        if piece == "(":
            depth += 1
        elif piece == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            parts = _AUTHOR_SEPARATOR.split(piece)
            current.append(parts[0])
            for part in parts[1:]:
                names.append("".join(current))
                current = [part]
    names.append("".join(current))
    return tuple(n for n in (clean_text(name) for name in names) if n)


def _from_arxiv_raw(element: Element) -> PaperRecord:
    fields = _common(element, ARXIV_RAW)
    dates: dict[int, dt.datetime] = {}
    for version in element.findall(f"{{{ARXIV_RAW}}}version"):
        match = re.fullmatch(r"v(\d{1,6})", (version.get("version") or "").strip())
        date_text = (version.findtext(f"{{{ARXIV_RAW}}}date") or "").strip()
        if not match:
            raise RecordError(f"bad version {version.get('version')!r}")
        try:
            when = email.utils.parsedate_to_datetime(date_text)
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
        except (TypeError, ValueError, OverflowError):
            raise RecordError(f"bad version date {date_text[:40]!r}") from None
        dates[int(match.group(1))] = when
    authors = split_authors(_text(element, ARXIV_RAW, "authors") or "")
    latest = max(dates) if dates else None
    fields.pop("version")
    return PaperRecord(
        **fields,
        version=latest,
        authors=authors or None,
        submitted=dates.get(1),
        updated=dates[latest] if latest is not None else None,
    )


class OaiPmhSource(RecordCounter):
    """Harvest one `ListRecords` list page by page, checkpointing the resumptionToken."""

    name = NAME
    unit = "records"

    def __init__(
        self,
        *,
        http: PoliteClient,
        url: str,
        key: str,
        set_spec: str | None,
        metadata_prefix: str,
        from_: dt.date | None,
        until: dt.date | None,
        token: str | None = None,
        high_water: dt.date | None = None,
        feature: bool = False,
    ) -> None:
        self.http = http
        self.url = check_url(url)
        self.key = key
        self.set_spec = set_spec
        self.metadata_prefix = metadata_prefix
        self.from_ = from_
        self.until = until
        self.token = token
        self.high_water = high_water
        self.feature = feature

    def read(self) -> Iterator[SourceItem]:
        try:
            yield from self._pages()
        finally:
            self.http.close()

    def _list_params(self) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "verb": "ListRecords",
            "metadataPrefix": self.metadata_prefix,
        }
        if self.from_ is not None:
            params["from"] = self.from_.isoformat()
        if self.until is not None:
            params["until"] = self.until.isoformat()
        if self.set_spec:
            params["set"] = self.set_spec
        return params

    def _done_state(self, high_water: dt.date | None) -> dict[str, Any] | None:
        return {"high_water": high_water.isoformat()} if high_water is not None else None

    def _pages(self) -> Iterator[SourceItem]:
        high_water = self.high_water
        resuming = self.token is not None
        params: dict[str, str | int] = (
            {"verb": "ListRecords", "resumptionToken": self.token}
            if self.token is not None
            else self._list_params()
        )
        seen_tokens: set[str] = set() if self.token is None else {self.token}
        empty_pages = 0
        while True:
            page = self.http.get(self.url, params=params, accept=(400,))
            try:
                listing = parse_list_page(page.body)
                if listing.error is None and page.status >= 400:
                    raise PageError(f"HTTP {page.status} without an OAI-PMH error")
            except PageError as exc:
                yield Rejected(page.url, str(exc))
                return
            if listing.error is not None:
                code, message = listing.error
                if code == "noRecordsMatch":
                    yield Checkpoint(self.key, self._done_state(high_water))
                    return
                if code == "badResumptionToken" and resuming:
                    # Tokens expire: list the stored window again (the store skips repeats).
                    log.warning("%s: stored resumptionToken expired; listing again", NAME)
                    resuming = False
                    seen_tokens.clear()  # a fresh list may hand out the same tokens again
                    params = self._list_params()
                    continue
                yield Rejected(page.url, f"OAI-PMH error {code}: {message or 'no message'}")
                return
            resuming = False
            if listing.complete_size is not None:
                self._total = listing.complete_size
            for number, element in enumerate(listing.records, start=1):
                stamp = header_datestamp(element)
                if stamp is not None:
                    high_water = max(high_water or stamp, stamp)
                try:
                    record = check_record(record_from_oai(element))
                except RecordError as exc:
                    yield Rejected(f"{page.url} record {number}", str(exc))
                    continue
                yield record
                if self.feature and record.submitted is not None:
                    yield Featuring(record.paper_id, record.submitted.date(), source=NAME)
            self._done = (listing.cursor or self._done) + len(listing.records)
            if listing.token is None:
                yield Checkpoint(self.key, self._done_state(high_water))
                return
            empty_pages = empty_pages + 1 if not listing.records else 0
            loop = _loop(listing.token, seen_tokens, empty_pages)
            if loop is not None:
                # The records so far are stored; the checkpoint keeps the last good token.
                yield Rejected(page.url, f"stopped: {loop}")
                return
            seen_tokens.add(listing.token)
            yield Checkpoint(
                self.key,
                {
                    "token": listing.token,
                    "from": self.from_.isoformat() if self.from_ else None,
                    "until": self.until.isoformat() if self.until else None,
                    "set": self.set_spec,
                    "prefix": self.metadata_prefix,
                    "high_water": high_water.isoformat() if high_water else None,
                },
            )
            params = {"verb": "ListRecords", "resumptionToken": listing.token}


MAX_EMPTY_PAGES = 20


def _loop(token: str, seen: set[str], empty_pages: int) -> str | None:
    """Say why the harvest is going round in circles, or None if it is moving on."""
    if token in seen:
        return f"the server sent resumptionToken {token[:80]!r} again, so the list would never end"
    if empty_pages >= MAX_EMPTY_PAGES:
        return f"{empty_pages} pages in a row without a record, so the list is not moving on"
    return None


def _stored_day(value: Any) -> dt.date | None:
    try:
        return parse_day(value)
    except ValueError:
        return None


def oai_source(
    *,
    db: Database,
    settings: Settings,
    set_spec: str | None,
    from_: dt.date | None,
    until: dt.date | None,
    metadata_prefix: str = "arXiv",
    feature: bool = False,
    clock: Clock | None = None,
) -> Source:
    """Build the OAI-PMH source for `set_spec` (e.g. `cs`, `physics:astro-ph`) and a date range.

    It resumes a stored resumptionToken when the range matches (or none is given); without
    `from_` it starts from the stored high-water date, or harvests the whole set.
    """
    if metadata_prefix not in FORMATS:
        raise ValueError(f"metadata_prefix must be one of {sorted(FORMATS)}")
    if set_spec is not None and not _SET.match(set_spec):
        raise ValueError(f"not an OAI set: {set_spec!r} (expected e.g. cs, physics:astro-ph)")
    if from_ is not None and until is not None and from_ > until:
        raise ValueError(f"from ({from_}) is after until ({until})")
    key = f"{set_spec or 'all'}/{metadata_prefix}"
    with db.read() as conn:
        state = load_state(conn, source=NAME, key=key) or {}
    high_water = _stored_day(state.get("high_water"))
    token = state.get("token")
    stored_from = _stored_day(state.get("from"))
    stored_until = _stored_day(state.get("until"))
    begin, end = (from_ if from_ is not None else high_water), until
    if isinstance(token, str) and token:
        if from_ in (None, stored_from) and until in (None, stored_until):
            begin, end = stored_from, stored_until
        else:
            token = None
    else:
        token = None
    return OaiPmhSource(
        http=PoliteClient.from_settings(settings, clock=clock),
        url=settings.oai_pmh_url,
        key=key,
        set_spec=set_spec,
        metadata_prefix=metadata_prefix,
        from_=begin,
        until=end,
        token=token,
        high_water=high_water,
        feature=feature,
    )
