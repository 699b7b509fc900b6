"""db/users.py: one account per normalized address, and no row for what is not an address."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from paperfeed.addresses import InvalidAddress
from paperfeed.db import Database
from paperfeed.db.schema import users
from paperfeed.db.users import get_or_create_user, get_user_by_email


def test_one_account_per_normalized_address(db: Database) -> None:
    with db.write() as conn:
        first = get_or_create_user(conn, " Ada@Example.ORG")
        again = get_or_create_user(conn, "ada@example.org")
    assert first == again and first.email == "ada@example.org"
    with db.read() as conn:
        assert get_user_by_email(conn, "ADA@example.org") == first
        assert get_user_by_email(conn, "ada@example.org;1") is None


@pytest.mark.parametrize(
    "address", ["a@x.org,b@y.org", "a@x.org;1", "a@x.org\x00", "a@x.org\r\nbcc:b@y.org"]
)
def test_what_is_not_one_address_gets_no_row(db: Database, address: str) -> None:
    with pytest.raises(InvalidAddress), db.write() as conn:
        get_or_create_user(conn, address)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(users)) == 0
