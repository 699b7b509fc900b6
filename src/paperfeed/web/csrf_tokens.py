"""The CSRF token a form carries: an HMAC of the browser's id cookie under a key kept in the
store, masked with a fresh pad each time. csrf.py checks it on every state change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.types import Scope

from paperfeed.community.accounts import site_key
from paperfeed.hub import Hub
from paperfeed.web.request_context import current_request


def form_key(scope: Scope) -> bytes:
    """The hub's CSRF key (read from the store once per app, made on first use)."""
    app_state = scope["app"].state
    key = getattr(app_state, "csrf_key", None)
    if key is None:
        hub: Hub = app_state.hub
        key = site_key(db=hub.db, name="csrf")
        app_state.csrf_key = key
    assert isinstance(key, bytes)
    return key


def _secret_for(key: bytes, browser_id: str) -> bytes:
    return hmac.new(key, b"csrf:" + browser_id.encode(), hashlib.sha256).digest()


def token_for(key: bytes, browser_id: str) -> str:
    """A token for this browser, masked with a fresh random pad each time.

    Masking keeps the secret from repeating byte for byte in compressed pages that also
    reflect user input, which is what the BREACH attack needs.
    """
    secret = _secret_for(key, browser_id)
    pad = secrets.token_bytes(len(secret))
    masked = bytes(a ^ b for a, b in zip(secret, pad, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode().rstrip("=")


def token_matches(key: bytes, browser_id: str, token: str) -> bool:
    """Whether `token` (from token_for) belongs to this browser."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return False
    if len(raw) != 64:
        return False
    unmasked = bytes(a ^ b for a, b in zip(raw[:32], raw[32:], strict=True))
    return hmac.compare_digest(unmasked, _secret_for(key, browser_id))


def browser_id(request: Request) -> str:
    """The id of the asking browser (from its cookie, or the one this response sets)."""
    found = request.scope.get("state", {}).get("browser_id")
    if not isinstance(found, str):
        raise RuntimeError("CsrfMiddleware is not installed")
    return found


def csrf_token(request: Request | None = None) -> str:
    """The token forms must send back (a Jinja global; the request defaults to the current)."""
    request = request or current_request()
    return token_for(form_key(request.scope), browser_id(request))
