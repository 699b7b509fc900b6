"""Which host names the hub answers to, and which clients count as local (docs/web.md, Security).

`HostCheckMiddleware` refuses a request whose `Host` is not an allowed name with 400, before any
route or redirect can echo it; `is_local_client` decides who may read the development mailbox.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from paperfeed.settings import Settings

# The names of this machine, allowed on connections made to a loopback address.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Headers a reverse proxy adds; a request that carries one came through a proxy.
_PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def is_loopback(address: str) -> bool:
    """Whether `address` (an IP address or `localhost`) names this machine only."""
    address = address.strip("[]")
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name in a `Host` header or URL netloc, lower case, without port or IPv6 brackets."""
    host = host_header.strip().lower().rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0]


def allowed_host_names(settings: Settings, *, server_is_loopback: bool) -> frozenset[str]:
    """The public URL's host, the `allowed_hosts` setting, and loopback names when local."""
    names = {host_name(urlsplit(settings.public_url).netloc)}
    names.update(name.strip().lower() for name in settings.allowed_hosts if name.strip())
    if server_is_loopback:
        names |= LOOPBACK_NAMES
    return frozenset(names)


def host_is_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether `host` (a bare name) matches an entry: exact, `*.example.org` or `*`."""
    if not host:
        return False
    for pattern in allowed:
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def request_host_is_allowed(scope: Scope, settings: Settings) -> bool:
    """Whether the request's `Host` header names this hub (never trust it otherwise)."""
    server = scope.get("server")
    server_is_loopback = server is not None and is_loopback(str(server[0]))
    allowed = allowed_host_names(settings, server_is_loopback=server_is_loopback)
    return host_is_allowed(host_name(Headers(scope=scope).get("host", "")), allowed)


def is_local_client(scope: Scope) -> bool:
    """Whether the request comes straight from this machine, not from the network or a proxy.

    A client without an IP address (an in-process call such as the test client, or a Unix
    socket) counts as local unless a proxy header says the request was forwarded.
    """
    if any(name in _PROXY_HEADERS for name, _ in scope.get("headers", ())):
        return False
    client = scope.get("client")
    if not client:
        return True
    address = str(client[0])
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return True
    return is_loopback(address)


class HostCheckMiddleware:
    """Answer 400 to a request whose `Host` is not an allowed name (DNS rebinding, poisoned links).

    Starlette builds absolute URLs, the trailing-slash redirect among them, from `Host`, so it
    must be checked before anything answers; compare Django's ALLOWED_HOSTS.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settings: Settings = scope["app"].state.hub.settings
            if not request_host_is_allowed(scope, settings):
                response = PlainTextResponse("Invalid host header", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
