"""Users and roles in the store: who signed up, under which address, with which role.

Addresses are stored as `paperfeed.addresses.normalize_address` makes them (one mailbox, lower
case), so one reader never gets two accounts and a malformed address never gets a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from paperfeed.addresses import InvalidAddress, normalize_address
from paperfeed.db.schema import users, utc_now


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


def user_from_row(row: Any) -> User:
    """The `User` of a row holding the `users` columns."""
    try:
        role = Role(row.role)
    except ValueError:  # an unknown role grants nothing
        role = Role.MEMBER
    return User(row.user_id, row.email, row.display_name, role, row.created_at)


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
    conn.execute(insert(users).values(email=email, role=Role.MEMBER, created_at=utc_now()))
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
