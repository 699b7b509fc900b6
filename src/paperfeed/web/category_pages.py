"""`/categories/{category}`: one arXiv category's papers, the most recently featured first,
paginated, with its RSS and Atom feeds (`/categories/{category}.rss|.atom`, web/feeds.py).

The path takes a category name only (`cs.CL`, `hep-th`), never `cs.CL.rss`: those go on to the
feeds, whose route is registered after this one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.convertors import Convertor, register_url_convertor

from paperfeed.db.cache import cached
from paperfeed.db.feed import FeedItem, count_in_category, recent_in_category
from paperfeed.db.feed_facets import featurings
from paperfeed.db.papers import get_papers
from paperfeed.db.upvotes import card_stats
from paperfeed.hub import Hub
from paperfeed.web.cards import reader_id
from paperfeed.web.feed_links import alternate_links
from paperfeed.web.feed_pages import anonymous_page, cached_page
from paperfeed.web.paging import LoopHub, page_number
from paperfeed.web.rendering import templates

PAGE_SIZE = 30
MAX_NAME = 40


class CategoryConvertor(Convertor[str]):
    """An arXiv category name (feed_links.CATEGORY_NAME) not followed by a feed's suffix."""

    regex = r"[A-Za-z][A-Za-z0-9-]*(?:\.(?!(?:rss|atom)$)[A-Za-z0-9-]+)?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("category", CategoryConvertor())

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def category_url(category: str, page: int = 1) -> str:
    """The path of a category's page."""
    return f"/categories/{category}" + (f"?page={page}" if page > 1 else "")


@router.api_route("/categories/{category:category}", methods=["GET", "HEAD"], name="category")
async def category_page(
    request: Request, hub: LoopHub, category: str, page: str | None = None
) -> Response:
    """Show a category's papers, the most recently featured first."""
    if len(category) > MAX_NAME:
        raise HTTPException(status_code=404, detail="There is no such category.")
    number = page_number(page)
    fast = cached_page(request, hub, "category.html")
    if fast is not None:
        return fast
    return await run_in_threadpool(_category_page, request, hub, category, number)


def _latest_announced(hub: Hub, category: str, *, offset: int) -> dict[str, Any]:
    """A page of the category's papers by announcement day, newest first, for a category whose
    papers nobody featured yet: a chip never leads to an empty page while the store has some."""
    index = hub.search_index
    index.ensure_fresh()
    facets = index.facets
    allowed = index.allowed_ids(since=None, until=None, categories=[category]) or frozenset()
    ranked = sorted(
        (pid for pid in allowed if pid in facets),
        key=lambda pid: (facets[pid].day or dt.date.min, pid),
        reverse=True,
    )
    chosen = ranked[offset : offset + PAGE_SIZE]
    with hub.db.read() as conn:
        papers = get_papers(conn, chosen)
        stats = card_stats(conn, chosen, user_id=None)
    items = [
        FeedItem(papers[pid], facets[pid].day or dt.date.min, stats[pid].upvotes, "announced")
        for pid in chosen
        if pid in papers
    ]
    return {"items": items, "total": len(ranked), "stats": stats, "featured": {}, "latest": True}


def _category_page(request: Request, hub: Hub, category: str, page: int) -> Response:
    offset = (page - 1) * PAGE_SIZE

    def load() -> dict[str, Any]:
        with hub.db.read() as conn:
            items = recent_in_category(conn, category, limit=PAGE_SIZE, offset=offset)
            ids = [item.paper.paper_id for item in items]
            return {
                "items": items,
                "total": count_in_category(conn, category),
                "stats": card_stats(conn, ids, user_id=None),
                "featured": featurings(conn, ids),
            }

    data = cached(hub.db, ("category", category, page), load)
    if data["total"] == 0:  # nothing featured yet (a new hub, the demo): the latest announced
        data = {**data, **_latest_announced(hub, category, offset=offset)}
    user_id = reader_id(request)
    if user_id is not None:
        ids = [item.paper.paper_id for item in data["items"]]
        with hub.db.read() as conn:
            data = {**data, "stats": card_stats(conn, ids, user_id=user_id)}
    pages = max(1, math.ceil(data["total"] / PAGE_SIZE))
    if page > pages:
        raise HTTPException(status_code=404, detail=f"{category} has {pages} page(s) of papers.")
    context = {
        "latest": False,
        **data,
        "category": category,
        "feeds": alternate_links(f"categories/{category}", {}, f"Papers in {category}"),
        "offset": offset,
        "page": page,
        "pages": pages,
        "prev_page_url": category_url(category, page - 1) if page > 1 else None,
        "next_page_url": category_url(category, page + 1) if page < pages else None,
    }
    if user_id is not None:
        return templates.TemplateResponse(request, "category.html", context)
    return anonymous_page(request, hub, "category.html", lambda: context)
