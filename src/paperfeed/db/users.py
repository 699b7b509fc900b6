"""Users and roles in the store: who signed up, under which address, with which role.

Addresses are stored as `paperfeed.addresses.normalize_address` makes them (one mailbox, lower
case), so one reader never gets two accounts and a malformed address never gets a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.addresses import InvalidAddress, normalize_address
from paperfeed.db.schema import users, utc_now
from paperfeed.handles import derive_handle


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
    handle: str | None = None

    @property
    def name(self) -> str:
        """How the user is shown to others: the display name, else the @handle (never a part
        of the address)."""
        return self.display_name or public_name(self.handle, self.user_id)

    def can(self, role: Role) -> bool:
        """Whether this user has `role` or a higher one."""
        return self.role.rank >= role.rank


def user_from_row(row: Any) -> User:
    """The `User` of a row holding the `users` columns."""
    try:
        role = Role(row.role)
    except ValueError:  # an unknown role grants nothing
        role = Role.MEMBER
    return User(row.user_id, row.email, row.display_name, role, row.created_at, row.handle)


def public_name(handle: str | None, user_id: int) -> str:
    """The name of a member without a display name: their handle (every member made since
    m018 has one), else "member N"."""
    return handle or f"member {user_id}"


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return user_from_row(row) if row else None


def get_user_by_email(conn: Connection, address: str) -> User | None:
    """The user with this address (normalized first), or None; malformed addresses have none."""
    try:
        email = normalize_address(address)
    except InvalidAddress:
        return None
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return user_from_row(row) if row else None


def get_or_create_user(conn: Connection, address: str) -> User:
    """The user with this email, created as a member on first sign-in.

    Raises `InvalidAddress` (and writes nothing) unless `address` is exactly one address.
    """
    email = normalize_address(address)
    existing = get_user_by_email(conn, email)
    if existing is not None:
        return existing
    handle = derive_handle(email, lambda h: handle_taken(conn, h))
    conn.execute(
        insert(users).values(email=email, role=Role.MEMBER, created_at=utc_now(), handle=handle)
    )
    created = get_user_by_email(conn, email)
    assert created is not None
    return created


def list_users(conn: Connection) -> list[User]:
    return [user_from_row(row) for row in conn.execute(select(users).order_by(users.c.user_id))]


def set_role(conn: Connection, user_id: int, role: Role) -> bool:
    """Give a user a role; False if there is no such user."""
    result = conn.execute(update(users).where(users.c.user_id == user_id).values(role=role.value))
    return result.rowcount == 1


def set_display_name(conn: Connection, user_id: int, name: str | None) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id).values(display_name=name))


def handle_taken(conn: Connection, handle: str, *, besides: int | None = None) -> bool:
    """Whether a member (other than `besides`) has this handle."""
    query = select(func.count()).select_from(users).where(users.c.handle == handle.lower())
    if besides is not None:
        query = query.where(users.c.user_id != besides)
    return bool(conn.scalar(query))


def get_user_by_handle(conn: Connection, handle: str) -> User | None:
    row = conn.execute(select(users).where(users.c.handle == handle.lower())).first()
    return user_from_row(row) if row else None


def users_by_handles(conn: Connection, handles: list[str]) -> dict[str, User]:
    """The members with these handles (lower case), by handle."""
    if not handles:
        return {}
    rows = conn.execute(select(users).where(users.c.handle.in_([h.lower() for h in handles])))
    return {row.handle: user_from_row(row) for row in rows}


def set_handle(conn: Connection, user_id: int, handle: str) -> bool:
    """Give a member a handle; False if another member has it (the unique index decides)."""
    try:
        with conn.begin_nested():
            conn.execute(update(users).where(users.c.user_id == user_id).values(handle=handle))
    except IntegrityError:
        return False
    return True
