"""The hub's two cookies (session and browser id): their names and the Secure flag.

They are `__Host-paperfeed_session` and `__Host-paperfeed_browser` (Secure, HttpOnly,
SameSite=Lax, Path=/, no Domain), except when the hub is served over plain http on the local
machine (`public_url` http://127.0.0.1, localhost or [::1]): browsers refuse Secure and
`__Host-` cookies over http, so there they have no prefix and no Secure. See docs/web.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.responses import Response

from paperfeed.settings import Settings

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Cookie names and the Secure flag for one hub."""

    session: str
    browser: str
    secure: bool


def is_local_plain_http(public_url: str) -> bool:
    """Whether the hub is served over plain http on this machine only."""
    parts = urlsplit(public_url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS


def cookie_policy(settings: Settings) -> CookiePolicy:
    if is_local_plain_http(settings.public_url):
        return CookiePolicy("paperfeed_session", "paperfeed_browser", secure=False)
    return CookiePolicy("__Host-paperfeed_session", "__Host-paperfeed_browser", secure=True)


def set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    """Set an HttpOnly, SameSite=Lax cookie on Path=/ (no Domain, as `__Host-` requires)."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, name: str, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


# The home page's choice for a signed-in reader: "community" while they last chose the community
# feed over For you (not a secret; web/feed_pages.py and web/for_you.py).
HOME_COOKIE = "paperfeed_home"
