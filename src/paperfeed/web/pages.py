"""HTML pages: one page per paper (`/papers/{id}`) and search; the feed is in feed_pages.py.

Routes parse the request, read through `paperfeed.db` and render a Jinja2 template (autoescaped).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from paperfeed.db.community import card_stats
from paperfeed.db.feed import days_featured
from paperfeed.db.papers import get_paper
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord, PaperStatus, parse_arxiv_id
from paperfeed.search.hybrid import SearchHit, search
from paperfeed.search.similar import PaperNotFound, similar_papers
from paperfeed.web.assets import asset_globals
from paperfeed.web.auth import viewer
from paperfeed.web.cards import reader_id
from paperfeed.web.community_context import paper_community_context
from paperfeed.web.csrf import csrf_token, current_path
from paperfeed.web.deps import HubDep
from paperfeed.web.feed_links import CATEGORY_NAME, alternate_links
from paperfeed.web.linkify import linkify
from paperfeed.web.paging import page_number

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STYLESHEET = "style.css"

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Pages answer HEAD too (uptime checks and link checkers use it); FastAPI does not add it itself.
router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


# Filters and globals the templates use. English names are spelled out here rather than taken
# from strftime, whose %A and %B follow the process locale.


def long_date(day: dt.date) -> str:
    """Format a day as "Friday, 20 March 2026"."""
    return f"{_WEEKDAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: dt.date) -> str:
    """Format a day as "Fri 20 Mar" for the day navigation."""
    return f"{_WEEKDAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]}"


def short_authors(authors: Sequence[str] | None, *, keep: int = 3, most: int = 5) -> str:
    """Join author names, shortening lists longer than `most` to "A, B, C … and N more"."""
    if not authors:
        return ""
    if len(authors) <= most:
        return ", ".join(authors)
    return f"{', '.join(authors[:keep])} … and {len(authors) - keep} more"


def title_of(paper: PaperRecord) -> str:
    """Return a paper's title, or a stand-in for sources that have none."""
    return paper.title or f"Untitled paper {paper.paper_id}"


def ordered_categories(paper: PaperRecord) -> list[str]:
    """List a paper's categories with the primary one first, each once."""
    found = [paper.primary_category] if paper.primary_category else []
    found += paper.categories or ()
    return list(dict.fromkeys(found))


def arxiv_links(paper_id: str) -> dict[str, str] | None:
    """Return the arXiv abstract and PDF URLs of an arXiv id, or None for other ids."""
    parsed = parse_arxiv_id(paper_id)
    if parsed is None:
        return None
    return {
        "abs": f"https://arxiv.org/abs/{parsed[0]}",
        "pdf": f"https://arxiv.org/pdf/{parsed[0]}",
    }


def paper_url(paper_id: str) -> str:
    """Return the path of a paper's page; only an arXiv id (`hep-th/9901001`) keeps a slash.

    Any other id is one fully encoded segment, so `../../dev/mailbox` cannot lead a browser to
    another page; `.` and `..` (dot segments even when encoded) are encoded twice and 404.
    """
    parsed = parse_arxiv_id(paper_id)
    if parsed is not None and paper_id in {parsed[0], f"{parsed[0]}v{parsed[1]}"}:
        return "/papers/" + quote(paper_id, safe="/")
    segment = quote(paper_id, safe="")
    if segment in {".", ".."}:
        segment = quote(segment.replace(".", "%2E"), safe="")
    return "/papers/" + segment


def feed_url(day: dt.date) -> str:
    """Return the path of one day's feed."""
    return f"/papers?date={day.isoformat()}"


def doi_url(doi: str) -> str:
    """Return the resolver URL of a DOI."""
    return "https://doi.org/" + quote(doi.strip(), safe="/")


def _stylesheet_version() -> str:
    # A content hash in the URL lets browsers cache the CSS for as long as it stays the same.
    return hashlib.blake2b((STATIC_DIR / STYLESHEET).read_bytes(), digest_size=6).hexdigest()


def _site_context(request: Request) -> dict[str, Any]:
    return {"site_name": request.app.state.hub.settings.site_name}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("paperfeed.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        long_date=long_date,
        short_date=short_date,
        short_authors=short_authors,
        categories=ordered_categories,
        title_of=title_of,
        paper_url=paper_url,
        feed_url=feed_url,
        doi_url=doi_url,
        linkify=linkify,  # plain text with its http(s) links clickable (comments, mail)
    )
    env.globals.update(
        csrf_token=csrf_token,  # forms: <input type="hidden" name="csrf_token" value="…">
        current_path=current_path,
        viewer=viewer,  # the signed-in user, or None
        arxiv_links=arxiv_links,
        stylesheet=f"/static/{STYLESHEET}?v={_stylesheet_version()}",
        **asset_globals(),  # site_script, katex
    )
    return env


templates = Jinja2Templates(env=_environment(), context_processors=[_site_context])


def render_error(
    request: Request, status_code: int, message: str | None = None, **extra: Any
) -> Response:
    """Render the error page with a readable message for `status_code`."""
    status = HTTPStatus(status_code)
    if not message or message == status.phrase:
        message = {
            404: "There is nothing at this address.",
            405: "This page cannot be used that way.",
        }.get(status_code, "Something went wrong with this request.")
    title = status.phrase.capitalize()  # "Not found", "Bad request"
    context = {"status": status_code, "title": title, "message": message, **extra}
    return templates.TemplateResponse(request, "error.html", context, status_code=status_code)


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
        context = paper_community_context(conn, paper_id, viewer(request))
    similar = _similar(hub, paper_id)
    context.update(paper=stored.record, days=days, similar=similar)
    context["today"] = dt.datetime.now(dt.UTC).date()  # the curator's "feature on" default
    context["submitted"] = request.query_params.get("submitted") == "1"
    return templates.TemplateResponse(request, "paper.html", context)


PAGE_SIZE = 20
MAX_PAGE = 50


@router.api_route("/search", methods=["GET", "HEAD"], name="search")
def search_page(
    request: Request,
    hub: HubDep,
    q: str = "",
    since: str = "",
    until: str = "",
    category: str = "",
    page: str | None = None,
) -> Response:
    """Search papers (keyword + semantic), with date and category filters, paginated."""
    query = q.strip()[:1000]
    number = min(page_number(page), MAX_PAGE)
    since_day = _parse_day(since) if since else None
    until_day = _parse_day(until) if until else None
    categories = [category.strip()] if category.strip() else None
    context: dict[str, Any] = {
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
        "feeds": [],
    }
    if query:
        results = search(
            hub.search_index,
            hub.embedder,
            query,
            since=since_day,
            until=until_day,
            categories=categories,
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
            embed_timeout_s=hub.settings.embed_timeout_s,
        )
        params = {
            "q": query,
            "since": context["since"],
            "until": context["until"],
            "category": context["category"],
        }
        base = {k: v for k, v in params.items() if v}

        def page_url(number: int) -> str:
            return "/search?" + urlencode({**base, **({"page": number} if number > 1 else {})})

        hits = results.hits[:PAGE_SIZE]
        with hub.db.read() as conn:
            stats = card_stats(
                conn, [hit.paper.paper_id for hit in hits], user_id=reader_id(request)
            )
        context.update(
            hits=hits,
            stats=stats,
            feeds=_search_feeds(query, base, context["category"]),
            notices=results.notices,
            mode=results.mode,
            prev_url=page_url(number - 1) if number > 1 else None,
            next_url=page_url(number + 1)
            if len(results.hits) > PAGE_SIZE and number < MAX_PAGE
            else None,
        )
    return templates.TemplateResponse(request, "search.html", context)


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
