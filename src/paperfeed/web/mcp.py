"""The MCP server for agents: read-only tools (a day's papers, trending, search, similar papers,
paper details) over stdio (`paperfeed mcp`) and streamable HTTP at `/mcp` on the hub.

Built on the official SDK (`mcp` 2.x, `MCPServer`). Each tool answers what the JSON API
answers, built by the same functions in web/api.py, so there is no second copy of the lists.
See docs/api.md ("MCP server").
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from paperfeed import __version__
from paperfeed.community.papers import NoSuchPaper
from paperfeed.hub import Hub
from paperfeed.models import parse_arxiv_id
from paperfeed.periods import BadPeriod, parse_period
from paperfeed.search.hybrid import MAX_QUERY_CHARS, QueryTooLong, checked_query
from paperfeed.web.api import (
    DailyPaperPublic,
    PaperInfoPublic,
    SimilarPaperPublic,
    TrendingPublic,
    daily_entries,
    paper_info_public,
    search_entries,
    similar_public,
    trending_public,
)

MCP_PATH = "/mcp"
# Every tool only reads the hub's store and indexes.
_READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
_ALIASES = ConfigDict(populate_by_name=True)


class DailyPapersResult(BaseModel):
    """The papers of one period, most upvoted first, as `/api/daily_papers` lists them."""

    papers: list[DailyPaperPublic]


class SearchResult(BaseModel):
    """Papers matching a query, best first, as `/api/papers/search` lists them."""

    query: str
    papers: list[DailyPaperPublic]


class SimilarResult(BaseModel):
    """The papers closest to one paper, as `/api/papers/{id}/similar` lists them."""

    model_config = _ALIASES

    paper_id: str = Field(alias="paperId")
    papers: list[SimilarPaperPublic]


_INSTRUCTIONS = """\
{site}: a research-paper hub (arXiv papers, a curated daily feed, upvotes). Tools, all
read-only: daily_papers (a day, week or month), trending, search_papers, similar_papers and
paper_details. Papers are named by arXiv id (2401.10241); each answer has the same fields as
the hub's JSON API (docs/api.md), `url` being the paper's page on the hub.
"""


def build_server(hub: Hub) -> MCPServer:
    """The MCP server over `hub`: five read-only tools."""
    # MCPServer calls logging.basicConfig; how the hub logs is not its to decide.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        server: MCPServer = MCPServer(
            name="paperfeed",
            title=hub.settings.site_name,
            version=__version__,
            instructions=_INSTRUCTIONS.format(site=hub.settings.site_name),
            website_url=str(hub.settings.public_url),
            log_level="WARNING",
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    @server.tool(annotations=_READ_ONLY)
    def daily_papers(
        date: Annotated[
            str | None, Field(description="a day, YYYY-MM-DD (give one of date, week, month)")
        ] = None,
        week: Annotated[str | None, Field(description="an ISO week, YYYY-Www")] = None,
        month: Annotated[str | None, Field(description="a month, YYYY-MM")] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        page: Annotated[int, Field(ge=0, le=100_000, description="page number, from 0")] = 0,
    ) -> DailyPapersResult:
        """The papers featured on a day, in an ISO week or in a month, most upvoted first.

        Without a period: the latest day with papers (the hub's home page).
        """
        try:
            period = parse_period(date=date, week=week, month=month)
        except BadPeriod as exc:
            raise ToolError(str(exc)) from None
        papers = daily_entries(hub, period, limit=limit, offset=page * limit)
        return DailyPapersResult(papers=papers)

    @server.tool(annotations=_READ_ONLY)
    def trending(
        window: Literal["day", "week", "month"] = "week",
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        page: Annotated[int, Field(ge=0, le=10_000, description="page number, from 0")] = 0,
    ) -> TrendingPublic:
        """Papers ranked by decay-weighted upvotes over the last day, week or month.

        Each has its score and window upvotes; the formula version and half-life come along.
        """
        return trending_public(hub, window, limit=limit, offset=page * limit)

    @server.tool(annotations=_READ_ONLY)
    def search_papers(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_QUERY_CHARS,
                description="words, a title, or an arXiv id (that paper alone)",
            ),
        ],
        limit: Annotated[int, Field(ge=1, le=100)] = 10,
        page: Annotated[int, Field(ge=0, le=50, description="page number, from 0")] = 0,
    ) -> SearchResult:
        """Search titles, abstracts and authors (keyword and semantic), best match first."""
        try:
            text = checked_query(query)
        except QueryTooLong as exc:
            raise ToolError(str(exc)) from None
        if not text:
            raise ToolError("Give some words to search for.")
        return SearchResult(
            query=text, papers=search_entries(hub, text, limit=limit, offset=page * limit)
        )

    @server.tool(annotations=_READ_ONLY)
    def similar_papers(
        paper_id: Annotated[str, Field(max_length=300, description="an arXiv id, e.g. 2401.10241")],
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> SimilarResult:
        """The papers closest to one paper, closest first, with their cosine similarity."""
        try:
            papers = similar_public(hub, paper_id, limit=limit)
        except NoSuchPaper:
            raise ToolError(_no_paper(paper_id)) from None
        parsed = parse_arxiv_id(paper_id)
        return SimilarResult(paperId=parsed[0] if parsed else paper_id, papers=papers)

    @server.tool(annotations=_READ_ONLY)
    def paper_details(
        paper_id: Annotated[str, Field(max_length=300, description="an arXiv id, e.g. 2401.10241")],
    ) -> PaperInfoPublic:
        """One paper: title, authors, abstract, categories, upvotes, links to arXiv and the
        hub, the days it was featured, its comment, journal reference and DOI, and its code and
        project links (githubRepo, projectPage, githubStars, links)."""
        try:
            return paper_info_public(hub, paper_id)
        except NoSuchPaper:
            raise ToolError(_no_paper(paper_id)) from None

    return server


def _no_paper(paper_id: str) -> str:
    return f"There is no paper {paper_id[:80]!r} here."


class McpEndpoint:
    """The streamable HTTP transport at `/mcp`, stateless and answering plain JSON.

    Each request runs in a session manager of its own: no session outlives it, so any web
    worker answers any request and the app needs no lifespan hook. The Host header is
    checked by the app's HostCheckMiddleware before this runs.
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.server: MCPServer | None = None  # built on the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            # Stateless: there is no session to end (DELETE) and nothing the server could ever
            # push on a GET stream, which would only hold a connection open; the spec lets a
            # server answer 405 to both.
            refused = JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32000, "message": "This server takes POST requests only."},
                },
                status_code=405,
                headers={"Allow": "POST"},
            )
            await refused(scope, receive, send)
            return
        if self.server is None:
            self.server = build_server(self.hub)
        manager = StreamableHTTPSessionManager(
            # What MCPServer.streamable_http_app() hands its manager; that method would also
            # build a Starlette app whose manager must run in a lifespan, once.
            app=self.server._lowlevel_server,
            json_response=True,
            stateless=True,
        )
        async with manager.run():
            await manager.handle_request(scope, receive, send)
