"""Rows in every table of a store, and a dump of them to compare two stores (copy_store tests).

`add_community_rows` goes through the real store functions (members, sessions, API tokens,
upvotes, comments, collections, subscribers, sign-in links); `fill_every_table` then gives each
table still empty a few rows made from its column types (sparse ids, non-ASCII text, NUL bytes,
microseconds, JSON `null` beside SQL NULL), so a table added to the schema later is covered too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    insert,
    null,
    select,
)

from paperfeed.db import Database
from paperfeed.db.collections import create_collection, set_in_collection
from paperfeed.db.comments import add_comment
from paperfeed.db.copy_store import copied_tables
from paperfeed.db.digest_subscribers import add_subscriber
from paperfeed.db.schema import papers
from paperfeed.db.sessions import create_api_token, create_session, create_sign_in_link, site_key
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import Role, get_or_create_user, set_role

ROWS_PER_TABLE = 3
_T0 = dt.datetime(2024, 3, 1, 12, 30, 15, 123456)


def add_community_rows(db: Database) -> None:
    """Members and what they did, through the store's own functions (needs >= 3 papers)."""
    with db.write() as conn:
        paper_ids = list(conn.scalars(select(papers.c.paper_id).order_by(papers.c.paper_id)))[:3]
        assert len(paper_ids) == 3
        users = [get_or_create_user(conn, f"reader{n}@example.org") for n in range(3)]
        set_role(conn, users[0].user_id, Role.CURATOR)
        for n, user in enumerate(users):
            create_session(conn, user.user_id)
            create_api_token(conn, user.user_id, f"script {n}")
            for paper_id in paper_ids[: n + 1]:
                set_upvote(conn, user.user_id, paper_id, on=True, now=_T0 + dt.timedelta(hours=n))
            add_comment(conn, paper_ids[n], user.user_id, f"Schöne Arbeit №{n} <b>ok</b>")
            collection = create_collection(
                conn, user.user_id, f"reading {n}", description="ü", is_public=n % 2 == 0
            )
            set_in_collection(conn, collection, user.user_id, paper_ids[n], present=True)
            add_subscriber(
                conn, email=f"sub{n}@example.org", now=_T0, confirmed=n != 1, user_id=user.user_id
            )
        create_sign_in_link(conn, "reader9@example.org", browser_id="b", next_path="/x")
        site_key(conn, "csrf")


def fill_every_table(db: Database) -> None:
    """Give every table at least ROWS_PER_TABLE rows, parents first."""
    with db.write() as conn:
        for table in copied_tables():
            have = conn.execute(select(func.count()).select_from(table)).scalar_one()
            for n in range(have, ROWS_PER_TABLE):
                conn.execute(insert(table).values(_row(conn, table, n)))


def _row(conn: Any, table: Table, n: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for c in table.columns:
        if c.foreign_keys:
            (fk,) = c.foreign_keys
            parent = fk.column
            found = list(conn.scalars(select(parent).order_by(parent)))
            values[c.name] = found[n % len(found)]
        elif c.nullable and n == 2 and not c.primary_key:
            values[c.name] = null()  # SQL NULL, for JSON columns too
        elif isinstance(c.type, Integer):
            values[c.name] = 1000 + 37 * n if c.autoincrement is True or c.primary_key else n
        elif isinstance(c.type, String):  # Text too
            text = f"{n}-{table.name}.{c.name}-é"
            values[c.name] = text[: c.type.length] if c.type.length else text
        elif isinstance(c.type, JSON):
            values[c.name] = JSON.NULL if n == 1 else ["cs.CL", f"ß {n}"]  # a list fits all
        elif isinstance(c.type, Boolean):
            values[c.name] = n % 2 == 0
        elif isinstance(c.type, DateTime):
            values[c.name] = _T0 + dt.timedelta(days=n, microseconds=n)
        elif isinstance(c.type, Date):
            values[c.name] = _T0.date() + dt.timedelta(days=n)
        elif isinstance(c.type, Float):
            values[c.name] = 0.25 + n  # exact in binary, so equal after any round trip
        elif isinstance(c.type, LargeBinary):
            values[c.name] = bytes([0, 255, n]) * 10
        else:
            raise AssertionError(f"no test value for {table.name}.{c.name} ({c.type})")
    return values


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in primary-key order; JSON columns also say if SQL NULL."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as conn:
        for table in copied_tables():
            flags = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
            query = select(*table.columns, *flags).order_by(*table.primary_key.columns)
            rows[table.name] = [
                tuple(bool(v) if i >= len(table.columns) else v for i, v in enumerate(row))
                for row in conn.execute(query)
            ]
    return rows
