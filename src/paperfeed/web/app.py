"""The FastAPI application: `create_app(hub)` wires pages, static files, error pages and headers.

The caller owns the Hub (and closes it); `paperfeed serve` runs the app with uvicorn. The
middleware that guards exposure (Host, body size, dev mailbox) is described in docs/web.md.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed import __version__
from paperfeed.hub import Hub
from paperfeed.search.hybrid import QueryTooLong
from paperfeed.web import (
    api,
    api_community,
    api_conversation,
    api_triage,
    author_pages,
    category_pages,
    community,
    conversation,
    digest_pages,
    export,
    feed_pages,
    feeds,
    for_you,
    health,
    job_pages,
    mcp,
    pages,
    sign_in,
    submit,
    trending_pages,
    triage,
)
from paperfeed.web.assets import STATIC_DIR
from paperfeed.web.csrf import UPLOAD_PATHS, CsrfMiddleware
from paperfeed.web.hosts import HostCheckMiddleware, is_local_client
from paperfeed.web.rendering import render_error

# Pages load nothing from other sites and run no inline code; see docs/web.md.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Add SECURITY_HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS if headers is None else headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    response_headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


DEV_MAILBOX_PREFIX = "/dev/"


class BodyLimits:
    """Starlette's body limit, `default` bytes for every request but the paths of `larger`,
    each with its own (never below `default`)."""

    def __init__(self, app: ASGIApp, *, default: int, larger: dict[str, int]) -> None:
        self.default = RequestBodyLimitMiddleware(app, max_body_size=default)
        self.larger = {
            path: RequestBodyLimitMiddleware(app, max_body_size=max(size, default))
            for path, size in larger.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.larger.get(scope.get("path", "")) if scope["type"] == "http" else None
        await (chosen or self.default)(scope, receive, send)


class DevMailboxGuardMiddleware:
    """Answer 404 under /dev/ to every client not on this machine (or behind a proxy).

    The development mailbox holds every sign-in link; PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true
    shows it to everyone anyway.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(DEV_MAILBOX_PREFIX)
            and not scope["app"].state.hub.settings.allow_public_dev_mailbox
            and not is_local_client(scope)
        ):
            response = render_error(Request(scope), 404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(hub: Hub) -> FastAPI:
    """Build the web app around `hub`."""
    # The JSON API's schema; its docs (/api/docs) are self-hosted by web/api.py (no CDN).
    app = FastAPI(
        title=f"{hub.settings.site_name} API",
        summary="Daily research papers, trending, search and community, as JSON.",
        description=_API_DESCRIPTION,
        version=__version__,
        openapi_tags=_API_TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.hub = hub
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(QueryTooLong, _query_too_long)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(feed_pages.router)
    app.include_router(trending_pages.router)
    app.include_router(api_conversation.router)  # before api: /api/papers/{id}/comments
    app.include_router(api.router)
    app.include_router(api.docs_router)
    app.include_router(category_pages.router)  # before feeds: /categories/{name}, not .rss
    app.include_router(export.api_router)
    app.include_router(export.router)
    app.include_router(feeds.router)  # before community: /collections/{id}.rss
    app.include_router(for_you.router)
    app.include_router(author_pages.router)
    app.include_router(author_pages.api_router)
    app.include_router(for_you.api_router)
    app.include_router(pages.router)
    app.include_router(sign_in.router)
    app.include_router(community.router)
    app.include_router(conversation.router)
    app.include_router(submit.router)
    app.include_router(api_community.router)
    app.include_router(api_triage.router)
    app.include_router(digest_pages.router)
    app.include_router(digest_pages.api_router)
    app.include_router(health.router)
    app.include_router(triage.router)
    app.include_router(job_pages.router)
    # Agents: the MCP server's streamable HTTP transport (web/mcp.py), a plain ASGI endpoint.
    app.router.routes.append(
        Route(mcp.MCP_PATH, mcp.McpEndpoint(hub), methods=["GET", "POST", "DELETE"])
    )
    app.add_middleware(DevMailboxGuardMiddleware)
    app.add_middleware(CsrfMiddleware)  # every POST/PUT/PATCH/DELETE: web/csrf.py
    # The feed of one day is ~0.5 MB of HTML and compresses about 4:1.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # Every body, JSON included, is counted as it arrives and cut off with 413 past the limit,
    # before anything parses it; a route may raise or lower it with `max_body_size=`.
    # The forms that take a file (csrf.UPLOAD_PATHS) get their own, larger limit.
    app.add_middleware(BodyLimits, default=hub.settings.max_body_bytes, larger=UPLOAD_PATHS)
    app.add_middleware(HostCheckMiddleware)  # before anything builds a URL from Host
    app.add_middleware(SecurityHeadersMiddleware)
    _name_operations(
        api.router,
        export.api_router,
        api_community.router,
        api_conversation.router,
        api_triage.router,
        for_you.api_router,
        author_pages.api_router,
        digest_pages.api_router,
    )
    return app


def _api_error(status_code: int, message: str) -> JSONResponse:
    """An /api error body: `error` is what huggingface_hub's clients print, `detail` FastAPI's."""
    return JSONResponse({"error": message, "detail": message}, status_code=status_code)


_API_DESCRIPTION = """\
The papers of this hub as JSON: the daily feed, trending, search and similar papers in the
shapes of huggingface.co's Papers API (so `huggingface_hub` can read them), and the
community actions (upvotes, submissions, collections, digests) for signed-in readers.

**Authentication**: community calls take an API token (make one in your settings page) as
`Authorization: Bearer pf_…`. [Back to the papers](/)
"""

_API_TAGS = [
    {"name": "papers", "description": "The feed, trending, search and similar papers. Open."},
    {
        "name": "community",
        "description": "Upvotes, submissions, collections, comments and notifications. A token "
        "(reading a paper's comments is open).",
    },
    {"name": "digest", "description": "Subscribing to the email digest."},
    {"name": "curators", "description": "Triage of the day's listing. A curator's token."},
]


def _name_operations(*routers: APIRouter) -> None:
    # An operation without a summary would be titled after its function ("Api Upvote"); the
    # first line of its docstring reads better ("Upvote a paper").
    for route in (route for router in routers for route in router.routes):
        if isinstance(route, APIRoute) and route.include_in_schema and not route.summary:
            line = (route.description or "").strip().split("\n", 1)[0]
            line = line.split(" (", 1)[0].split(":", 1)[0].split(";", 1)[0].rstrip(".")
            route.summary = line or route.name.removeprefix("api_").replace("_", " ").capitalize()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        response: Response = _api_error(exc.status_code, str(exc.detail))
    else:
        response = render_error(request, exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """422 for a parameter out of range; on /api, said in words and never echoing the input."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith("/api/"):
        return await request_validation_exception_handler(request, exc)
    problems = [
        {"type": error["type"], "loc": list(error["loc"]), "msg": error["msg"]}
        for error in exc.errors()
    ]
    message = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'request'}: {problem['msg']}"
        for problem in problems
    )
    return JSONResponse({"error": message, "detail": problems}, status_code=422)


async def _query_too_long(request: Request, exc: Exception) -> Response:
    """400 for a search query over the one limit (search/hybrid.py); the query is not repeated."""
    if request.url.path.startswith("/api/"):
        return _api_error(400, str(exc))
    return render_error(request, 400, str(exc))
