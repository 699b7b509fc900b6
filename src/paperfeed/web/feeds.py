"""RSS 2.0 and Atom feeds of every list: a day/week/month, trending, a search, a category and a
public collection. Written with feedgen; links are absolute, built on `settings.public_url`.

    /papers.rss?date=|week=|month=     /papers.atom?…        (no period: the latest day)
    /trending.rss?window=day|week|month                      /trending.atom?…
    /search.rss?q=&category=&since=&until=                   /search.atom?…
    /categories/{category}.rss                               /categories/{category}.atom
    /collections/{id}.rss                                    /collections/{id}.atom
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from feedgen.feed import FeedGenerator
from markupsafe import Markup

from paperfeed.community.collections import NoSuchCollection, reading_list, visible_collection
from paperfeed.community.trending import current_window, scored_papers
from paperfeed.db.cache import cached
from paperfeed.db.feed import home_day, papers_for_period, recent_in_category
from paperfeed.db.trending import papers_for_scores
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.periods import BadPeriod, Period, parse_day, parse_period
from paperfeed.search.hybrid import checked_query, search
from paperfeed.web.feed_links import ATOM_TYPE, CATEGORY_NAME, RSS_TYPE
from paperfeed.web.feed_pages import period_label, period_url
from paperfeed.web.linkify import linkify
from paperfeed.web.paging import LoopHub
from paperfeed.web.rendering import paper_url
from paperfeed.web.trending_pages import parse_window

FEED_SIZE = 50

Format = Literal["rss", "atom"]

# XML 1.0 cannot carry most control characters; a stray one in an abstract must not break a feed.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed: a paper, when it entered the list, and a line about why."""

    paper: PaperRecord
    when: dt.datetime | dt.date | None
    note: str = ""
    # A reader's own words (a collection note): written as escaped HTML with its links
    # clickable, so a reader that renders the summary as HTML runs nothing of it.
    reader_note: str = ""


@dataclass(frozen=True, slots=True)
class FeedList:
    title: str
    description: str
    page_path: str  # the HTML page of the same list
    entries: Sequence[FeedEntry]


router = APIRouter(include_in_schema=False)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _aware(moment: dt.datetime | dt.date | None) -> dt.datetime:
    if moment is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _html_summary(note: str, abstract: str) -> str:
    """A summary as HTML: the note (escaped, links made, lines kept), then the abstract."""
    lines = Markup("<br>").join(linkify(_clean(line)) for line in note.splitlines())
    return str(Markup("<p>{}</p><p>{}</p>").format(lines, _clean(abstract)))


def render_feed(request: Request, listing: FeedList, fmt: Format) -> bytes:
    """Write `listing` as RSS 2.0 or Atom 1.0."""
    base = str(request.app.state.hub.settings.public_url).rstrip("/")
    site = request.app.state.hub.settings.site_name
    self_url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_clean(f"{listing.title} · {site}"))
    feed.description(_clean(listing.description))
    # feedgen writes the last link as RSS's <channel><link>: the HTML page goes last.
    feed.link(href=self_url, rel="self", type=RSS_TYPE if fmt == "rss" else ATOM_TYPE)
    feed.link(href=base + listing.page_path, rel="alternate")
    feed.language("en")
    feed.generator("paperfeed")
    newest = max((_aware(e.when) for e in listing.entries), default=_aware(None))
    feed.updated(newest)
    for entry in listing.entries:
        paper = entry.paper
        link = base + paper_url(paper.paper_id)
        item = feed.add_entry(order="append")
        item.id(link)
        item.guid(link, permalink=True)
        item.title(_clean(paper.title or f"Untitled paper {paper.paper_id}"))
        item.link(href=link)
        if entry.reader_note:
            summary = _html_summary(entry.reader_note, paper.abstract)
        else:
            summary = _clean((entry.note + "\n\n" if entry.note else "") + paper.abstract)
        if fmt == "rss":
            item.description(summary)
        else:
            item.summary(summary, type="html" if entry.reader_note else None)
        when = _aware(entry.when)
        item.published(when)
        item.updated(when)
        for name in paper.authors or ():
            item.author({"name": _clean(name)})
        for category in paper.categories or ():
            item.category(term=_clean(category))
    body: bytes = feed.rss_str(pretty=False) if fmt == "rss" else feed.atom_str(pretty=False)
    return body


def _respond(
    request: Request, hub: Hub, key: tuple[Any, ...], fmt: Format, load: Callable[[], FeedList]
) -> Response:
    body = cached(
        hub.db,
        ("feed", fmt, str(request.app.state.hub.settings.public_url), *key),
        lambda: render_feed(request, load(), fmt),
    )
    media = RSS_TYPE if fmt == "rss" else ATOM_TYPE
    return Response(body, media_type=f"{media}; charset=utf-8")


def _format(text: str) -> Format:
    if text == "rss":
        return "rss"
    if text == "atom":
        return "atom"
    raise HTTPException(status_code=404, detail="Feeds end in .rss or .atom.")


@router.get("/papers.{fmt}")
def period_feed(
    request: Request,
    hub: LoopHub,
    fmt: str,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
) -> Response:
    """The most upvoted papers of a day, week or month (the latest day without one)."""
    kind = _format(fmt)
    try:
        period = parse_period(date=date, week=week, month=month)
    except BadPeriod as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None

    def load() -> FeedList:
        with hub.db.read() as conn:
            chosen = period
            if chosen is None:
                latest = home_day(conn)  # the day home shows
                chosen = Period("day", latest or dt.date.today())
            items = papers_for_period(conn, chosen.start, chosen.end, limit=FEED_SIZE)
        label = period_label(chosen)
        return FeedList(
            title=f"Papers of {label}",
            description=f"The {FEED_SIZE} most upvoted papers featured in {label}.",
            page_path=period_url(chosen),
            entries=[
                FeedEntry(i.paper, i.day, f"{i.upvotes} upvotes, featured {i.day}.") for i in items
            ],
        )

    return _respond(request, hub, ("papers", period), kind, load)


@router.get("/trending.{fmt}")
def trending_feed(request: Request, hub: LoopHub, fmt: str, window: str | None = None) -> Response:
    """The trending list of a window, with each paper's score."""
    kind = _format(fmt)
    chosen = parse_window(window)
    span = current_window(db=hub.db, window=chosen)

    def load() -> FeedList:
        scored = scored_papers(db=hub.db, span=span)[:FEED_SIZE]
        with hub.db.read() as conn:
            items = papers_for_scores(conn, scored)
        return FeedList(
            title=f"Trending this {chosen}",
            description=(
                f"Papers ranked by upvotes decayed over the last {chosen} "
                f"(formula {span.formula_version}), as of {span.now:%Y-%m-%d %H:%M} UTC."
            ),
            page_path=f"/trending?window={chosen}",
            entries=[FeedEntry(t.paper, span.now, f"Trending score {t.score:.2f}.") for t in items],
        )

    return _respond(request, hub, ("trending", span.window, span.now), kind, load)


@router.get("/search.{fmt}")
def search_feed(
    request: Request,
    hub: LoopHub,
    fmt: str,
    q: str = "",
    category: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """The best matches of a search, as the search page finds them."""
    kind = _format(fmt)
    query = checked_query(q)  # QueryTooLong: 400 (web/app.py)
    try:
        since_day = parse_day(since) if since else None
        until_day = parse_day(until) if until else None
    except BadPeriod as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    if not query:
        raise HTTPException(status_code=400, detail="Give a search query: ?q=words")
    categories = [category.strip()] if category.strip() else None
    params = {"q": query, "category": category.strip(), "since": since, "until": until}

    def load() -> FeedList:
        results = search(
            hub.search_index,
            hub.embedder,
            query,
            since=since_day,
            until=until_day,
            categories=categories,
            limit=FEED_SIZE,
            embed_timeout_s=hub.settings.embed_timeout_s,
        )
        return FeedList(
            title=f"Search: {query}",
            description=f"Papers matching “{query}”, best first.",
            page_path="/search?" + urlencode({k: v for k, v in params.items() if v}),
            entries=[
                FeedEntry(hit.paper, hit.paper.announced or hit.paper.submitted)
                for hit in results.hits
            ],
        )

    key = ("search", query, category.strip(), since_day, until_day)
    return _respond(request, hub, key, kind, load)


@router.get("/categories/{category}.{fmt}")
def category_feed(request: Request, hub: LoopHub, category: str, fmt: str) -> Response:
    """The papers of one arXiv category, most recently featured first."""
    kind = _format(fmt)
    if not CATEGORY_NAME.match(category) or len(category) > 40:
        raise HTTPException(status_code=404, detail="There is no such category.")

    def load() -> FeedList:
        with hub.db.read() as conn:
            items = recent_in_category(conn, category, limit=FEED_SIZE)
        return FeedList(
            title=f"Papers in {category}",
            description=f"The latest featured papers listed in {category}.",
            page_path=f"/categories/{category}",
            entries=[FeedEntry(i.paper, i.day, f"Featured {i.day}.") for i in items],
        )

    return _respond(request, hub, ("category", category), kind, load)


@router.get("/collections/{collection_id}.{fmt}")
def collection_feed(request: Request, hub: LoopHub, collection_id: str, fmt: str) -> Response:
    """A public collection's reading list: its papers, newest additions first, each with the
    owner's note before the abstract."""
    kind = _format(fmt)
    number = int(collection_id) if collection_id.isascii() and collection_id.isdigit() else 0
    try:
        if not 0 < number < 2**62:
            raise NoSuchCollection(number)
        visible_collection(db=hub.db, collection_id=number, user_id=None)
    except NoSuchCollection:
        raise HTTPException(status_code=404, detail="There is no such public collection.") from None

    def load() -> FeedList:
        shown, items = reading_list(db=hub.db, collection_id=number, limit=FEED_SIZE)
        return FeedList(
            title=f"{shown.name} (a reading list by {shown.owner})",
            description=shown.description or f"Papers collected by {shown.owner}.",
            page_path=f"/collections/{number}",
            entries=[
                FeedEntry(
                    paper, added, reader_note=f"Note by {shown.owner}: {note}" if note else ""
                )
                for paper, added, note in items
            ],
        )

    return _respond(request, hub, ("collection", number), kind, load)
