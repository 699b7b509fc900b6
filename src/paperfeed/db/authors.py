"""Authors in the store: every name on every paper with its bucket (`author_papers`), members'
follows of authors and their claims of author pages.

`author_papers` is derived from `papers.authors` and filled lazily (`catch_up`), from the papers
modified since the last catch-up: the paper import itself never touches it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from paperfeed.author_names import parse_name
from paperfeed.db.schema import author_claims, author_follows, author_papers, papers, users, utc_now
from paperfeed.db.state import load_state, save_state
from paperfeed.db.users import User, user_from_row
from paperfeed.models import PaperStatus

_STATE = ("authors", "index")
_BATCH = 2000
_ACTIVE = PaperStatus.ACTIVE.value


# The index of names


def index_mark(conn: Connection) -> dt.datetime | None:
    """The latest `papers.modified_at` the name index has caught up with (None: never)."""
    state = load_state(conn, source=_STATE[0], key=_STATE[1])
    if not state or not state.get("modified_at"):
        return None
    return dt.datetime.fromisoformat(state["modified_at"])


def latest_change(conn: Connection) -> dt.datetime | None:
    """The latest `papers.modified_at` (an index lookup)."""
    value: dt.datetime | None = conn.scalar(select(func.max(papers.c.modified_at)))
    return value


_COLUMNS = ("paper_id", "position", "bucket", "name_key", "name")
# Plain positional placeholders per DB-API paramstyle: a first catch-up inserts ~600k rows, and
# SQLAlchemy's per-row parameter processing took 15 of its 40 s (measured on 95k papers).
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _rows(paper_id: str, names: Iterable[Any]) -> Iterator[tuple[str, int, str, str, str]]:
    for position, raw in enumerate(names):
        if not isinstance(raw, str):
            continue
        name = parse_name(raw[:300])
        if name is not None:
            yield (paper_id, position, name.bucket[:128], name.key[:128], raw[:300])


def _insert_rows(conn: Connection, rows: list[tuple[str, int, str, str, str]]) -> None:
    mark = _MARKS.get(conn.dialect.paramstyle)
    if mark is None:  # pragma: no cover - neither SQLite nor psycopg
        conn.execute(insert(author_papers), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])
        return
    columns = ", ".join(_COLUMNS)
    marks = ", ".join([mark] * len(_COLUMNS))
    conn.exec_driver_sql(f"INSERT INTO author_papers ({columns}) VALUES ({marks})", rows)


def catch_up(conn: Connection, *, since: dt.datetime | None) -> int:
    """Index the names of the papers modified at or after `since` (None: every paper, the
    index emptied first); return how many papers were read. Ties are read again: harmless."""
    if since is None:
        conn.execute(delete(author_papers))
    query = select(papers.c.paper_id, papers.c.authors, papers.c.modified_at)
    if since is not None:
        query = query.where(papers.c.modified_at >= since)
    mark = since
    count = 0
    batch: list[tuple[str, Any]] = []

    def flush() -> None:
        ids = [paper_id for paper_id, _ in batch]
        if since is not None:
            for start in range(0, len(ids), 500):
                conn.execute(
                    delete(author_papers).where(
                        author_papers.c.paper_id.in_(ids[start : start + 500])
                    )
                )
        rows = [row for paper_id, names in batch for row in _rows(paper_id, names or ())]
        if rows:
            _insert_rows(conn, rows)
        batch.clear()

    for paper_id, names, modified in conn.execute(query).all():
        batch.append((paper_id, names))
        count += 1
        if mark is None or modified > mark:
            mark = modified
        if len(batch) >= _BATCH:
            flush()
    flush()
    if mark is not None:
        save_state(conn, source=_STATE[0], key=_STATE[1], value={"modified_at": mark.isoformat()})
    return count


@dataclass(frozen=True, slots=True)
class NameRow:
    """One name on one visible paper."""

    paper_id: str
    position: int
    name_key: str
    name: str


def bucket_rows(conn: Connection, bucket: str) -> list[NameRow]:
    """The names of one bucket on visible papers."""
    query = (
        select(
            author_papers.c.paper_id,
            author_papers.c.position,
            author_papers.c.name_key,
            author_papers.c.name,
        )
        .join(papers, papers.c.paper_id == author_papers.c.paper_id)
        .where(author_papers.c.bucket == bucket, papers.c.status == _ACTIVE)
    )
    return [NameRow(*row) for row in conn.execute(query)]


def names_of(conn: Connection, paper_ids: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """Each paper's indexed (position, name), in order."""
    wanted = list(dict.fromkeys(paper_ids))
    found: dict[str, list[tuple[int, str]]] = {}
    for start in range(0, len(wanted), 500):
        query = (
            select(author_papers.c.paper_id, author_papers.c.position, author_papers.c.name)
            .where(author_papers.c.paper_id.in_(wanted[start : start + 500]))
            .order_by(author_papers.c.paper_id, author_papers.c.position)
        )
        for paper_id, position, name in conn.execute(query):
            found.setdefault(paper_id, []).append((position, name))
    return found


@dataclass(frozen=True, slots=True)
class PaperFacts:
    """What an author page counts and orders by, for one visible paper."""

    paper_id: str
    day: dt.date | None
    categories: tuple[str, ...]


def paper_facts(conn: Connection, paper_ids: Iterable[str]) -> list[PaperFacts]:
    """Day (announced, else submitted) and categories of these papers, visible ones only."""
    wanted = list(dict.fromkeys(paper_ids))
    found: list[PaperFacts] = []
    for start in range(0, len(wanted), 500):
        query = select(
            papers.c.paper_id,
            papers.c.announced,
            papers.c.submitted,
            papers.c.categories,
            papers.c.status,
        ).where(papers.c.paper_id.in_(wanted[start : start + 500]))
        for row in conn.execute(query):
            if row.status != _ACTIVE:
                continue
            day = row.announced or (row.submitted.date() if row.submitted else None)
            found.append(PaperFacts(row.paper_id, day, tuple(row.categories or ())))
    return found


# Follows


def set_follow(conn: Connection, *, user_id: int, author_key: str, on: bool) -> bool:
    """Follow (on) or stop following an author key; True if anything changed."""
    where = (author_follows.c.user_id == user_id, author_follows.c.author_key == author_key)
    held = conn.execute(select(author_follows.c.user_id).where(*where)).first() is not None
    if held == on:
        return False
    if on:
        conn.execute(
            insert(author_follows).values(
                user_id=user_id, author_key=author_key, created_at=utc_now()
            )
        )
    else:
        conn.execute(delete(author_follows).where(*where))
    return True


def follows_of(conn: Connection, *, user_id: int) -> list[str]:
    """The author keys a member follows, oldest follow first."""
    query = (
        select(author_follows.c.author_key)
        .where(author_follows.c.user_id == user_id)
        .order_by(author_follows.c.created_at, author_follows.c.author_key)
    )
    return list(conn.scalars(query))


def follower_count(conn: Connection, *, author_key: str) -> int:
    query = select(func.count()).where(author_follows.c.author_key == author_key)
    return int(conn.scalar(query) or 0)


# Claims

PENDING = "pending"
APPROVED = "approved"
REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Claim:
    """A member's claim of an author key, with its state."""

    claim_id: int
    author_key: str
    user: User
    status: str
    note: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


def _claims_query() -> Any:
    return select(author_claims, *users.c).join(users, users.c.user_id == author_claims.c.user_id)


def _claim(row: Any) -> Claim:
    return Claim(
        row.claim_id,
        row.author_key,
        user_from_row(row),
        row.status,
        row.note,
        row.created_at,
        row.decided_at,
    )


def add_claim(conn: Connection, *, user_id: int, author_key: str, note: str | None) -> int:
    """Store a pending claim; return its id."""
    result = conn.execute(
        insert(author_claims).values(
            author_key=author_key,
            user_id=user_id,
            status=PENDING,
            note=note,
            created_at=utc_now(),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get_claim(conn: Connection, claim_id: int) -> Claim | None:
    row = conn.execute(_claims_query().where(author_claims.c.claim_id == claim_id)).first()
    return _claim(row) if row else None


def claims_of_key(conn: Connection, *, author_key: str) -> list[Claim]:
    """Every claim of one author key, oldest first."""
    query = _claims_query().where(author_claims.c.author_key == author_key)
    return [_claim(r) for r in conn.execute(query.order_by(author_claims.c.claim_id))]


def claims_of_user(conn: Connection, *, user_id: int) -> list[Claim]:
    """Every claim of one member, oldest first."""
    query = _claims_query().where(author_claims.c.user_id == user_id)
    return [_claim(r) for r in conn.execute(query.order_by(author_claims.c.claim_id))]


def pending_claims(conn: Connection) -> list[Claim]:
    """The claims waiting for a curator, oldest first."""
    query = _claims_query().where(author_claims.c.status == PENDING)
    return [_claim(r) for r in conn.execute(query.order_by(author_claims.c.claim_id))]


def decide_claim(conn: Connection, *, claim_id: int, status: str, curator_id: int) -> None:
    conn.execute(
        update(author_claims)
        .where(author_claims.c.claim_id == claim_id)
        .values(status=status, decided_at=utc_now(), decided_by=curator_id)
    )


def paper_claimants(conn: Connection, paper_id: str) -> set[int]:
    """Members whose approved claim names one of the paper's authors exactly (by name key, as
    the paper writes the name: the paper's own list, so a paper not yet in the name index
    counts too)."""
    authors = conn.scalar(select(papers.c.authors).where(papers.c.paper_id == paper_id))
    keys = {name.key for text in authors or () if (name := parse_name(text)) is not None}
    if not keys:
        return set()
    query = select(author_claims.c.user_id).where(
        author_claims.c.author_key.in_(sorted(keys)), author_claims.c.status == APPROVED
    )
    return {row.user_id for row in conn.execute(query)}
