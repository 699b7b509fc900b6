"""Collections in the store: a reader's named lists of papers, private or public."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.db.papers import paper_from_row
from paperfeed.db.schema import (
    collection_items,
    collection_notes,
    collections,
    papers,
    users,
    utc_now,
)
from paperfeed.db.users import public_name
from paperfeed.models import PaperRecord, PaperStatus


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
    return select(collections, users.c.handle, users.c.display_name, size.label("size")).join(
        users, users.c.user_id == collections.c.user_id
    )


def _collection(r: Any) -> Collection:
    return Collection(
        r.collection_id,
        r.user_id,
        r.display_name or public_name(r.handle, r.user_id),
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
    now = utc_now()
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
                .values(
                    name=name, description=description, is_public=is_public, updated_at=utc_now()
                )
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
                collection_id=collection_id, paper_id=paper_id, added_at=utc_now()
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
            .values(updated_at=utc_now())
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
    return [(paper_from_row(r), r.added_at) for r in conn.execute(query)]


# Reading-group notes: the owner's note and read state per item (collection_notes, m015).


@dataclass(frozen=True, slots=True)
class ItemNote:
    """The owner's note on one collection item and when they marked it read (None: unread)."""

    note: str = ""
    read_at: dt.datetime | None = None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


def item_notes(conn: Connection, collection_id: int) -> dict[str, ItemNote]:
    """The notes and read marks of a collection's items, by paper id (items without: absent)."""
    rows = conn.execute(
        select(
            collection_notes.c.paper_id, collection_notes.c.note, collection_notes.c.read_at
        ).where(collection_notes.c.collection_id == collection_id)
    )
    return {r.paper_id: ItemNote(r.note, r.read_at) for r in rows}


def _owned_item(conn: Connection, collection_id: int, user_id: int, paper_id: str) -> bool | None:
    """None if the collection is not the user's, False if the paper is not in it."""
    owner = conn.scalar(
        select(collections.c.user_id).where(collections.c.collection_id == collection_id)
    )
    if owner != user_id:
        return None
    held = conn.scalar(
        select(func.count())
        .select_from(collection_items)
        .where(
            collection_items.c.collection_id == collection_id,
            collection_items.c.paper_id == paper_id,
        )
    )
    return bool(held)


def update_item_note(
    conn: Connection,
    collection_id: int,
    user_id: int,
    paper_id: str,
    *,
    note: str | None = None,
    read: bool | None = None,
) -> ItemNote | None:
    """Set the note and/or the read mark of one item of the user's collection (None leaves a
    part as it is); marking an already read item read keeps its first `read_at`.

    Returns the item's note, or None if the collection is not the user's or lacks the paper.
    """
    if not _owned_item(conn, collection_id, user_id, paper_id):
        return None
    key = (
        collection_notes.c.collection_id == collection_id,
        collection_notes.c.paper_id == paper_id,
    )
    row = conn.execute(
        select(collection_notes.c.note, collection_notes.c.read_at).where(*key)
    ).first()
    now = utc_now()
    current = ItemNote(row.note, row.read_at) if row else ItemNote()
    new_note = current.note if note is None else note
    read_at = current.read_at
    if read is not None:
        read_at = (current.read_at or now) if read else None
    if row is None:
        conn.execute(
            insert(collection_notes).values(
                collection_id=collection_id,
                paper_id=paper_id,
                note=new_note,
                read_at=read_at,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            update(collection_notes)
            .where(*key)
            .values(note=new_note, read_at=read_at, updated_at=now)
        )
    return ItemNote(new_note, read_at)
