"""The community in the store: users and roles, sign-in links, sessions, upvotes, comments,
collections, API tokens, curator featuring and rate-limit counters.

Secrets (sign-in links, session cookies, API tokens) are stored only as SHA-256 hashes, so a
copy of the database signs nobody in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.db.papers import _now, _record
from paperfeed.db.schema import (
    api_tokens,
    collection_items,
    collections,
    comments,
    feed_entries,
    papers,
    rate_limits,
    sessions,
    sign_in_links,
    site_keys,
    upvotes,
    users,
)
from paperfeed.models import PaperRecord, PaperStatus


def secret_hash(token: str) -> str:
    """The SHA-256 hex digest under which a bearer secret is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh, unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


# Users and roles


class Role(StrEnum):
    """What a user may do: members vote, comment, submit; curators also feature and moderate;
    admins also change roles."""

    MEMBER = "member"
    CURATOR = "curator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"member": 0, "curator": 1, "admin": 2}[self.value]


@dataclass(frozen=True, slots=True)
class User:
    """A signed-up reader."""

    user_id: int
    email: str
    display_name: str | None
    role: Role
    created_at: dt.datetime

    @property
    def name(self) -> str:
        """How the user is shown to others: the display name, else the part before the @."""
        return self.display_name or self.email.split("@", 1)[0]

    def can(self, role: Role) -> bool:
        """Whether this user has `role` or a higher one."""
        return self.role.rank >= role.rank


def normalize_email(address: str) -> str:
    """Trim and lower-case an address (the whole address: mailboxes are case-insensitive in
    practice, and one reader must not get two accounts)."""
    return address.strip().lower()


def _user(row: Any) -> User:
    try:
        role = Role(row.role)
    except ValueError:  # an unknown role grants nothing
        role = Role.MEMBER
    return User(row.user_id, row.email, row.display_name, role, row.created_at)


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return _user(row) if row else None


def get_user_by_email(conn: Connection, address: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == normalize_email(address))).first()
    return _user(row) if row else None


def get_or_create_user(conn: Connection, address: str) -> User:
    """The user with this email, created as a member on first sign-in."""
    existing = get_user_by_email(conn, address)
    if existing is not None:
        return existing
    conn.execute(
        insert(users).values(email=normalize_email(address), role=Role.MEMBER, created_at=_now())
    )
    created = get_user_by_email(conn, address)
    assert created is not None
    return created


def list_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(users).order_by(users.c.user_id))]


def set_role(conn: Connection, user_id: int, role: Role) -> bool:
    """Give a user a role; False if there is no such user."""
    result = conn.execute(update(users).where(users.c.user_id == user_id).values(role=role.value))
    return result.rowcount == 1


def set_display_name(conn: Connection, user_id: int, name: str | None) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id).values(display_name=name))


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
                    name=name, secret=secrets.token_bytes(32), created_at=_now()
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


def create_sign_in_link(
    conn: Connection, email: str, *, browser_id: str, next_path: str, now: dt.datetime | None = None
) -> str:
    """Store a single-use link for `email`, bound to the asking browser; return its token."""
    now = now or _now()
    token = new_token()
    conn.execute(
        insert(sign_in_links).values(
            token_hash=secret_hash(token),
            email=normalize_email(email),
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
    now = now or _now()
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
    now = now or _now()
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
        return self.last_seen_at < (now or _now()) - _SESSION_TOUCH


def session_user(conn: Connection, token: str, *, now: dt.datetime | None = None) -> Session | None:
    """The live session of a cookie value, or None."""
    now = now or _now()
    row = conn.execute(
        select(users, sessions.c.last_seen_at)
        .join(sessions, sessions.c.user_id == users.c.user_id)
        .where(sessions.c.session_hash == secret_hash(token), sessions.c.expires_at > now)
    ).first()
    return Session(_user(row), row.last_seen_at) if row else None


def touch_session(conn: Connection, token: str, *, now: dt.datetime | None = None) -> None:
    """Extend a session that is in use (at most once an hour, to spare the writes)."""
    now = now or _now()
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
            user_id=user_id, name=name, token_hash=secret_hash(token), created_at=_now()
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
        update(api_tokens).where(api_tokens.c.token_hash == digest).values(last_used_at=_now())
    )
    return _user(row)


# Upvotes and card stats


@dataclass(frozen=True, slots=True)
class CardStats:
    """What a paper card shows: upvotes (imported + readers'), comments, and the reader's vote."""

    upvotes: int = 0
    comments: int = 0
    upvoted: bool = False


def set_upvote(conn: Connection, user_id: int, paper_id: str, *, on: bool) -> bool:
    """Cast (on) or withdraw (off) a reader's upvote; True if anything changed.

    Idempotent: a second upvote by the same reader changes nothing.
    """
    if on:
        exists = conn.scalar(
            select(func.count())
            .select_from(upvotes)
            .where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
        )
        if exists:
            return False
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(upvotes).values(user_id=user_id, paper_id=paper_id, created_at=_now())
                )
        except IntegrityError:  # a double click raced us
            return False
        return True
    result = conn.execute(
        delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
    )
    return result.rowcount == 1


def has_upvoted(conn: Connection, user_id: int, paper_id: str) -> bool:
    return bool(
        conn.scalar(
            select(func.count())
            .select_from(upvotes)
            .where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
        )
    )


def card_stats(
    conn: Connection, paper_ids: Sequence[str], *, user_id: int | None
) -> dict[str, CardStats]:
    """Stats for each paper id (papers without any get zeros).

    upvotes = the imported Hugging Face count (the highest one among the paper's feed entries)
    + the readers' upvotes in the store.
    """
    ids = list(dict.fromkeys(paper_ids))
    imported: dict[str, int] = {}
    readers: dict[str, int] = {}
    counted: dict[str, int] = {}
    mine: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pid, count in conn.execute(
            select(feed_entries.c.paper_id, func.max(feed_entries.c.upvotes))
            .where(feed_entries.c.paper_id.in_(chunk))
            .group_by(feed_entries.c.paper_id)
        ):
            imported[pid] = int(count or 0)
        for pid, count in conn.execute(
            select(upvotes.c.paper_id, func.count())
            .where(upvotes.c.paper_id.in_(chunk))
            .group_by(upvotes.c.paper_id)
        ):
            readers[pid] = int(count)
        for pid, count in conn.execute(
            select(comments.c.paper_id, func.count())
            .where(comments.c.paper_id.in_(chunk), comments.c.hidden_at.is_(None))
            .group_by(comments.c.paper_id)
        ):
            counted[pid] = int(count)
        if user_id is not None:
            mine.update(
                conn.scalars(
                    select(upvotes.c.paper_id).where(
                        upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(chunk)
                    )
                )
            )
    return {
        pid: CardStats(imported.get(pid, 0) + readers.get(pid, 0), counted.get(pid, 0), pid in mine)
        for pid in ids
    }


# Comments

MAX_COMMENT_CHARS = 5000


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    paper_id: str
    user_id: int
    author: str
    body: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    hidden: bool


def add_comment(conn: Connection, paper_id: str, user_id: int, body: str) -> int:
    result = conn.execute(
        insert(comments).values(paper_id=paper_id, user_id=user_id, body=body, created_at=_now())
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get_comment(conn: Connection, comment_id: int) -> Comment | None:
    rows = _comment_rows(conn, comments.c.comment_id == comment_id)
    return rows[0] if rows else None


def list_comments(conn: Connection, paper_id: str, *, include_hidden: bool) -> list[Comment]:
    """A paper's comments, oldest first; hidden ones only for moderators."""
    condition = comments.c.paper_id == paper_id
    if not include_hidden:
        condition = and_(condition, comments.c.hidden_at.is_(None))
    return _comment_rows(conn, condition)


def _comment_rows(conn: Connection, condition: Any) -> list[Comment]:
    query = (
        select(comments, users.c.email, users.c.display_name)
        .join(users, users.c.user_id == comments.c.user_id)
        .where(condition)
        .order_by(comments.c.created_at, comments.c.comment_id)
    )
    return [
        Comment(
            r.comment_id,
            r.paper_id,
            r.user_id,
            r.display_name or r.email.split("@", 1)[0],
            r.body,
            r.created_at,
            r.edited_at,
            r.hidden_at is not None,
        )
        for r in conn.execute(query)
    ]


def edit_comment(conn: Connection, comment_id: int, user_id: int, body: str) -> bool:
    """Change the text of one's own comment; False if it is not theirs (or gone)."""
    result = conn.execute(
        update(comments)
        .where(comments.c.comment_id == comment_id, comments.c.user_id == user_id)
        .values(body=body, edited_at=_now())
    )
    return result.rowcount == 1


def delete_comment(conn: Connection, comment_id: int, user_id: int) -> bool:
    result = conn.execute(
        delete(comments).where(comments.c.comment_id == comment_id, comments.c.user_id == user_id)
    )
    return result.rowcount == 1


def set_comment_hidden(
    conn: Connection, comment_id: int, moderator_id: int, *, hidden: bool
) -> bool:
    values = {"hidden_at": _now(), "hidden_by": moderator_id} if hidden else {"hidden_at": None}
    result = conn.execute(
        update(comments).where(comments.c.comment_id == comment_id).values(values)
    )
    return result.rowcount == 1


# Collections


@dataclass(frozen=True, slots=True)
class Collection:
    collection_id: int
    user_id: int
    owner: str
    name: str
    description: str
    is_public: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    size: int


def _collections_query() -> Any:
    size = (
        select(func.count())
        .select_from(collection_items)
        .where(collection_items.c.collection_id == collections.c.collection_id)
        .scalar_subquery()
    )
    return select(collections, users.c.email, users.c.display_name, size.label("size")).join(
        users, users.c.user_id == collections.c.user_id
    )


def _collection(r: Any) -> Collection:
    return Collection(
        r.collection_id,
        r.user_id,
        r.display_name or r.email.split("@", 1)[0],
        r.name,
        r.description,
        bool(r.is_public),
        r.created_at,
        r.updated_at,
        int(r.size),
    )


class DuplicateName(ValueError):
    """The user already has a collection of that name."""


def create_collection(
    conn: Connection, user_id: int, name: str, *, description: str = "", is_public: bool = False
) -> int:
    now = _now()
    try:
        with conn.begin_nested():
            result = conn.execute(
                insert(collections).values(
                    user_id=user_id,
                    name=name,
                    description=description,
                    is_public=is_public,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise DuplicateName(f"you already have a collection named {name!r}") from None
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_collection(
    conn: Connection,
    collection_id: int,
    user_id: int,
    *,
    name: str,
    description: str,
    is_public: bool,
) -> bool:
    try:
        with conn.begin_nested():
            result = conn.execute(
                update(collections)
                .where(
                    collections.c.collection_id == collection_id,
                    collections.c.user_id == user_id,
                )
                .values(name=name, description=description, is_public=is_public, updated_at=_now())
            )
    except IntegrityError:
        raise DuplicateName(f"you already have a collection named {name!r}") from None
    return result.rowcount == 1


def delete_collection(conn: Connection, collection_id: int, user_id: int) -> bool:
    result = conn.execute(
        delete(collections).where(
            collections.c.collection_id == collection_id, collections.c.user_id == user_id
        )
    )
    return result.rowcount == 1


def get_collection(conn: Connection, collection_id: int) -> Collection | None:
    row = conn.execute(
        _collections_query().where(collections.c.collection_id == collection_id)
    ).first()
    return _collection(row) if row else None


def user_collections(conn: Connection, user_id: int) -> list[Collection]:
    query = _collections_query().where(collections.c.user_id == user_id)
    return [_collection(r) for r in conn.execute(query.order_by(collections.c.name))]


def public_collections(conn: Connection, *, limit: int = 100) -> list[Collection]:
    query = _collections_query().where(collections.c.is_public.is_(True))
    order = collections.c.updated_at.desc()
    return [_collection(r) for r in conn.execute(query.order_by(order).limit(limit))]


def collections_holding(conn: Connection, user_id: int, paper_id: str) -> set[int]:
    """Ids of the user's collections that hold the paper."""
    return set(
        conn.scalars(
            select(collection_items.c.collection_id)
            .join(collections, collections.c.collection_id == collection_items.c.collection_id)
            .where(collections.c.user_id == user_id, collection_items.c.paper_id == paper_id)
        )
    )


def set_in_collection(
    conn: Connection, collection_id: int, user_id: int, paper_id: str, *, present: bool
) -> bool | None:
    """Add (present) or remove a paper; None if the collection is not the user's."""
    owner = conn.scalar(
        select(collections.c.user_id).where(collections.c.collection_id == collection_id)
    )
    if owner != user_id:
        return None
    if present:
        exists = conn.scalar(
            select(func.count())
            .select_from(collection_items)
            .where(
                collection_items.c.collection_id == collection_id,
                collection_items.c.paper_id == paper_id,
            )
        )
        if exists:
            return False
        conn.execute(
            insert(collection_items).values(
                collection_id=collection_id, paper_id=paper_id, added_at=_now()
            )
        )
        changed = True
    else:
        result = conn.execute(
            delete(collection_items).where(
                collection_items.c.collection_id == collection_id,
                collection_items.c.paper_id == paper_id,
            )
        )
        changed = result.rowcount == 1
    if changed:
        conn.execute(
            update(collections)
            .where(collections.c.collection_id == collection_id)
            .values(updated_at=_now())
        )
    return changed


def collection_papers(
    conn: Connection, collection_id: int
) -> list[tuple[PaperRecord, dt.datetime]]:
    """The visible papers of a collection with the time each was added, newest first."""
    query = (
        select(papers, collection_items.c.added_at)
        .join(collection_items, collection_items.c.paper_id == papers.c.paper_id)
        .where(
            collection_items.c.collection_id == collection_id,
            papers.c.status == PaperStatus.ACTIVE.value,
        )
        .order_by(collection_items.c.added_at.desc(), papers.c.paper_id)
    )
    return [(_record(r), r.added_at) for r in conn.execute(query)]


# Featuring by curators and submitters


def feature_paper(
    conn: Connection, paper_id: str, day: dt.date, *, user_id: int, source: str
) -> bool:
    """Feature a paper on a day; False if it already is (its entry is left as it was)."""
    exists = conn.scalar(
        select(func.count())
        .select_from(feed_entries)
        .where(feed_entries.c.day == day, feed_entries.c.paper_id == paper_id)
    )
    if exists:
        return False
    conn.execute(
        insert(feed_entries).values(
            day=day,
            paper_id=paper_id,
            source=source,
            featured_by=user_id,
            upvotes=0,
            featured_at=_now(),
        )
    )
    return True


def unfeature_paper(conn: Connection, paper_id: str, day: dt.date) -> bool:
    result = conn.execute(
        delete(feed_entries).where(feed_entries.c.day == day, feed_entries.c.paper_id == paper_id)
    )
    return result.rowcount == 1


# Rate limits

_SWEEP = dt.timedelta(days=1)


def hit_rate_limit(
    conn: Connection,
    bucket: str,
    *,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime | None = None,
) -> float:
    """Count one hit in a fixed window; return 0 if allowed, else seconds until it is.

    Kept in the store rather than in memory so every worker of a hub counts together.
    """
    now = now or _now()
    row = conn.execute(select(rate_limits).where(rate_limits.c.bucket == bucket)).first()
    if row is None or row.window_start <= now - window:
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(rate_limits).values(bucket=bucket, window_start=now, hits=1)
                    )
                    return 0.0
            except IntegrityError:  # another request opened the window first
                row = conn.execute(select(rate_limits).where(rate_limits.c.bucket == bucket)).one()
        else:
            conn.execute(
                update(rate_limits)
                .where(rate_limits.c.bucket == bucket)
                .values(window_start=now, hits=1)
            )
            # Sweep windows long closed (every limit's window is shorter than a day).
            conn.execute(delete(rate_limits).where(rate_limits.c.window_start < now - _SWEEP))
            return 0.0
    if row.hits >= limit:
        return max(1.0, float((row.window_start + window - now).total_seconds()))
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.bucket == bucket)
        .values(hits=rate_limits.c.hits + 1)
    )
    return 0.0
