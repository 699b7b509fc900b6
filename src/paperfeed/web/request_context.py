"""The request being served, for template globals called from macros imported without context.

`CsrfMiddleware` sets it for every HTTP request (csrf.py); templates read it through
`current_path()`, `csrf_token()` and `viewer()`.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.requests import Request

_current_request: ContextVar[Request | None] = ContextVar("paperfeed_request", default=None)


def set_current_request(request: Request) -> None:
    """Note the request this task is serving."""
    _current_request.set(request)


def current_request() -> Request:
    request = _current_request.get()
    if request is None:
        raise RuntimeError("no request is being served (is CsrfMiddleware installed?)")
    return request


def current_path() -> str:
    """The path and query of the page being rendered (where forms come back to)."""
    url = current_request().url
    return url.path + (f"?{url.query}" if url.query else "")
