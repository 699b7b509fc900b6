"""The read-only JSON API under /api, in the shapes of Hugging Face's paper API.

`/api/daily_papers`, `/api/papers/{id}` and `/api/papers/search` answer as huggingface.co does,
so `huggingface_hub.HfApi(endpoint=<this hub>)` works against them; `/api/trending`,
`/api/papers/{id}/similar` and `/api/categories/{category}/papers` are this hub's own. The
OpenAPI schema is `/api/openapi.json`, and `/api/docs` shows it with Swagger UI 5 served from
the `fastapi-offline` package (no CDN).
See docs/api.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import fastapi_offline
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from paperfeed.community.papers import NoSuchPaper
from paperfeed.community.trending import current_window, window_scores
from paperfeed.db.cache import cached, peek
from paperfeed.db.feed import (
    FeedItem,
    days_featured,
    home_day,
    papers_for_period,
    recent_in_category,
)
from paperfeed.db.hf_papers import hf_paper
from paperfeed.db.links import with_code as links_with_code
from paperfeed.db.papers import get_paper
from paperfeed.db.trending import papers_for_scores
from paperfeed.db.upvotes import CardStats, card_stats
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord, PaperStatus, parse_arxiv_id
from paperfeed.periods import BadPeriod, Period, parse_period
from paperfeed.search.hybrid import MAX_LIMIT, MAX_QUERY_CHARS, search
from paperfeed.search.similar import PaperNotFound, similar_papers
from paperfeed.trending import FORMULA_VERSION, Window, half_life
from paperfeed.web.feed_links import CATEGORY_NAME
from paperfeed.web.paging import LoopHub
from paperfeed.web.rendering import paper_url

router = APIRouter(prefix="/api", tags=["papers"])

_ALIASES = ConfigDict(populate_by_name=True)


class AuthorPublic(BaseModel):
    """An author, as Hugging Face lists them (`name`, `hidden`)."""

    name: str
    hidden: bool = False


class PaperPublic(BaseModel):
    """A paper: Hugging Face's `paper` object plus this hub's arXiv fields."""

    model_config = _ALIASES

    id: str = Field(description="arXiv id without version (or the source's own id)")
    title: str
    summary: str = Field(description="the abstract")
    authors: list[AuthorPublic]
    published_at: str | None = Field(
        None, alias="publishedAt", description="arXiv v1 submission time (or announcement day)"
    )
    upvotes: int = Field(description="imported Hugging Face upvotes + this hub's readers' upvotes")
    num_comments: int = Field(alias="numComments")
    categories: list[str]
    version: int | None = None
    url: str = Field(description="this paper's page on the hub")
    arxiv_url: str | None = Field(None, alias="arxivUrl")
    pdf_url: str | None = Field(None, alias="pdfUrl")
    keyphrases: list[str] = Field(
        default_factory=list,
        description="up to five phrases of the title and abstract, best first, found by this "
        "hub's embedder (not Hugging Face's ai_keywords)",
    )
    github_repo: str | None = Field(
        None, alias="githubRepo", description="the code repository (GitHub, else GitLab)"
    )
    project_page: str | None = Field(None, alias="projectPage")
    github_stars: int | None = Field(
        None, alias="githubStars", description="the repository's stars when last counted"
    )


class LinkPublic(BaseModel):
    """One code or project link of a paper."""

    kind: str = Field(description="github, gitlab, hf_model, hf_dataset, hf_space or project")
    url: str
    source: str = Field(description="found (in the abstract or comment), member or hf")
    stars: int | None = Field(None, description="GitHub stars when last counted")


class PaperInfoPublic(PaperPublic):
    """`/api/papers/{id}`: the paper with the days it was featured."""

    submitted_on_daily_at: str | None = Field(
        None, alias="submittedOnDailyAt", description="the first day it was featured"
    )
    featured_on: list[dt.date] = Field(alias="featuredOn")
    comment: str | None = None
    journal_ref: str | None = Field(None, alias="journalRef")
    doi: str | None = None
    links: list[LinkPublic] = Field(
        default_factory=list, description="every code and project link, in order"
    )
    ai_summary: str | None = Field(None, description="Hugging Face's AI summary, if imported")
    ai_keywords: list[str] | None = Field(None, description="Hugging Face's AI keywords")
    submitted_by: str | None = Field(
        None, alias="submittedBy", description="who submitted it to Hugging Face's daily papers"
    )


class DailyPaperPublic(BaseModel):
    """One entry of `/api/daily_papers` and `/api/papers/search`, as Hugging Face shapes them."""

    model_config = _ALIASES

    paper: PaperPublic
    published_at: str | None = Field(
        None, alias="publishedAt", description="when it was featured (00:00 UTC of the day)"
    )
    title: str
    summary: str
    num_comments: int = Field(alias="numComments")


class SimilarPaperPublic(BaseModel):
    """A paper close to another one, with how similar it is."""

    paper: PaperPublic
    score: float = Field(
        description="cosine similarity of the two papers' stored vectors, -1 to 1 (a paper "
        "without a vector: keyword neighbours, BM25 over the best BM25, 0 to 1)"
    )


class TrendingPaperPublic(BaseModel):
    model_config = _ALIASES

    rank: int
    score: float = Field(description="the decay-weighted votes of the window (docs/trending.md)")
    window_upvotes: int = Field(alias="windowUpvotes", description="votes cast in the window")
    paper: PaperPublic


class TrendingPublic(BaseModel):
    """A trending list, with what is needed to recompute it."""

    model_config = _ALIASES

    window: Window
    formula_version: str = Field(alias="formulaVersion")
    half_life_hours: float = Field(alias="halfLifeHours")
    now: str = Field(description="the end of the window, UTC")
    anchored: bool = Field(
        description="true when the window was moved back to the newest vote in the hub"
    )
    total: int = Field(description="papers in the list (docs/trending.md)")
    window_total: int = Field(
        alias="windowTotal",
        description="how many of them have a vote in the window; a list shorter than 30 goes on "
        "with earlier windows' papers, each scored in its own window",
    )
    earlier: str | None = Field(
        default=None, description="the end of the first earlier window the list goes on with"
    )
    papers: list[TrendingPaperPublic]


class ErrorPublic(BaseModel):
    """An error, in the shape huggingface_hub reads (`error`) and FastAPI's (`detail`)."""

    error: str
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "a parameter that cannot be read"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "no such paper"}
}


def _time(moment: dt.datetime | dt.date | None) -> str | None:
    # Hugging Face's format: huggingface_hub parses '%Y-%m-%dT%H:%M:%S.%fZ'.
    if moment is None:
        return None
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def paper_public(request: Request, paper: PaperRecord, stats: CardStats) -> PaperPublic:
    """The API's view of a paper."""
    return paper_public_at(public_base(request.app.state.hub), paper, stats)


def public_base(hub: Hub) -> str:
    """The hub's public URL without the trailing slash: what a paper's `url` is built on."""
    return str(hub.settings.public_url).rstrip("/")


def paper_public_at(base: str, paper: PaperRecord, stats: CardStats) -> PaperPublic:
    """The API's view of a paper, its `url` built on `base` (`public_base`)."""
    parsed = parse_arxiv_id(paper.paper_id)
    categories = [paper.primary_category] if paper.primary_category else []
    return PaperPublic(
        id=paper.paper_id,
        title=paper.title,
        summary=paper.abstract,
        authors=[AuthorPublic(name=name) for name in paper.authors or ()],
        publishedAt=_time(paper.submitted or paper.announced),
        upvotes=stats.upvotes,
        numComments=stats.comments,
        categories=list(dict.fromkeys(categories + list(paper.categories or ()))),
        version=paper.version,
        url=base + paper_url(paper.paper_id),
        arxivUrl=f"https://arxiv.org/abs/{parsed[0]}" if parsed else None,
        pdfUrl=f"https://arxiv.org/pdf/{parsed[0]}" if parsed else None,
        keyphrases=list(stats.keyphrases),
        githubRepo=stats.links.github_repo,
        projectPage=stats.links.project_page,
        githubStars=stats.links.github_stars,
    )


def _entry(base: str, item: FeedItem, stats: CardStats) -> DailyPaperPublic:
    paper = paper_public_at(base, item.paper, stats)
    return DailyPaperPublic(
        paper=paper,
        publishedAt=_time(item.day),
        title=paper.title,
        summary=paper.summary,
        numComments=paper.num_comments,
    )


def _json(adapter: TypeAdapter[Any], value: Any) -> bytes:
    return adapter.dump_json(value, by_alias=True)


_DAILY = TypeAdapter(list[DailyPaperPublic])
_SIMILAR = TypeAdapter(list[SimilarPaperPublic])
_TRENDING = TypeAdapter(TrendingPublic)
_INFO = TypeAdapter(PaperInfoPublic)


def _bad(exc: Exception) -> HTTPException:
    return HTTPException(status_code=400, detail=str(exc))


@router.get(
    "/daily_papers",
    response_model=list[DailyPaperPublic],
    responses=_ERRORS,
    summary="Papers featured on a day, in an ISO week or in a month",
)
async def daily_papers(
    request: Request,
    hub: LoopHub,
    date: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="ISO week, YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    p: Annotated[int, Query(ge=0, le=100_000, description="page number, from 0")] = 0,
    sort: Annotated[
        Literal["trending", "upvotes", "publishedAt"] | None,
        Query(description="upvotes (the default; `trending` is the same) or publishedAt"),
    ] = None,
    has_code: Annotated[
        bool, Query(description="only papers with a repository or a Hugging Face model, …")
    ] = False,
) -> Response:
    """The featured papers of one period, most upvoted first; without a period, the latest day.

    Same shape and parameters as huggingface.co's `/api/daily_papers`.
    """
    try:
        period = parse_period(date=date, week=week, month=month)
    except BadPeriod as exc:
        raise _bad(exc) from None

    def load() -> bytes:
        entries = daily_entries(
            hub, period, limit=limit, offset=p * limit, sort=sort, with_code=has_code
        )
        return _json(_DAILY, entries)

    # Repeated requests are answered on the event loop; a miss reads the store in the pool.
    key = ("api-daily", period, limit, p, sort, has_code)
    body = peek(hub.db, key)
    if body is None:
        body = await run_in_threadpool(cached, hub.db, key, load)
    return Response(body, media_type="application/json")


@router.get(
    "/categories/{category}/papers",
    response_model=list[DailyPaperPublic],
    responses={404: {"model": ErrorPublic, "description": "not an arXiv category name"}},
    summary="A category's papers, the most recently featured first",
)
async def category_papers(
    request: Request,
    hub: LoopHub,
    category: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    p: Annotated[int, Query(ge=0, le=10_000, description="page number, from 0")] = 0,
) -> Response:
    """The featured papers listed in an arXiv category (primary or cross-listed), the most
    recently featured first, as `/categories/{category}` shows them; `publishedAt` is the day
    each was last featured."""
    if len(category) > 40 or not CATEGORY_NAME.match(category):
        raise HTTPException(status_code=404, detail="There is no such category.")

    def load() -> bytes:
        with hub.db.read() as conn:
            items = recent_in_category(conn, category, limit=limit, offset=p * limit)
            stats = card_stats(conn, [item.paper.paper_id for item in items], user_id=None)
        base = public_base(hub)
        return _json(_DAILY, [_entry(base, item, stats[item.paper.paper_id]) for item in items])

    key = ("api-category", category, limit, p)
    body = peek(hub.db, key)
    if body is None:
        body = await run_in_threadpool(cached, hub.db, key, load)
    return Response(body, media_type="application/json")


@router.get(
    "/papers/search",
    response_model=list[DailyPaperPublic],
    summary="Search papers (keyword + semantic)",
)
def search_papers(
    request: Request,
    hub: LoopHub,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="words, a title, or an arXiv id (that paper alone)",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    p: Annotated[int, Query(ge=0, le=50, description="page number, from 0")] = 0,
    has_code: Annotated[bool, Query(description="only papers with code")] = False,
) -> Response:
    """Papers matching `q`, best first, in the shape of huggingface.co's `/api/papers/search`.

    An arXiv id answers that paper alone; words that match no paper answer an empty list.
    """
    query = q.strip()
    if not query:
        return Response(b"[]", media_type="application/json")
    entries = search_entries(hub, query, limit=limit, offset=p * limit, with_code=has_code)
    return Response(_json(_DAILY, entries), media_type="application/json")


@router.get(
    "/trending",
    response_model=TrendingPublic,
    summary="Trending papers, with each score and the formula version",
)
def trending(
    request: Request,
    hub: LoopHub,
    window: Window = "week",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    p: Annotated[int, Query(ge=0, le=10_000, description="page number, from 0")] = 0,
) -> Response:
    """Papers ranked by decay-weighted upvotes over the window (docs/trending.md)."""
    body = trending_public(hub, window, limit=limit, offset=p * limit)
    return Response(_json(_TRENDING, body), media_type="application/json")


@router.get(
    "/papers/{paper_id:path}/similar",
    response_model=list[SimilarPaperPublic],
    responses=_NOT_FOUND,
    summary="Papers similar to one paper",
)
def similar(
    request: Request,
    hub: LoopHub,
    paper_id: str,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """The papers closest to this one, in the order of docs/search.md ("Similar papers").

    `score` is each paper's cosine similarity to this one, not the ranking's internal value.
    """
    try:
        body = similar_public(hub, paper_id, limit=limit)
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    return Response(_json(_SIMILAR, body), media_type="application/json")


@router.get(
    "/papers/{paper_id:path}",
    response_model=PaperInfoPublic,
    responses=_NOT_FOUND,
    summary="One paper",
)
def paper_info(request: Request, hub: LoopHub, paper_id: str) -> Response:
    """One paper, in the shape of huggingface.co's `/api/papers/{id}` (a version is ignored)."""
    try:
        body = paper_info_public(hub, paper_id)
    except NoSuchPaper:
        raise _no_paper(paper_id) from None
    return Response(_json(_INFO, body), media_type="application/json")


# The answers of the read-only endpoints, as models: the routes above serialise them, and the
# MCP server (web/mcp.py) returns the same ones as its tools' results.


def daily_entries(
    hub: Hub,
    period: Period | None,
    *,
    limit: int,
    offset: int = 0,
    sort: str | None = None,
    with_code: bool = False,
) -> list[DailyPaperPublic]:
    """The featured papers of `period` (None: the day home shows), most upvoted first (only
    those with code if `with_code`)."""
    with hub.db.read() as conn:
        chosen = period
        if chosen is None:
            latest = home_day(conn)  # the day home shows
            if latest is None:
                return []
            chosen = Period("day", latest)
        items = papers_for_period(
            conn, chosen.start, chosen.end, limit=limit, offset=offset, with_code=with_code
        )
        if sort == "publishedAt":
            items.sort(key=lambda item: item.day, reverse=True)  # stable: upvotes next
        stats = card_stats(conn, [item.paper.paper_id for item in items], user_id=None)
    base = public_base(hub)
    return [_entry(base, item, stats[item.paper.paper_id]) for item in items]


def search_entries(
    hub: Hub, query: str, *, limit: int, offset: int = 0, with_code: bool = False
) -> list[DailyPaperPublic]:
    """The papers matching `query`, best first (`publishedAt`: the first day featured); only
    those with code if `with_code` (among the best `MAX_LIMIT` matches)."""
    results = search(
        hub.search_index,
        hub.embedder,
        query,
        limit=MAX_LIMIT if with_code else limit,
        offset=0 if with_code else offset,
        embed_timeout_s=hub.settings.embed_timeout_s,
    )
    papers = [hit.paper for hit in results.hits]
    with hub.db.read() as conn:
        if with_code:
            coded = links_with_code(conn, [paper.paper_id for paper in papers])
            papers = [paper for paper in papers if paper.paper_id in coded]
            papers = papers[offset : offset + limit]
        stats = card_stats(conn, [paper.paper_id for paper in papers], user_id=None)
        days = {paper.paper_id: days_featured(conn, paper.paper_id) for paper in papers}
    base = public_base(hub)
    entries = []
    for paper in papers:
        public = paper_public_at(base, paper, stats[paper.paper_id])
        featured = days[paper.paper_id]
        entries.append(
            DailyPaperPublic(
                paper=public,
                publishedAt=_time(featured[0]) if featured else None,
                title=public.title,
                summary=public.summary,
                numComments=public.num_comments,
            )
        )
    return entries


def trending_public(hub: Hub, window: Window, *, limit: int, offset: int = 0) -> TrendingPublic:
    """The trending list of `window` from `offset`, with what is needed to recompute it."""
    span = current_window(db=hub.db, window=window)
    listed = window_scores(db=hub.db, span=span)
    scored = listed.scored
    with hub.db.read() as conn:
        items = papers_for_scores(conn, scored[offset : offset + limit])
        stats = card_stats(conn, [t.paper.paper_id for t in items], user_id=None)
    base = public_base(hub)
    return TrendingPublic(
        window=window,
        formulaVersion=FORMULA_VERSION,
        halfLifeHours=half_life(window).total_seconds() / 3600,
        now=_time(span.now) or "",
        anchored=span.anchored,
        total=len(scored),
        windowTotal=listed.own,
        earlier=_time(listed.earlier),
        papers=[
            TrendingPaperPublic(
                rank=offset + n,
                score=round(t.score, 6),
                windowUpvotes=t.window_upvotes,
                paper=paper_public_at(base, t.paper, stats[t.paper.paper_id]),
            )
            for n, t in enumerate(items, start=1)
        ],
    )


def stored_paper(hub: Hub, paper_id: str) -> PaperRecord:
    """The active paper with this id (a version or `arXiv:` label is ignored); `NoSuchPaper`."""
    parsed = parse_arxiv_id(paper_id)
    key = parsed[0] if parsed else paper_id
    with hub.db.read() as conn:
        stored = get_paper(conn, key)
    if stored is None or stored.record.status is not PaperStatus.ACTIVE:
        raise NoSuchPaper(paper_id)
    return stored.record


def similar_public(hub: Hub, paper_id: str, *, limit: int) -> list[SimilarPaperPublic]:
    """The papers closest to this one (`NoSuchPaper` if it is not here), closest first."""
    record = stored_paper(hub, paper_id)
    try:
        hits = similar_papers(hub.search_index, record.paper_id, limit=limit)
    except PaperNotFound:
        hits = []
    with hub.db.read() as conn:
        stats = card_stats(conn, [hit.paper.paper_id for hit in hits], user_id=None)
    base = public_base(hub)
    return [
        SimilarPaperPublic(
            paper=paper_public_at(base, hit.paper, stats[hit.paper.paper_id]),
            score=round(hit.score, 6),
        )
        for hit in hits
    ]


def paper_info_public(hub: Hub, paper_id: str) -> PaperInfoPublic:
    """One paper with the days it was featured; `NoSuchPaper` if it is not here."""
    record = stored_paper(hub, paper_id)
    with hub.db.read() as conn:
        stats = card_stats(conn, [record.paper_id], user_id=None)[record.paper_id]
        days = days_featured(conn, record.paper_id)
        from_hf = hf_paper(conn, record.paper_id)
    public = paper_public_at(public_base(hub), record, stats)
    return PaperInfoPublic(
        **public.model_dump(by_alias=True),
        submittedOnDailyAt=_time(days[0]) if days else None,
        featuredOn=days,
        comment=record.comment,
        journalRef=record.journal_ref,
        doi=record.doi,
        links=[
            LinkPublic(kind=link.kind, url=link.url, source=link.source, stars=link.stars)
            for link in stats.links.links
        ],
        ai_summary=from_hf.ai_summary if from_hf else None,
        ai_keywords=list(from_hf.ai_keywords) if from_hf and from_hf.ai_keywords else None,
        submittedBy=from_hf.submitter if from_hf else None,
    )


def _no_paper(paper_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"There is no paper {paper_id[:80]!r} here.")


# Self-hosted API docs. The page's only script besides Swagger UI is a static file
# (static/swagger-init.js), as the Content-Security-Policy forbids inline scripts.

_SWAGGER = Path(fastapi_offline.__file__).resolve().parent / "static"
_SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}

docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/api/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    """Swagger UI over /api/openapi.json."""
    return HTMLResponse(_DOCS_PAGE)


@docs_router.get("/api/docs/assets/{name}")
def api_docs_asset(name: str) -> Response:
    if name not in _SWAGGER_FILES:
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(
        _SWAGGER / name,
        media_type=_SWAGGER_FILES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API · paperfeed</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/static/swagger-init.js"></script>
</body>
</html>
"""
