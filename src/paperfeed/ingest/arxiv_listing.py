"""The arXiv listing source: one category's announcements of the day from its Atom feed
(`rss.arxiv.org/atom/{category}`), each paper with its kind (new, cross-list, replacement).

Fetched by the daily loop's fetch job through the polite client. A feed dated before the day
asked for, or an empty one, means the listing is not out yet (`ListingNotReady`).
https://info.arxiv.org/help/rss_specifications.html describes the feed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperfeed.ingest._fields import MAX_ABSTRACT, MAX_TITLE, RecordError, check_record
from paperfeed.ingest._http import Clock, PageError, PoliteClient, check_url, parse_xml
from paperfeed.ingest.arxiv_api import normalize_categories
from paperfeed.models import PaperRecord, Rejected, clean_text, parse_arxiv_id, status_from_comment
from paperfeed.settings import Settings

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = ["Clock", "ListedPaper", "Listing", "ListingNotReady", "fetch_day_listings"]

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
DC = "http://purl.org/dc/elements/1.1/"
# arXiv's announce types: new, cross, replace, replace-cross.
KIND_OF = {"new": "new", "cross": "cross-list", "replace": "replacement"}
KIND_OF["replace-cross"] = "replacement"
_ABSTRACT = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:)?\s*", re.IGNORECASE)


class ListingNotReady(Exception):
    """The day's listing is not out yet (a late announcement, or none: a holiday)."""


@dataclass(frozen=True, slots=True)
class ListedPaper:
    """One entry of a category's listing: the paper as announced, and how it was announced."""

    record: PaperRecord
    category: str
    kind: str


@dataclass(frozen=True, slots=True)
class Listing:
    """A category's listing of one day."""

    category: str
    day: dt.date | None
    papers: list[ListedPaper]
    rejected: list[Rejected]


def listing_url(template: str, category: str) -> str:
    """The feed URL of one category: `{category}` in the template replaced."""
    return check_url(template.replace("{category}", category))


def _day(text: str | None) -> dt.date | None:
    if not text or not text.strip():
        return None
    try:
        # The date as arXiv writes it (its own offset): the listing's day, e.g.
        # 2026-03-16T00:00:00-04:00 is Monday's listing.
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _split_names(text: str) -> list[str]:
    # arXiv writes "A, B and C" (and "A and B"): commas, then a final " and ".
    *first, last = text.split(",")
    cleaned = (clean_text(part) for part in [*first, *last.split(" and ")])
    return [name for name in cleaned if name]


def _authors(entry: Element) -> tuple[str, ...] | None:
    names: list[str] = []
    for author in entry.iter(f"{{{ATOM}}}author"):
        names.extend(_split_names(author.findtext(f"{{{ATOM}}}name") or ""))
    creator = entry.findtext(f"{{{DC}}}creator")
    if creator and not names:
        names = _split_names(creator)
    return tuple(names) or None


def listed_paper(entry: Element, *, category: str, day: dt.date) -> ListedPaper:
    """Read one listing `<entry>`; raise RecordError if it is unusable."""
    raw_id = (entry.findtext(f"{{{ATOM}}}id") or "").strip().removeprefix("oai:arXiv.org:")
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise RecordError(f"not an arXiv id: {raw_id[:80]!r}")
    paper_id, version = parsed
    announce = (entry.findtext(f"{{{ARXIV}}}announce_type") or "").strip().lower()
    kind = KIND_OF.get(announce)
    if kind is None:
        raise RecordError(f"unknown announce type {announce[:40]!r}")
    title = clean_text(entry.findtext(f"{{{ATOM}}}title") or "")
    abstract = clean_text(_ABSTRACT.sub("", (entry.findtext(f"{{{ATOM}}}summary") or "").strip()))
    if not title or not abstract:
        raise RecordError("missing <title> or <summary>")
    if len(title) > MAX_TITLE or len(abstract) > MAX_ABSTRACT:
        raise RecordError("title or abstract too long")
    terms = [clean_text(c.get("term") or "") for c in entry.findall(f"{{{ATOM}}}category")]
    categories = tuple(dict.fromkeys(t for t in terms if t))
    comment = entry.findtext(f"{{{ARXIV}}}comment")
    comment = clean_text(comment) if comment else None
    record = PaperRecord(
        paper_id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=_authors(entry),
        categories=categories or None,
        primary_category=categories[0] if categories else None,
        # A replacement was announced new on an earlier day: the store keeps the earliest.
        announced=day if kind != "replacement" else None,
        comment=comment or None,
        license=clean_text(entry.findtext(f"{{{ATOM}}}rights") or "") or None,
        status=status_from_comment(comment),
    )
    return ListedPaper(record=check_record(record), category=category, kind=kind)


def parse_listing(body: bytes, *, category: str) -> Listing:
    """Parse one category's Atom listing; raise PageError if it is not one."""
    root = parse_xml(body)
    if root.tag != f"{{{ATOM}}}feed":
        raise PageError(f"expected an Atom <feed>, got <{root.tag}>")
    entries = root.findall(f"{{{ATOM}}}entry")
    day = None
    for entry in entries:
        day = _day(entry.findtext(f"{{{ATOM}}}published"))
        if day is not None:
            break
    day = day or _day(root.findtext(f"{{{ATOM}}}updated"))
    papers: list[ListedPaper] = []
    rejected: list[Rejected] = []
    if day is None:
        return Listing(category=category, day=None, papers=papers, rejected=rejected)
    for number, entry in enumerate(entries, start=1):
        try:
            papers.append(listed_paper(entry, category=category, day=day))
        except RecordError as exc:
            rejected.append(Rejected(f"{NAME} {category} entry {number}", str(exc)))
    return Listing(category=category, day=day, papers=papers, rejected=rejected)


NAME = "arxiv-listing"


def fetch_listing(*, http: PoliteClient, url_template: str, category: str, day: dt.date) -> Listing:
    """Fetch one category's listing of `day`; raise ListingNotReady when it is not out yet.

    A feed dated before `day` is yesterday's listing still (late, or a holiday); an empty feed
    says nothing. Network failures raise `FetchError` after the client's retries.
    """
    page = http.get(listing_url(url_template, category))
    listing = parse_listing(page.body, category=category)
    if listing.day is None or listing.day < day:
        raise ListingNotReady(
            f"{category}: the listing of {day} is not out yet "
            f"(the feed is of {listing.day or 'no day'})"
        )
    if listing.day > day:
        raise ListingNotReady(f"{category}: the feed is of {listing.day}, past {day}: too late")
    return listing


def fetch_day_listings(
    *, settings: Settings, day: dt.date, clock: Clock | None = None
) -> list[Listing]:
    """Fetch the listing of `day` of every category in `settings.arxiv_categories`, politely
    (one request per `arxiv_request_interval_s`, backoff, `Retry-After`).

    All or nothing: `ListingNotReady` as soon as one category's listing is not out.
    """
    categories = normalize_categories(settings.arxiv_categories)
    with PoliteClient.from_settings(settings, clock=clock) as http:
        return [
            fetch_listing(
                http=http, url_template=settings.arxiv_listing_url, category=category, day=day
            )
            for category in categories
        ]
