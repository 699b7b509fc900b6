"""Accounts: sign-in by single-use link, sessions, API tokens, display names and roles.

Every address is parsed by `paperfeed.addresses.normalize_address`: one mailbox, lower-cased,
or `InvalidAddress` before anything is counted or stored. The per-address sign-in limit is
keyed by that normal form, so `a@x.org;1` cannot make a fresh key for `a@x.org`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.addresses import InvalidAddress, normalize_address
from paperfeed.community import limits
from paperfeed.db import sessions as secrets_store
from paperfeed.db import users as users_store
from paperfeed.db.engine import Database
from paperfeed.db.sessions import ApiToken, SignInLink, new_token, secret_hash
from paperfeed.db.users import Role, User
from paperfeed.handles import HandleRefused, checked_handle

__all__ = [
    "ApiToken",
    "HandleRefused",
    "HandleTaken",
    "InvalidAddress",
    "LinkExpired",
    "LinkNotValid",
    "LinkUsed",
    "NoSuchUser",
    "Role",
    "SignInLink",
    "SignInLinkError",
    "SignInRequest",
    "SignedIn",
    "User",
    "WrongBrowser",
    "api_token_user",
    "ask_for_sign_in",
    "change_role",
    "check_sign_in_link",
    "create_api_token",
    "get_member",
    "list_api_tokens",
    "list_users",
    "member_by_handle",
    "new_token",
    "revoke_api_token",
    "session_user",
    "set_display_name",
    "set_handle",
    "set_role_by_email",
    "sign_in",
    "sign_out",
    "site_key",
]


class SignInLinkError(Exception):
    """A sign-in link that cannot be used; the message says why, for the reader."""


class LinkNotValid(SignInLinkError):
    """No such link (or an incomplete one)."""


class LinkUsed(SignInLinkError):
    """The link was used already."""


class LinkExpired(SignInLinkError):
    """The link is older than its ten minutes."""


class WrongBrowser(SignInLinkError):
    """The link is opened in another browser than the one that asked for it."""


class NoSuchUser(LookupError):
    """No user with that id or address."""


@dataclass(frozen=True, slots=True)
class SignInRequest:
    """A link made for `address` (normalized): `token` goes into the mail, once."""

    address: str
    token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A finished sign-in: the new session's cookie value and where to go next."""

    user: User
    session_token: str
    next_path: str


def ask_for_sign_in(
    *, db: Database, email: str, client: str, browser_id: str, next_path: str
) -> SignInRequest:
    """Make a single-use sign-in link for `email`, bound to the asking browser.

    Raises `InvalidAddress` (nothing counted or stored), then `RateLimited` (per client, then
    per normalized address). The same answer whether or not the address has an account.
    """
    address = normalize_address(email)
    limits.hit(db=db, limit=limits.SIGN_IN_PER_CLIENT, who=client)
    limits.hit(db=db, limit=limits.SIGN_IN_PER_EMAIL, who=secret_hash(address))
    with db.write() as conn:
        token = secrets_store.create_sign_in_link(
            conn, address, browser_id=browser_id, next_path=next_path
        )
    return SignInRequest(address, token)


def check_sign_in_link(*, db: Database, token: str, browser_id: str) -> SignInLink:
    """The link of `token` if this browser may use it now; a `SignInLinkError` otherwise."""
    if not token or len(token) > 200:
        raise LinkNotValid("This sign-in link is incomplete.")
    with db.read() as conn:
        link = secrets_store.get_sign_in_link(conn, token)
    if link is None:
        raise LinkNotValid("This sign-in link is not valid.")
    if link.used_at is not None:
        raise LinkUsed("This sign-in link was used already. Ask for a new one.")
    if link.expired():
        raise LinkExpired("This sign-in link expired. Ask for a new one.")
    if link.browser_hash != secret_hash(browser_id):
        raise WrongBrowser(
            "Open this link in the browser where you asked for it "
            "(or ask for a new link in this one)."
        )
    return link


def sign_in(
    *, db: Database, token: str, browser_id: str, previous_session: str | None = None
) -> SignedIn:
    """Use a sign-in link (once), make the user on first sign-in and start a session.

    A `previous_session` (switching accounts) ends here rather than in 30 days.
    """
    link = check_sign_in_link(db=db, token=token, browser_id=browser_id)
    with db.write() as conn:
        if previous_session:
            secrets_store.end_session(conn, previous_session)
        if not secrets_store.use_sign_in_link(conn, token):
            raise LinkUsed("This sign-in link was used already. Ask for a new one.")
        user = users_store.get_or_create_user(conn, link.email)
        session = secrets_store.create_session(conn, user.user_id)
    return SignedIn(user, session, link.next_path)


def sign_out(*, db: Database, session_token: str) -> None:
    """End the session of this cookie value."""
    with db.write() as conn:
        secrets_store.end_session(conn, session_token)


def session_user(
    *, db: Database, session_token: str, now: dt.datetime | None = None
) -> User | None:
    """The user of a live session, extending it when in use (at most once an hour)."""
    with db.read() as conn:
        session = secrets_store.session_user(conn, session_token, now=now)
    if session is None:
        return None
    if session.needs_touch(now):
        with db.write() as conn:
            secrets_store.touch_session(conn, session_token, now=now)
    return session.user


def api_token_user(*, db: Database, token: str) -> User | None:
    """The owner of an API token (noting its use), or None."""
    with db.write() as conn:
        return secrets_store.token_user(conn, token)


def create_api_token(*, db: Database, user_id: int, name: str) -> str:
    """Make an API token; its secret is returned once and stored only as a hash."""
    with db.write() as conn:
        return secrets_store.create_api_token(conn, user_id, name)


def list_api_tokens(*, db: Database, user_id: int) -> list[ApiToken]:
    with db.read() as conn:
        return secrets_store.list_api_tokens(conn, user_id)


def revoke_api_token(*, db: Database, user_id: int, token_id: int) -> bool:
    """Delete one of the user's tokens; False if they have no such token."""
    with db.write() as conn:
        return secrets_store.revoke_api_token(conn, user_id, token_id)


def site_key(*, db: Database, name: str) -> bytes:
    """The hub's random secret named `name` (made on first use, shared by all workers)."""
    with db.write() as conn:
        return secrets_store.site_key(conn, name)


def set_display_name(*, db: Database, user_id: int, name: str | None) -> None:
    with db.write() as conn:
        users_store.set_display_name(conn, user_id, name)


class HandleTaken(ValueError):
    """Another member has that handle."""


def set_handle(*, db: Database, user_id: int, handle: str) -> str:
    """Change a member's @handle; return it as stored (lower case).

    Raises `HandleRefused` (not a handle one may take), `RateLimited` or `HandleTaken`.
    Mentions already written keep pointing at the member (they are kept by user id).
    """
    wanted = checked_handle(handle)
    with db.read() as conn:
        current = users_store.get_user(conn, user_id)
    if current is not None and current.handle == wanted:
        return wanted
    limits.hit(db=db, limit=limits.HANDLE_PER_USER, who=str(user_id))
    with db.write() as conn:
        if users_store.handle_taken(conn, wanted, besides=user_id) or not users_store.set_handle(
            conn, user_id, wanted
        ):
            raise HandleTaken(f"“@{wanted}” is taken; choose another.")
    return wanted


def member_by_handle(*, db: Database, handle: str) -> User | None:
    with db.read() as conn:
        return users_store.get_user_by_handle(conn, handle)


def get_member(*, db: Database, user_id: int) -> User | None:
    with db.read() as conn:
        return users_store.get_user(conn, user_id)


def list_users(*, db: Database) -> list[User]:
    """Every user, oldest first."""
    with db.read() as conn:
        return users_store.list_users(conn)


def change_role(*, db: Database, user_id: int, role: Role) -> None:
    """Give the user `user_id` a role; `NoSuchUser` if there is none."""
    with db.write() as conn:
        if users_store.get_user(conn, user_id) is None:
            raise NoSuchUser(user_id)
        users_store.set_role(conn, user_id, role)


def set_role_by_email(*, db: Database, email: str, role: Role, create: bool = False) -> User:
    """Give the user with this address a role (making them first with `create`).

    Raises `InvalidAddress` or `NoSuchUser`; returns the user as they were before.
    """
    address = normalize_address(email)
    with db.write() as conn:
        user = users_store.get_user_by_email(conn, address)
        if user is None and create:
            user = users_store.get_or_create_user(conn, address)
        if user is None:
            raise NoSuchUser(address)
        users_store.set_role(conn, user.user_id, role)
    return user
