"""Who is asking: server-side sessions in a cookie, and the dependencies routes use.

- `OptionalUser`: the signed-in `User`, or None.
- `CurrentUser`: the signed-in user; anyone else is sent to /sign-in (303) and back after.
- `require_role(Role.CURATOR)`: like CurrentUser, and 403 below that role.

The session cookie holds a random token whose SHA-256 is the key of a `sessions` row. It is
`__Host-paperfeed_session` (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain), except when
the hub is served over plain http on the local machine (`public_url` http://127.0.0.1,
localhost or [::1]): browsers refuse Secure and `__Host-` cookies over http, so there the
cookie is `paperfeed_session` without Secure. See docs/web.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.responses import Response

from paperfeed.db.community import Role, User, session_user, touch_session
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.deps import get_hub

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


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else "/".

    Refuses anything a browser could read as another origin: `//evil.test`, `/\\evil.test`
    (browsers treat a backslash as a slash), `https://evil.test`, control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


_UNSET = object()


def optional_user(request: Request) -> User | None:
    """The user signed in by session cookie, or None (cached for the request)."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    user = _session_user(request)
    request.state.user = user
    return user


def _session_user(request: Request) -> User | None:
    # A Bearer-token call skipped the CSRF check, so its cookies must not count (csrf.py).
    if request.scope.get("state", {}).get("bearer"):
        return None
    hub: Hub = get_hub(request)
    token = request.cookies.get(cookie_policy(hub.settings).session)
    if not token or len(token) > 100:
        return None
    with hub.db.read() as conn:
        session = session_user(conn, token)
    if session is None:
        return None
    if session.needs_touch():
        with hub.db.write() as conn:
            touch_session(conn, token)
    return session.user


def sign_in_url(request: Request) -> str:
    """/sign-in with `next` set to where the reader was going (or came from)."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same = referer.netloc == request.url.netloc
        target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same else "/"
    return "/sign-in?next=" + quote(safe_next(target), safe="/")


def require_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise HTTPException(
            status_code=303, detail="Sign in first.", headers={"Location": sign_in_url(request)}
        )
    return user


def viewer(request: Request | None = None) -> User | None:
    """The signed-in user of the page being rendered (a Jinja global)."""
    from paperfeed.web.csrf import current_request

    return optional_user(request or current_request())


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(require_user)]


def require_role(role: Role) -> object:
    """A dependency: the signed-in user, if they have `role` or a higher one (else 403)."""

    def dependency(user: CurrentUser) -> User:
        if not user.can(role):
            raise HTTPException(status_code=403, detail=f"Only a {role.value} can do that.")
        return user

    return Depends(dependency)


Curator = Annotated[User, require_role(Role.CURATOR)]
Admin = Annotated[User, require_role(Role.ADMIN)]
