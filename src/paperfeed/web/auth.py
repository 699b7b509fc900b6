"""Who is asking: server-side sessions in a cookie, and the dependencies routes use.

- `OptionalUser`: the signed-in `User`, or None.
- `CurrentUser`: the signed-in user; anyone else is sent to /sign-in (303) and back after.
- `require_role(Role.CURATOR)`: like CurrentUser, and 403 below that role.

The session cookie (cookies.py) holds a random token whose SHA-256 is the key of a `sessions`
row; `community.accounts.session_user` looks it up. See docs/web.md.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request

from paperfeed.community.accounts import Role, User, session_user
from paperfeed.hub import Hub
from paperfeed.web.cookies import cookie_policy
from paperfeed.web.deps import get_hub
from paperfeed.web.request_context import current_request


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
    return session_user(db=hub.db, session_token=token)


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
