"""Export as BibTeX or CSL-JSON: `/export` for the pages' Cite links (session cookie), and
`/api/export` for scripts (an optional Bearer token). Both take the same parameters and call
`community.export`; see docs/api.md ("Export")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from paperfeed.community.collections import NoSuchCollection
from paperfeed.community.export import (
    MAX_SEARCH_LIMIT,
    MEDIA_TYPES,
    SEARCH_LIMIT,
    SUFFIXES,
    ExportFormat,
    NothingToExport,
    SearchQuery,
    export_papers,
    render_export,
)
from paperfeed.community.papers import NoSuchPaper
from paperfeed.hub import Hub
from paperfeed.periods import BadPeriod, parse_day, parse_period
from paperfeed.search.hybrid import MAX_QUERY_CHARS, checked_query
from paperfeed.web.api_community import api_user
from paperfeed.web.auth import optional_user
from paperfeed.web.deps import HubDep

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["papers"])

_DESCRIPTION = {
    "format": "bibtex (a .bib file) or csljson (a CSL-JSON array)",
    "paper": "one paper: an arXiv id (a version is ignored)",
    "collection": "a collection: public, or your own",
    "q": "a search: its best matches (with category, since, until as on the search page)",
    "date": "the featured papers of a day, YYYY-MM-DD (or week=YYYY-Www, month=YYYY-MM)",
}


def _export(
    hub: Hub,
    *,
    user_id: int | None,
    fmt: ExportFormat,
    paper: str | None,
    collection: int | None,
    q: str | None,
    category: str,
    since: str,
    until: str,
    limit: int,
    date: str | None,
    week: str | None,
    month: str | None,
    attachment: bool,
) -> Response:
    try:
        period = parse_period(date=date, week=week, month=month)
        query = None
        if q is not None:
            query = SearchQuery(
                query=checked_query(q),  # QueryTooLong: 400 (web/app.py)
                since=parse_day(since) if since else None,
                until=parse_day(until) if until else None,
                categories=[category.strip()] if category.strip() else None,
                limit=limit,
            )
        chosen = export_papers(
            db=hub.db,
            search_index=hub.search_index if query is not None else None,
            embedder=hub.embedder,
            paper_id=paper,
            collection_id=collection,
            query=query,
            period=period,
            category=category.strip() or None if period is not None else None,
            user_id=user_id,
            embed_timeout_s=hub.settings.embed_timeout_s,
        )
    except (BadPeriod, NothingToExport) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except NoSuchPaper:
        raise HTTPException(
            status_code=404, detail=f"There is no paper {(paper or '')[:80]!r} here."
        ) from None
    except NoSuchCollection:
        raise HTTPException(status_code=404, detail="There is no such collection.") from None
    body = render_export(chosen.papers, fmt, chosen.notes)
    headers = {"X-Paper-Count": str(len(chosen.papers))}
    if attachment:
        headers["Content-Disposition"] = (
            f'attachment; filename="{chosen.name}{SUFFIXES[fmt]}"'  # ascii: see _file_name
        )
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


Format = Annotated[ExportFormat, Query(alias="format", description=_DESCRIPTION["format"])]
PaperParam = Annotated[str | None, Query(max_length=300, description=_DESCRIPTION["paper"])]
CollectionParam = Annotated[
    int | None, Query(ge=1, le=2**62, description=_DESCRIPTION["collection"])
]
QParam = Annotated[str | None, Query(max_length=MAX_QUERY_CHARS, description=_DESCRIPTION["q"])]
LimitParam = Annotated[
    int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="how many matches a search exports")
]
DateParam = Annotated[str | None, Query(description=_DESCRIPTION["date"])]


@router.get("/export", name="export")
def export_page(
    request: Request,
    hub: HubDep,
    fmt: Format = "bibtex",
    paper: PaperParam = None,
    collection: CollectionParam = None,
    q: QParam = None,
    category: str = "",
    since: str = "",
    until: str = "",
    limit: LimitParam = SEARCH_LIMIT,
    date: DateParam = None,
    week: str | None = None,
    month: str | None = None,
) -> Response:
    """Download one list as a file; a private collection for its owner's session only."""
    user = optional_user(request)
    return _export(
        hub,
        user_id=user.user_id if user else None,
        fmt=fmt,
        paper=paper,
        collection=collection,
        q=q,
        category=category,
        since=since,
        until=until,
        limit=limit,
        date=date,
        week=week,
        month=month,
        attachment=True,
    )


@api_router.get(
    "/export",
    summary="Export a paper, a collection, a search or a day's feed as BibTeX or CSL-JSON",
    responses={
        200: {
            "description": "a BibTeX file or a CSL-JSON array; `X-Paper-Count` says how many",
            "content": {
                "application/x-bibtex": {"schema": {"type": "string"}},
                "application/vnd.citationstyles.csl+json": {
                    "schema": {"type": "array", "items": {"type": "object"}}
                },
            },
        },
        400: {"description": "no list named, more than one, or one that cannot be read"},
        401: {"description": "an `Authorization` header with a token that is not valid"},
        404: {"description": "no such paper, or no collection this caller may see"},
    },
)
async def api_export(
    request: Request,
    hub: HubDep,
    fmt: Format = "bibtex",
    paper: PaperParam = None,
    collection: CollectionParam = None,
    q: QParam = None,
    category: Annotated[str, Query(max_length=40)] = "",
    since: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
    until: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
    limit: LimitParam = SEARCH_LIMIT,
    date: DateParam = None,
    week: Annotated[str | None, Query(description="ISO week, YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
) -> Response:
    """Name exactly one of `paper`, `collection`, `q` or `date`/`week`/`month`.

    Entries keep the list's order and get unique keys (`vaswani2017attention`, then `…a`,
    `…b`); arXiv papers are `@misc` with `eprint`, `archivePrefix` and `primaryClass`. A
    private collection needs its owner's token (`Authorization: Bearer`).
    """

    def run() -> Response:
        user = api_user(request, hub) if request.headers.get("authorization") else None
        return _export(
            hub,
            user_id=user.user_id if user else None,
            fmt=fmt,
            paper=paper,
            collection=collection,
            q=q,
            category=category,
            since=since,
            until=until,
            limit=limit,
            date=date,
            week=week,
            month=month,
            attachment=False,
        )

    return await run_in_threadpool(run)
