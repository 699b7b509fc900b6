"""Bearer secrets in the store: sign-in links, sessions, API tokens, and the site keys.

Secrets are stored only as SHA-256 hashes, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.addresses import normalize_address
from paperfeed.db.schema import api_tokens, sessions, sign_in_links, site_keys, users, utc_now
from paperfeed.db.users import User, user_from_row


def secret_hash(token: str) -> str:
    """The SHA-256 hex digest under which a bearer secret is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh, unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


# Site keys


def site_key(conn: Connection, name: str) -> bytes:
    """A random secret kept in the store under `name`, made on first use.

    Kept in the store (not in settings) so every worker of one hub shares it and restarts keep
    forms valid, with nothing for the operator to configure.
    """
    found = conn.scalar(select(site_keys.c.secret).where(site_keys.c.name == name))
    if found is not None:
        return bytes(found)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(site_keys).values(
                    name=name, secret=secrets.token_bytes(32), created_at=utc_now()
                )
            )
    except IntegrityError:  # another worker made it first
        pass
    found = conn.scalar(select(site_keys.c.secret).where(site_keys.c.name == name))
    assert found is not None
    return bytes(found)


# Sign-in links and sessions

SIGN_IN_LINK_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(days=30)
_SESSION_TOUCH = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SignInLink:
    email: str
    browser_hash: str
    next_path: str
    expires_at: dt.datetime
    used_at: dt.datetime | None

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at <= (now or utc_now())


def create_sign_in_link(
    conn: Connection, email: str, *, browser_id: str, next_path: str, now: dt.datetime | None = None
) -> str:
    """Store a single-use link for `email`, bound to the asking browser; return its token."""
    now = now or utc_now()
    token = new_token()
    conn.execute(
        insert(sign_in_links).values(
            token_hash=secret_hash(token),
            email=normalize_address(email),
            browser_hash=secret_hash(browser_id),
            next_path=next_path,
            created_at=now,
            expires_at=now + SIGN_IN_LINK_TTL,
        )
    )
    # Old links are of no use to anyone; sweep them while we are here.
    conn.execute(delete(sign_in_links).where(sign_in_links.c.expires_at < now - dt.timedelta(1)))
    return token


def get_sign_in_link(conn: Connection, token: str) -> SignInLink | None:
    row = conn.execute(
        select(sign_in_links).where(sign_in_links.c.token_hash == secret_hash(token))
    ).first()
    if row is None:
        return None
    return SignInLink(row.email, row.browser_hash, row.next_path, row.expires_at, row.used_at)


def use_sign_in_link(conn: Connection, token: str, *, now: dt.datetime | None = None) -> bool:
    """Mark a link used if it is still unused and unexpired; True if this call used it.

    One conditional UPDATE, so two clicks racing each other cannot both sign in.
    """
    now = now or utc_now()
    result = conn.execute(
        update(sign_in_links)
        .where(
            sign_in_links.c.token_hash == secret_hash(token),
            sign_in_links.c.used_at.is_(None),
            sign_in_links.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


def create_session(conn: Connection, user_id: int, *, now: dt.datetime | None = None) -> str:
    """Start a session for a user; return the cookie value."""
    now = now or utc_now()
    token = new_token()
    conn.execute(
        insert(sessions).values(
            session_hash=secret_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    conn.execute(delete(sessions).where(sessions.c.expires_at < now))
    return token


@dataclass(frozen=True, slots=True)
class Session:
    """A live session: whose it is and when it was last extended."""

    user: User
    last_seen_at: dt.datetime

    def needs_touch(self, now: dt.datetime | None = None) -> bool:
        return self.last_seen_at < (now or utc_now()) - _SESSION_TOUCH


def session_user(conn: Connection, token: str, *, now: dt.datetime | None = None) -> Session | None:
    """The live session of a cookie value, or None."""
    now = now or utc_now()
    row = conn.execute(
        select(users, sessions.c.last_seen_at)
        .join(sessions, sessions.c.user_id == users.c.user_id)
        .where(sessions.c.session_hash == secret_hash(token), sessions.c.expires_at > now)
    ).first()
    return Session(user_from_row(row), row.last_seen_at) if row else None


def touch_session(conn: Connection, token: str, *, now: dt.datetime | None = None) -> None:
    """Extend a session that is in use (at most once an hour, to spare the writes)."""
    now = now or utc_now()
    conn.execute(
        update(sessions)
        .where(
            sessions.c.session_hash == secret_hash(token),
            sessions.c.last_seen_at < now - _SESSION_TOUCH,
        )
        .values(last_seen_at=now, expires_at=now + SESSION_TTL)
    )


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.session_hash == secret_hash(token)))


def end_sessions_of(conn: Connection, user_id: int) -> None:
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


# API tokens


@dataclass(frozen=True, slots=True)
class ApiToken:
    token_id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


def create_api_token(conn: Connection, user_id: int, name: str) -> str:
    """Make a token for the JSON API; the secret is shown once and stored only as a hash."""
    token = "pf_" + new_token()
    conn.execute(
        insert(api_tokens).values(
            user_id=user_id, name=name, token_hash=secret_hash(token), created_at=utc_now()
        )
    )
    return token


def list_api_tokens(conn: Connection, user_id: int) -> list[ApiToken]:
    query = (
        select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.token_id)
    )
    return [ApiToken(r.token_id, r.name, r.created_at, r.last_used_at) for r in conn.execute(query)]


def revoke_api_token(conn: Connection, user_id: int, token_id: int) -> bool:
    result = conn.execute(
        delete(api_tokens).where(api_tokens.c.token_id == token_id, api_tokens.c.user_id == user_id)
    )
    return result.rowcount == 1


def token_user(conn: Connection, token: str) -> User | None:
    """The owner of an API token, or None; notes when it was last used."""
    digest = secret_hash(token)
    row = conn.execute(
        select(users)
        .join(api_tokens, api_tokens.c.user_id == users.c.user_id)
        .where(api_tokens.c.token_hash == digest)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(api_tokens).where(api_tokens.c.token_hash == digest).values(last_used_at=utc_now())
    )
    return user_from_row(row)
