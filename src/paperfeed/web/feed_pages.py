"""The feed pages: `/` (the latest day; the demo's day while the store is the demo) and
`/papers?date=|week=|month=`, paginated.

Each page lists the papers featured in one day, ISO week or month, most upvoted first (or
newest first, `?sort=newest`), optionally only one category's (`?category=cs.CL`, with the
period's totals per category), with tabs for the three periods, links to the nearest periods
that have papers, and RSS/Atom links. The filter and the order stay in every link of the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import jinja2
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Connection

from paperfeed.community.featuring import demo_as_of
from paperfeed.db.cache import cached, peek
from paperfeed.db.feed import (
    count_featured,
    home_day,
    latest_feed_day,
    nearest_feed_days,
    papers_for_period,
)
from paperfeed.db.feed_facets import category_counts, featurings
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.periods import BadPeriod, Period, PeriodKind, parse_period, period_of
from paperfeed.recommend.signals import has_signals
from paperfeed.web.cards import reader_id
from paperfeed.web.cookies import HOME_COOKIE, cookie_policy, set_cookie
from paperfeed.web.feed_links import CATEGORY_NAME, alternate_links
from paperfeed.web.paging import LoopHub, page_number
from paperfeed.web.rendering import templates
from paperfeed.wording import MONTHS, long_date, short_date

PAGE_SIZE = 30
_MAX_CATEGORIES = 40  # in the category filter's list, the most frequent first

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def period_label(period: Period) -> str:
    """Name a period in full: "Friday, 20 March 2026", "Week 12 · 16-22 March 2026"…"""
    if period.kind == "day":
        return long_date(period.start)
    if period.kind == "month":
        return f"{MONTHS[period.start.month - 1]} {period.start.year}"
    first, last = period.start, period.last_day
    week = first.isocalendar().week
    if first.month == last.month:
        span = f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"
    elif first.year == last.year:
        span = f"{first.day} {MONTHS[first.month - 1]} – {last.day} {MONTHS[last.month - 1]}"
        span += f" {last.year}"
    else:
        span = f"{first.day} {MONTHS[first.month - 1]} {first.year} – "
        span += f"{last.day} {MONTHS[last.month - 1]} {last.year}"
    return f"Week {week} · {span}"


def period_short(period: Period) -> str:
    """Name a period briefly for the previous/next links: "Fri 20 Mar", "Week 11", "Feb 2026"."""
    if period.kind == "day":
        return short_date(period.start)
    if period.kind == "week":
        year, week, _ = period.start.isocalendar()
        return f"Week {week}, {year}"
    return f"{MONTHS[period.start.month - 1][:3]} {period.start.year}"


def period_url(period: Period, page: int = 1, filters: str = "") -> str:
    """Return the path of a period's feed page; `filters` is `ListFilter.query`."""
    return f"/papers?{period.query()}{filters}" + (f"&page={page}" if page > 1 else "")


SORTS = {"upvotes": "Most upvoted", "newest": "Newest"}


@dataclass(frozen=True, slots=True)
class ListFilter:
    """`?category=`, `?sort=` and `?has_code=1` of a list page, checked (else a 400 page)."""

    category: str = ""
    sort: str = "upvotes"
    has_code: bool = False

    @classmethod
    def parse(
        cls, category: str | None, sort: str | None, has_code: str | None = None
    ) -> ListFilter:
        name = (category or "").strip()
        if name and (len(name) > 40 or not CATEGORY_NAME.match(name)):
            raise HTTPException(
                status_code=400, detail="A category is an arXiv category name, such as cs.CL."
            )
        order = (sort or "upvotes").strip() or "upvotes"
        if order not in SORTS:
            raise HTTPException(status_code=400, detail="Sort by upvotes or newest.")
        code = (has_code or "").strip().lower()
        if code not in ("", "0", "1", "true", "false", "on"):
            raise HTTPException(status_code=400, detail="has_code is 1 (only papers with code).")
        return cls(name, order, code in ("1", "true", "on"))

    @property
    def query(self) -> str:
        """The filter as a query-string suffix ("&category=cs.CL&sort=newest"), or ""."""
        parts = {
            "category": self.category,
            "sort": "" if self.sort == "upvotes" else self.sort,
            "has_code": "1" if self.has_code else "",
        }
        return "".join(f"&{key}={value}" for key, value in parts.items() if value)


@jinja2.pass_context
def demo_day(context: jinja2.runtime.Context) -> dt.date | None:
    """The demo's "as of" day while the store is the demo (for the notice on every page)."""
    request = context.get("request")
    hub = getattr(request.app.state, "hub", None) if request is not None else None
    return demo_as_of(db=hub.db) if isinstance(hub, Hub) else None


templates.env.filters.update(
    period_label=period_label, period_short=period_short, period_url=period_url
)
templates.env.globals.update(demo_day=demo_day)

_TABS: tuple[tuple[PeriodKind, str], ...] = (("day", "Day"), ("week", "Week"), ("month", "Month"))
_TITLES: dict[PeriodKind, str] = {
    "day": "Daily papers",
    "week": "Weekly papers",
    "month": "Monthly papers",
}


@router.api_route("/", methods=["GET", "HEAD"], name="home")
async def home(
    request: Request,
    hub: LoopHub,
    page: str | None = None,
    category: str | None = None,
    sort: str | None = None,
    has_code: str | None = None,
    feed: str | None = None,
) -> Response:
    """Show the feed of the latest day that has featured papers (`db.feed.home_day`); a
    signed-in reader with signals goes to For you unless they chose the community feed
    (`?feed=community`, remembered until they open For you again)."""
    # Most requests are anonymous and repeat: they are answered on the event loop from the
    # cache; the rest go to the thread pool, where the store is read.
    fast = cached_page(request, hub, "feed.html")
    if fast is not None:
        return fast
    chosen = ListFilter.parse(category, sort, has_code)
    if feed == "community" or request.cookies.get(HOME_COOKIE) == "community":
        response = await run_in_threadpool(_home, request, hub, page, chosen)
        if feed == "community" and request.cookies.get(HOME_COOKIE) != "community":
            secure = cookie_policy(hub.settings).secure
            set_cookie(response, HOME_COOKIE, "community", 365 * 86400, secure)
        return response
    return await run_in_threadpool(_home_or_for_you, request, hub, page, chosen)


def _home_or_for_you(request: Request, hub: Hub, page: str | None, chosen: ListFilter) -> Response:
    user_id = reader_id(request)
    if user_id is not None and _ranks_for_you(hub) and has_signals(db=hub.db, user_id=user_id):
        return RedirectResponse("/for-you", status_code=303)
    return _home(request, hub, page, chosen)


def _ranks_for_you(hub: Hub) -> bool:
    """Whether For you can pick anything: it ranks stored vectors, and a hub without them
    (semantic search off, nothing embedded yet) keeps the community feed as home."""
    hub.search_index.ensure_fresh()
    vectors = hub.search_index.vectors
    return vectors is not None and len(vectors) > 0


def _home(request: Request, hub: Hub, page: str | None, chosen: ListFilter) -> Response:
    def load() -> dt.date | None:
        with hub.db.read() as conn:
            return home_day(conn)

    day = cached(hub.db, ("home-day",), load)
    if day is None:
        return templates.TemplateResponse(request, "feed.html", _no_feed_context())
    return _feed_page(request, hub, Period("day", day), page_number(page), chosen)


@router.api_route("/papers", methods=["GET", "HEAD"], name="feed")
async def feed(
    request: Request,
    hub: LoopHub,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    page: str | None = None,
    category: str | None = None,
    sort: str | None = None,
    has_code: str | None = None,
) -> Response:
    """Show the feed of one day, ISO week or month; without one, go to the latest day."""
    try:
        period = parse_period(date=date, week=week, month=month)
    except BadPeriod as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    number = page_number(page)
    chosen = ListFilter.parse(category, sort, has_code)
    if period is None:
        return RedirectResponse("/", status_code=307)
    fast = cached_page(request, hub, "feed.html")
    if fast is not None:
        return fast
    return await run_in_threadpool(_feed_page, request, hub, period, number, chosen)


def _no_feed_context() -> dict[str, Any]:
    return {
        "period": None,
        "title": _TITLES["day"],
        "items": [],
        "stats": {},
        "featured": {},
        "total": 0,
        "all_total": 0,
        "filter": ListFilter(),
        "sorts": SORTS,
        "category_counts": [],
        "chip_base": "/categories/",
        "earlier": None,
        "later": None,
        "earlier_day": None,
        "later_day": None,
        "store_empty": True,
        "tabs": [],
        "feeds": [],
        "offset": 0,
        "page": 1,
        "pages": 1,
        "prev_page_url": None,
        "next_page_url": None,
    }


def anonymous_page(
    request: Request,
    hub: Hub,
    template: str,
    context: Callable[[], dict[str, Any]],
    *,
    variant: Hashable = None,
) -> Response:
    """Render a list page for a reader who is not signed in, reusing the HTML until the store
    changes: every anonymous reader of one URL gets the same page.

    A page that carries a CSRF token (a form for this browser only) is never reused.
    """

    def render() -> bytes:
        return bytes(templates.TemplateResponse(request, template, context()).body)

    body = cached(hub.db, _html_key(request, template, variant), render)
    if b'name="csrf_token"' in body:
        body = render()
    return HTMLResponse(body)


def _html_key(request: Request, template: str, variant: Hashable) -> tuple[Hashable, ...]:
    return ("html", template, request.url.path, request.url.query, variant)


def cached_page(
    request: Request, hub: Hub, template: str, *, variant: Hashable = None
) -> Response | None:
    """The reused HTML of `anonymous_page` for this URL, if the reader is anonymous and the
    store has not changed since it was rendered; None otherwise. Reads no table."""
    if cookie_policy(hub.settings).session in request.cookies:
        return None
    body = peek(hub.db, _html_key(request, template, variant))
    if body is None or b'name="csrf_token"' in body:
        return None
    return HTMLResponse(body)


def _feed_page(
    request: Request, hub: Hub, period: Period, page: int, chosen: ListFilter
) -> Response:
    offset = (page - 1) * PAGE_SIZE

    def load() -> dict[str, Any]:
        # Everything here is the same for every anonymous reader, so it is cached until the
        # store changes (db/cache.py).
        with hub.db.read() as conn:
            return _load_period(conn, period, offset, chosen)

    data = cached(hub.db, ("feed", period, page, chosen), load)
    user_id = reader_id(request)
    if user_id is not None:
        ids = [item.paper.paper_id for item in data["items"]]
        with hub.db.read() as conn:
            data = {**data, "stats": card_stats(conn, ids, user_id=user_id)}
    pages = max(1, math.ceil(data["total"] / PAGE_SIZE))
    if page > pages:
        raise HTTPException(
            status_code=404,
            detail=f"{period_label(period)} has {pages} page{'s' if pages > 1 else ''} of papers.",
        )
    # The day and week tabs of a week or month go to its latest featured day, not its first
    # day, which often has no papers.
    anchor = data["latest"] or period.start
    context = {
        **data,
        "period": period,
        "filter": chosen,
        "sorts": SORTS,
        # A category chip narrows this same list to that category.
        "chip_base": period_url(
            period, 1, ListFilter(sort=chosen.sort, has_code=chosen.has_code).query
        )
        + "&category=",
        "title": _TITLES[period.kind],
        "tabs": [
            {
                "kind": kind,
                "label": label,
                "url": period_url(period_of(kind, anchor), filters=chosen.query),
                "current": kind == period.kind,
            }
            for kind, label in _TABS
        ],
        "feeds": alternate_links("papers", {period.param: period.value}, period_label(period)),
        "offset": offset,
        "page": page,
        "pages": pages,
        "prev_page_url": period_url(period, page - 1, chosen.query) if page > 1 else None,
        "next_page_url": period_url(period, page + 1, chosen.query) if page < pages else None,
    }
    if user_id is not None:
        return templates.TemplateResponse(request, "feed.html", context)
    return anonymous_page(request, hub, "feed.html", lambda: context)


def _load_period(
    conn: Connection, period: Period, offset: int, chosen: ListFilter
) -> dict[str, Any]:
    all_total = count_featured(conn, period.start, period.end)
    category = chosen.category or None
    total = (
        count_featured(conn, period.start, period.end, category=category, with_code=chosen.has_code)
        if category or chosen.has_code
        else all_total
    )
    items = papers_for_period(
        conn,
        period.start,
        period.end,
        limit=PAGE_SIZE,
        offset=offset,
        category=category,
        newest=chosen.sort == "newest",
        with_code=chosen.has_code,
    )
    earlier_day, later_day = nearest_feed_days(conn, period.start, period.end)
    latest = latest_feed_day(conn, since=period.start, before=period.end)
    ids = [item.paper.paper_id for item in items]
    return {
        "items": items,
        "stats": card_stats(conn, ids, user_id=None),
        "featured": featurings(conn, ids),
        "category_counts": category_counts(conn, period.start, period.end)[:_MAX_CATEGORIES],
        "total": total,
        "all_total": all_total,
        "latest": latest,
        "earlier_day": earlier_day,
        "later_day": later_day,
        "earlier": period_of(period.kind, earlier_day) if earlier_day else None,
        "later": period_of(period.kind, later_day) if later_day else None,
        "store_empty": all_total == 0 and earlier_day is None and later_day is None,
    }
