"""The trending page, `/trending?window=day|week|month`: papers ranked by docs/trending.md."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from paperfeed.db.trending import (
    TrendingWindow,
    newest_vote,
    papers_for_scores,
    trending_scores,
)
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.trending import FORMULA_VERSION, WINDOWS, Window, anchored_now, half_life
from paperfeed.web.cards import reader_id
from paperfeed.web.feed_cache import cached, peek
from paperfeed.web.feed_links import alternate_links
from paperfeed.web.feed_pages import anonymous_page, cached_page
from paperfeed.web.paging import LoopHub, page_number
from paperfeed.web.rendering import templates

PAGE_SIZE = 30
_LABELS: dict[Window, str] = {"day": "Today", "week": "This week", "month": "This month"}

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def parse_window(text: str | None) -> Window:
    """Read `?window=`; the week is the default."""
    if text is None or text == "":
        return "week"
    if text in WINDOWS:
        return text
    raise HTTPException(status_code=400, detail="The window is one of day, week or month.")


def current_window(hub: Hub, window: Window) -> TrendingWindow:
    """The window's "now" (see `db.trending.trending_window`), rounded up to the minute, so a
    minute's requests share one cached list; rounding up keeps the current minute's votes in.
    """

    def load() -> tuple[dt.datetime | None]:
        with hub.db.read() as conn:
            return (newest_vote(conn),)

    (newest,) = cached(hub.db, _NEWEST_VOTE, load)
    return _window_at(window, newest)


_NEWEST_VOTE = ("newest-vote",)


def _window_at(window: Window, newest: dt.datetime | None) -> TrendingWindow:
    wall = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    moment, anchored = anchored_now(wall + dt.timedelta(minutes=1), newest, window)
    return TrendingWindow(window, moment, anchored)


def scored_papers(hub: Hub, span: TrendingWindow) -> list[tuple[str, float, int]]:
    """`trending_scores` of a window, cached until the store changes or the minute turns."""

    def load() -> list[tuple[str, float, int]]:
        with hub.db.read() as conn:
            return trending_scores(conn, span)

    return cached(hub.db, ("trending", span.window, span.now), load)


@router.api_route("/trending", methods=["GET", "HEAD"], name="trending")
async def trending(
    request: Request, hub: LoopHub, window: str | None = None, page: str | None = None
) -> Response:
    """Show the papers trending today, this week or this month."""
    chosen = parse_window(window)
    number = page_number(page)
    # Repeats by anonymous readers are answered on the event loop (see feed_pages.home).
    newest = peek(hub.db, _NEWEST_VOTE)
    if newest is not None:
        span = _window_at(chosen, newest[0])
        fast = cached_page(request, hub, "trending.html", variant=span.now)
        if fast is not None:
            return fast
    return await run_in_threadpool(_trending, request, hub, chosen, number)


def _trending(request: Request, hub: Hub, chosen: Window, number: int) -> Response:
    span = current_window(hub, chosen)
    scored = scored_papers(hub, span)
    pages = max(1, math.ceil(len(scored) / PAGE_SIZE))
    if number > pages:
        raise HTTPException(status_code=404, detail=f"This trending list has {pages} pages.")
    offset = (number - 1) * PAGE_SIZE
    user_id = reader_id(request)

    def url(n: int) -> str:
        return f"/trending?window={chosen}" + (f"&page={n}" if n > 1 else "")

    def context() -> dict[str, Any]:
        with hub.db.read() as conn:
            items = papers_for_scores(conn, scored[offset : offset + PAGE_SIZE])
            stats = card_stats(conn, [t.paper.paper_id for t in items], user_id=user_id)
        return {
            "window": chosen,
            "span": span,
            "items": items,
            "stats": stats,
            "total": len(scored),
            "offset": offset,
            "page": number,
            "pages": pages,
            "prev_page_url": url(number - 1) if number > 1 else None,
            "next_page_url": url(number + 1) if number < pages else None,
            "tabs": [
                {"label": label, "url": f"/trending?window={key}", "current": key == chosen}
                for key, label in _LABELS.items()
            ],
            "label": _LABELS[chosen],
            "half_life": _duration(half_life(chosen)),
            "length": _duration(WINDOWS[chosen]),
            "formula_version": FORMULA_VERSION,
            "feeds": alternate_links("trending", {"window": chosen}, f"Trending {chosen}"),
        }

    if user_id is not None:
        return templates.TemplateResponse(request, "trending.html", context())
    # The HTML of the minute: its "now" is part of the page.
    return anonymous_page(request, hub, "trending.html", context, variant=span.now)


def _duration(span: dt.timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 48:
        return f"{hours:g} hours"
    return f"{hours / 24:g} days"
