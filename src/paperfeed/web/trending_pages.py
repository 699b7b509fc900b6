"""The trending page, `/trending?window=day|week|month`: papers ranked by docs/trending.md."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from paperfeed.community.trending import (
    cached_window,
    current_window,
    window_named,
    window_scores,
)
from paperfeed.db.feed_facets import featurings
from paperfeed.db.trending import papers_for_scores
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.trending import FORMULA_VERSION, WINDOWS, Window, half_life
from paperfeed.web.cards import reader_id
from paperfeed.web.feed_links import alternate_links
from paperfeed.web.feed_pages import anonymous_page, cached_page
from paperfeed.web.paging import LoopHub, page_number
from paperfeed.web.rendering import templates

PAGE_SIZE = 30
_LABELS: dict[Window, str] = {"day": "Today", "week": "This week", "month": "This month"}

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def parse_window(text: str | None) -> Window:
    """Read `?window=`; the week is the default."""
    try:
        return window_named(text)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


@router.api_route("/trending", methods=["GET", "HEAD"], name="trending")
async def trending(
    request: Request, hub: LoopHub, window: str | None = None, page: str | None = None
) -> Response:
    """Show the papers trending today, this week or this month."""
    chosen = parse_window(window)
    number = page_number(page)
    # Repeats by anonymous readers are answered on the event loop (see feed_pages.home).
    span = cached_window(db=hub.db, window=chosen)
    if span is not None:
        fast = cached_page(request, hub, "trending.html", variant=span.now)
        if fast is not None:
            return fast
    return await run_in_threadpool(_trending, request, hub, chosen, number)


def _trending(request: Request, hub: Hub, chosen: Window, number: int) -> Response:
    span = current_window(db=hub.db, window=chosen)
    listed = window_scores(db=hub.db, span=span)
    scored = listed.scored
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
            ids = [t.paper.paper_id for t in items]
            stats = card_stats(conn, ids, user_id=user_id)
            featured = featurings(conn, ids)
        return {
            "window": chosen,
            "span": span,
            "items": items,
            "stats": stats,
            "featured": featured,
            "total": len(scored),
            "own": listed.own,  # the window's own papers; the rest top the list up
            "earlier": listed.earlier,
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
