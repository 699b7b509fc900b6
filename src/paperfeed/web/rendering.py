"""How pages are rendered: the Jinja2 environment (autoescaped), its filters and globals,
and the error page every HTML error uses."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from paperfeed.author_names import parse_name
from paperfeed.community.authors import author_href
from paperfeed.models import PaperRecord, parse_arxiv_id
from paperfeed.tex import clean_tex
from paperfeed.web.assets import STATIC_DIR, asset_globals
from paperfeed.web.auth import viewer
from paperfeed.web.badges import open_reports, unread_notifications
from paperfeed.web.csrf_tokens import csrf_token
from paperfeed.web.linkify import linkify
from paperfeed.web.request_context import current_path
from paperfeed.wording import (
    human_date,
    human_time,
    long_date,
    plural,
    short_authors,
    short_date,
)

STYLESHEET = "style.css"


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


@dataclass(frozen=True, slots=True)
class AuthorLinks:
    """A paper's author names with where each links (None: not a name), and how many more."""

    names: list[tuple[str, str | None]]
    more: int


def author_links(
    paper: PaperRecord, keep: int | None = None, most: int | None = None
) -> AuthorLinks:
    """The paper's authors as links to their pages; lists longer than `most` keep `keep`."""
    names = list(paper.authors or ())
    more = 0
    if keep is not None and most is not None and len(names) > most:
        names, more = names[:keep], len(names) - keep
    links: list[tuple[str, str | None]] = []
    for written in names:
        name = parse_name(written)
        links.append((written, author_href(name, paper.paper_id) if name else None))
    return AuthorLinks(links, more)


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
        date=human_date,  # "20 Mar 2026"; the one style of dates in cards, lists and comments
        time=human_time,
        plural=plural,  # {{ n|plural("upvote") }} → "1 upvote", "2 upvotes"
        tex=clean_tex,  # TeX text commands out of titles and abstracts, math kept for KaTeX
        short_authors=short_authors,
        author_links=author_links,  # {% for name, href in (paper|author_links(3, 5)).names %}
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
        unread_notifications=unread_notifications,  # the header's count (badges.py)
        open_reports=open_reports,  # curators: comments reported and waiting
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
