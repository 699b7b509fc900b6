"""CSRF protection for every state change, app-wide, in one ASGI middleware.

Each browser gets a random id in an HttpOnly cookie; forms carry `csrf_token(request)`, an HMAC
of that id under a key kept in the store. A POST, PUT, PATCH or DELETE is refused with 403
(before any route runs, so nothing changes) when:

- its `Origin` is another site (or `Sec-Fetch-Site` says cross-site), or
- it carries no token, or one that is not the HMAC of its own browser cookie.

The token comes from the `csrf_token` form field (urlencoded forms, and multipart forms with a
file, parsed here by Starlette, up to 1 MiB or a path's `UPLOAD_PATHS` size) or the
`X-CSRF-Token` header. Exempt (see `CSRF_EXEMPT_PATHS` and docs/web.md): the RFC 8058 one-click
unsubscribe POSTs (digests, notification mail), which mail clients send without cookies; the
MCP server at /mcp, whose tools only read and never look at cookies; calls with an
`Authorization: Bearer` API token, which a browser never attaches on its own; and the JSON
API under /api/, which authenticates by such tokens only. Cookies never sign those requests in
(see `auth.optional_user`), so there is nothing for a forged request to ride on.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.community.accounts import new_token
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.cookies import cookie_policy
from paperfeed.web.csrf_tokens import browser_id, form_key, token_matches
from paperfeed.web.hosts import request_host_is_allowed
from paperfeed.web.rendering import render_error
from paperfeed.web.request_context import set_current_request

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths whose unsafe requests skip the CSRF check, each with its reason (also in docs/web.md).
CSRF_EXEMPT_PATHS: dict[str, str] = {
    "/digest/unsubscribe": "RFC 8058 one-click unsubscribe: mail clients POST without cookies",
    "/notifications/unsubscribe": "the same, for notification mail (web/conversation.py)",
    "/mcp": "the MCP server (web/mcp.py): read-only tools that read no cookie",
}
# The JSON API authenticates by Bearer token only; cookies never count there (auth.py).
API_PREFIX = "/api/"
TOKEN_FIELD = "csrf_token"
TOKEN_HEADER = "x-csrf-token"
BROWSER_COOKIE_MAX_AGE = 365 * 24 * 3600
_MAX_FORM_BYTES = 1024 * 1024
# The forms that take a file (an imported library, at most 5 MiB of it), with the largest body
# each accepts, parts included: above the hub's `max_body_bytes` (app.py applies it).
UPLOAD_PATHS: dict[str, int] = {"/for-you/library": 6 * 1024 * 1024}
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_\-]{43}$")


def is_exempt_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in CSRF_EXEMPT_PATHS)


def is_bearer(scope: Scope) -> bool:
    """Whether the request authenticates with an `Authorization: Bearer` token."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return bool(value[:7].lower() == b"bearer ")
    return False


def is_same_origin(origin: str, request: Request, settings: Settings) -> bool:
    """Whether `origin` is the public URL's, or this request's own on an allowed host name.

    The request's own origin counts only when its `Host` is allowed: a DNS-rebinding page
    sends an `Origin` equal to its `Host`, so a match proves nothing by itself.
    """
    origin = origin.rstrip("/").lower()
    if origin == _origin_of(settings.public_url):
        return True
    return origin == _origin_of(str(request.base_url)) and request_host_is_allowed(
        request.scope, settings
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class CsrfMiddleware:
    """Give each browser an id cookie and refuse unsafe requests without a valid token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        hub: Hub = scope["app"].state.hub
        policy = cookie_policy(hub.settings)
        current = request.cookies.get(policy.browser)
        fresh: str | None = None
        if current is None or not _BROWSER_ID.match(current):
            current = fresh = new_token()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["browser_id"] = current
        state["bearer"] = False
        set_current_request(request)

        async def send_with_cookie(message: Message) -> None:
            if fresh is not None and message["type"] == "http.response.start":
                # The same attributes as cookies.set_cookie, written directly: this runs for
                # every first visit, so it skips building a Response.
                cookie = (
                    f"{policy.browser}={fresh}; HttpOnly; Max-Age={BROWSER_COOKIE_MAX_AGE}; "
                    "Path=/; SameSite=lax" + ("; Secure" if policy.secure else "")
                )
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        if scope["method"] in UNSAFE_METHODS:
            if is_exempt_path(scope["path"]):
                pass
            elif is_bearer(scope) or scope["path"].startswith(API_PREFIX):
                state["bearer"] = True
            elif _routed(scope):
                problem, receive = await self._check(request, scope, receive, hub, fresh)
                if problem is not None:
                    await _refuse(request, problem)(scope, receive, send_with_cookie)
                    return

        await self.app(scope, receive, send_with_cookie)

    async def _check(
        self, request: Request, scope: Scope, receive: Receive, hub: Hub, fresh: str | None
    ) -> tuple[str | None, Receive]:
        origin = request.headers.get("origin")
        if origin is not None and not is_same_origin(origin, request, hub.settings):
            return "This form was sent from another site.", receive
        if origin is None and request.headers.get("sec-fetch-site") == "cross-site":
            return "This form was sent from another site.", receive
        if fresh is not None:
            return "Your browser did not send its cookie; reload the page and try again.", receive
        sent = request.headers.get(TOKEN_HEADER)
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith("application/x-www-form-urlencoded"):
            body, receive = await _buffer(receive)
            if body is None:
                return "The form is too large.", receive
            values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(TOKEN_FIELD)
            sent = values[0] if values else None
        elif sent is None and content_type.startswith("multipart/form-data"):
            limit = UPLOAD_PATHS.get(scope["path"], _MAX_FORM_BYTES)
            body, receive = await _buffer(receive, limit=limit)
            if body is None:
                return "The file is too large.", receive
            sent = await _multipart_token(scope, body)
        if sent is None or not token_matches(form_key(scope), browser_id(request), sent[:200]):
            return "The form expired or was not sent from this site; reload and try again.", receive
        return None, receive


def _routed(scope: Scope) -> bool:
    """Whether a route takes this method and path (else the answer is 404/405 and nothing
    changes, so the check is skipped and the reader learns what is really wrong)."""
    return any(route.matches(scope)[0] is Match.FULL for route in scope["app"].router.routes)


async def _multipart_token(scope: Scope, body: bytes) -> str | None:
    """The `csrf_token` field of a multipart form's body, parsed by Starlette (None if absent
    or unreadable)."""
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(scope, once).form(max_files=2, max_fields=20) as form:
            value = form.get(TOKEN_FIELD)
    except Exception:  # a malformed body: no token; the route never runs
        return None
    return value if isinstance(value, str) else None


async def _buffer(
    receive: Receive, *, limit: int = _MAX_FORM_BYTES
) -> tuple[bytes | None, Receive]:
    """Read the whole body (up to `limit` bytes) and return a `receive` that replays it."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _refuse(request: Request, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "detail": message}, status_code=403)
    return render_error(request, 403, message)
