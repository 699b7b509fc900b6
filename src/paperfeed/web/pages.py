"""HTML pages: one page per paper (`/papers/{id}`) and search; the feed is in feed_pages.py.

Routes parse the request, read through the services and `paperfeed.db`, and render a Jinja2
template (rendering.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import fields
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paperfeed.citations import bibtex
from paperfeed.community.links import may_edit_links
from paperfeed.community.papers import paper_community
from paperfeed.community.reports import reported_by
from paperfeed.community.upvotes import card_stats
from paperfeed.db.feed import days_featured, recent_in_category
from paperfeed.db.feed_facets import featurings
from paperfeed.db.hf_papers import hf_paper
from paperfeed.db.keyphrases import get_keyphrases
from paperfeed.db.links import with_code
from paperfeed.db.papers import get_paper
from paperfeed.hub import Hub
from paperfeed.models import PaperStatus, parse_arxiv_id
from paperfeed.search.hybrid import MAX_LIMIT, SearchHit, checked_query, search
from paperfeed.search.keyword import paper_day
from paperfeed.search.similar import PaperNotFound, similar_papers
from paperfeed.web.auth import viewer
from paperfeed.web.cards import reader_id
from paperfeed.web.deps import HubDep
from paperfeed.web.feed_links import CATEGORY_NAME, alternate_links
from paperfeed.web.paging import page_number
from paperfeed.web.rendering import arxiv_links, paper_url, render_error, templates

logger = logging.getLogger(__name__)


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Pages answer HEAD too (uptime checks and link checkers use it); FastAPI does not add it itself.
router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


# Routes


@router.api_route("/papers/{paper_id:path}", methods=["GET", "HEAD"], name="paper")
def paper(request: Request, hub: HubDep, paper_id: str) -> Response:
    """Show one paper; versioned arXiv ids redirect to the id without version."""
    if not paper_id:
        return RedirectResponse("/", status_code=307)
    parsed = parse_arxiv_id(paper_id)
    if parsed is not None and parsed[0] != paper_id:
        return RedirectResponse(paper_url(parsed[0]), status_code=301)
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id, include_hidden=True)
        if stored is None:
            message = f"There is no paper {_quoted(paper_id)} here; it may not be imported yet."
            return render_error(request, 404, message, links=arxiv_links(paper_id))
        if stored.record.status is not PaperStatus.ACTIVE:
            what = "withdrawn" if stored.record.status is PaperStatus.WITHDRAWN else "removed"
            return render_error(request, 404, f"The paper {_quoted(paper_id)} has been {what}.")
        days = days_featured(conn, paper_id)
        featured = featurings(conn, [paper_id]).get(paper_id)
        phrases = get_keyphrases(conn, [paper_id]).get(paper_id, [])
        from_hf = hf_paper(conn, paper_id)
    community = paper_community(db=hub.db, paper_id=paper_id, user=viewer(request))
    context: dict[str, Any] = {f.name: getattr(community, f.name) for f in fields(community)}
    similar = _similar(hub, paper_id)
    context.update(
        paper=stored.record,
        days=days,
        similar=similar,
        featured=featured,
        keyphrases=phrases,
        from_hf=from_hf,
    )
    me = viewer(request)
    context["reported"] = (
        reported_by(
            db=hub.db, user_id=me.user_id, comment_ids=[c.comment_id for c in community.comments]
        )
        if me
        else set()
    )
    context["bibtex"] = bibtex([stored.record])
    context["can_edit_links"] = may_edit_links(db=hub.db, paper_id=paper_id, user=viewer(request))
    context["today"] = dt.datetime.now(dt.UTC).date()  # the curator's "feature on" default
    context["submitted"] = request.query_params.get("submitted") == "1"
    return templates.TemplateResponse(request, "paper.html", context)


PAGE_SIZE = 20
MAX_PAGE = 50
RECENT_SIZE = 50  # papers listed for a category without a query
# Sorting by date or votes reorders the best matches only: sorting every paper that shares a
# word with the query would put the newest loosely related paper first.
SORT_POOL = 50
SEARCH_SORTS = {"": "Best match", "newest": "Newest", "upvotes": "Most upvoted"}


@router.api_route("/search", methods=["GET", "HEAD"], name="search")
def search_page(
    request: Request,
    hub: HubDep,
    q: str = "",
    since: str = "",
    until: str = "",
    category: str = "",
    has_code: str = "",
    page: str | None = None,
    sort: str = "",
) -> Response:
    """Search papers (keyword + semantic), with date, category and "has code" filters,
    paginated; sorted by relevance, or the best SORT_POOL matches by date or by upvotes."""
    query = checked_query(q)  # QueryTooLong: 400 (web/app.py)
    sort = sort if sort in SEARCH_SORTS else ""
    number = min(page_number(page), MAX_PAGE)
    since_day = _parse_day(since) if since else None
    until_day = _parse_day(until) if until else None
    categories = [category.strip()] if category.strip() else None
    code_only = has_code.strip().lower() in ("1", "true", "on")
    context: dict[str, Any] = {
        "has_code": code_only,
        "query": query,
        "since": since_day.isoformat() if since_day else "",
        "until": until_day.isoformat() if until_day else "",
        "category": category.strip(),
        "hits": [],
        "notices": [],
        "mode": "keyword",
        "offset": (number - 1) * PAGE_SIZE,
        "prev_url": None,
        "next_url": None,
        "stats": {},
        "featured": {},
        "feeds": [],
        "recent": [],
        "similar_to": None,
        "sort": sort,
        "sorts": SEARCH_SORTS,
        "total": 0,
    }
    if not query and CATEGORY_NAME.match(context["category"]):
        # A category alone (a card's category chip): its most recently featured papers.
        with hub.db.read() as conn:
            recent = recent_in_category(conn, context["category"], limit=RECENT_SIZE)
            ids = [item.paper.paper_id for item in recent]
            context["featured"] = featurings(conn, ids)
        context.update(
            recent=recent,
            stats=card_stats(db=hub.db, paper_ids=ids, user_id=reader_id(request)),
            feeds=_search_feeds(context["category"], {}, context["category"])[2:],
        )
    if query:
        offset = (number - 1) * PAGE_SIZE
        results = search(
            hub.search_index,
            hub.embedder,
            query,
            since=since_day,
            until=until_day,
            categories=categories,
            limit=MAX_LIMIT if code_only else (SORT_POOL if sort else PAGE_SIZE + 1),
            offset=0 if (code_only or sort) else offset,
            embed_timeout_s=hub.settings.embed_timeout_s,
        )
        found = results.hits
        if code_only:  # among the best MAX_LIMIT matches, those with code
            with hub.db.read() as conn:
                coded = with_code(conn, [hit.paper.paper_id for hit in found])
            found = [hit for hit in found if hit.paper.paper_id in coded]
        params = {
            "q": query,
            "since": context["since"],
            "until": context["until"],
            "category": context["category"],
            "has_code": "1" if code_only else "",
            "sort": sort,
        }
        base = {k: v for k, v in params.items() if v}

        def page_url(number: int) -> str:
            return "/search?" + urlencode({**base, **({"page": number} if number > 1 else {})})

        if sort:
            found = _sorted_hits(hub, found, sort, user_id=reader_id(request))
            context["total"] = len(found)
            found = found[offset:]
        elif code_only:
            context["total"] = len(found)
            found = found[offset:]
        else:
            context["total"] = results.total
        hits = found[:PAGE_SIZE]
        stats = card_stats(
            db=hub.db, paper_ids=[hit.paper.paper_id for hit in hits], user_id=reader_id(request)
        )
        with hub.db.read() as conn:
            context["featured"] = featurings(conn, [hit.paper.paper_id for hit in hits])
        context.update(
            hits=hits,
            stats=stats,
            feeds=_search_feeds(query, base, context["category"]),
            notices=results.notices,
            mode=results.mode,
            similar_to=results.paper_id,  # the query named this paper: offer its similar ones
            prev_url=page_url(number - 1) if number > 1 else None,
            next_url=page_url(number + 1) if len(found) > PAGE_SIZE and number < MAX_PAGE else None,
        )
    return templates.TemplateResponse(request, "search.html", context)


def _sorted_hits(
    hub: Hub, hits: list[SearchHit], sort: str, *, user_id: int | None
) -> list[SearchHit]:
    """The best matches newest first (by the day a paper is filed under) or most upvoted first;
    ties keep their relevance order."""
    if sort == "newest":
        return sorted(hits, key=lambda h: paper_day(h.paper) or dt.date.min, reverse=True)
    stats = card_stats(db=hub.db, paper_ids=[h.paper.paper_id for h in hits], user_id=user_id)
    return sorted(hits, key=lambda h: -stats[h.paper.paper_id].upvotes)


def _search_feeds(query: str, params: dict[str, str], category: str) -> list[dict[str, Any]]:
    feeds = alternate_links("search", params, f"Search: {query}")
    if category and CATEGORY_NAME.match(category):  # the whole category, too (web/feeds.py)
        feeds += alternate_links(f"categories/{category}", {}, f"Papers in {category}")
    return feeds


def _similar(hub: Hub, paper_id: str) -> list[SearchHit]:
    try:
        return similar_papers(hub.search_index, paper_id, limit=8)
    except PaperNotFound:
        return []
    except Exception:  # similar papers are a bonus: a broken index must not take the page down
        logger.exception("similar papers failed for %s", paper_id)
        return []


def _parse_day(text: str) -> dt.date:
    # date.fromisoformat alone also takes "20260320" and week dates ("2026-W12-5").
    try:
        if _DAY.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise HTTPException(
        status_code=400,
        detail=f"{_quoted(text)} is not a date. Give one as YYYY-MM-DD, for example 2026-03-20.",
    )


def _quoted(text: str, *, limit: int = 80) -> str:
    # User input goes back into the page (autoescaped), cut short so a long URL stays readable.
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"
