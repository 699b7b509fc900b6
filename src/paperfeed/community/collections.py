"""Collections: a reader's named lists of papers, private (found by nobody else) or public."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.community.papers import NoSuchPaper, active_paper
from paperfeed.db import collections as store
from paperfeed.db.collections import Collection, DuplicateName
from paperfeed.db.engine import Database
from paperfeed.db.papers import get_paper
from paperfeed.db.upvotes import CardStats, card_stats
from paperfeed.models import PaperRecord

__all__ = [
    "Collection",
    "CollectionPage",
    "DuplicateName",
    "NoSuchCollection",
    "collect",
    "collection_items",
    "collection_page",
    "create_collection",
    "delete_collection",
    "overview",
    "reader_collections",
    "update_collection",
    "visible_collection",
]


class NoSuchCollection(LookupError):
    """No such collection, or one the reader may not see or change (private ones stay hidden)."""


@dataclass(frozen=True, slots=True)
class CollectionPage:
    """A collection with its papers (newest first, each with when it was added) and their stats."""

    collection: Collection
    items: list[tuple[PaperRecord, dt.datetime]]
    stats: dict[str, CardStats]


def create_collection(
    *,
    db: Database,
    user_id: int,
    name: str,
    description: str = "",
    is_public: bool = False,
    paper_id: str = "",
) -> Collection:
    """Make a collection (holding `paper_id` if given); `DuplicateName` or `NoSuchPaper` change
    nothing."""
    with db.write() as conn:
        collection_id = store.create_collection(
            conn, user_id, name, description=description, is_public=is_public
        )
        if paper_id:
            if get_paper(conn, paper_id) is None:
                raise NoSuchPaper(paper_id)
            store.set_in_collection(conn, collection_id, user_id, paper_id, present=True)
        collection = store.get_collection(conn, collection_id)
    assert collection is not None
    return collection


def update_collection(
    *, db: Database, collection_id: int, user_id: int, name: str, description: str, is_public: bool
) -> None:
    """Rename or redescribe one's own collection; `NoSuchCollection` or `DuplicateName`."""
    with db.write() as conn:
        changed = store.update_collection(
            conn, collection_id, user_id, name=name, description=description, is_public=is_public
        )
    if not changed:
        raise NoSuchCollection(collection_id)


def delete_collection(*, db: Database, collection_id: int, user_id: int) -> None:
    """Delete one's own collection; `NoSuchCollection` otherwise."""
    with db.write() as conn:
        if not store.delete_collection(conn, collection_id, user_id):
            raise NoSuchCollection(collection_id)


def visible_collection(*, db: Database, collection_id: int, user_id: int | None) -> Collection:
    """The collection if it is public or the reader's own; `NoSuchCollection` otherwise."""
    with db.read() as conn:
        collection = store.get_collection(conn, collection_id)
    owner = user_id is not None and collection is not None and collection.user_id == user_id
    if collection is None or not (collection.is_public or owner):
        raise NoSuchCollection(collection_id)
    return collection


def collection_page(*, db: Database, collection_id: int, user_id: int | None) -> CollectionPage:
    """A visible collection with its papers and their card stats as the reader sees them."""
    collection = visible_collection(db=db, collection_id=collection_id, user_id=user_id)
    with db.read() as conn:
        items = store.collection_papers(conn, collection_id)
        stats = card_stats(conn, [p.paper_id for p, _ in items], user_id=user_id)
    return CollectionPage(collection, items, stats)


def reader_collections(*, db: Database, user_id: int) -> list[Collection]:
    """The reader's own collections, public and private, by name."""
    with db.read() as conn:
        return store.user_collections(conn, user_id)


def overview(*, db: Database, user_id: int | None) -> tuple[list[Collection], list[Collection]]:
    """The reader's collections (none when signed out) and the public ones, newest first."""
    with db.read() as conn:
        mine = store.user_collections(conn, user_id) if user_id is not None else []
        return mine, store.public_collections(conn)


def collect(
    *, db: Database, collection_id: int, user_id: int, paper_id: str, present: bool = True
) -> bool:
    """Put an active paper in one's own collection, or take it out; True if anything changed.

    Raises `NoSuchPaper`, then `NoSuchCollection` (not the reader's).
    """
    active_paper(db=db, paper_id=paper_id)
    with db.write() as conn:
        changed = store.set_in_collection(conn, collection_id, user_id, paper_id, present=present)
    if changed is None:
        raise NoSuchCollection(collection_id)
    return changed


def collection_items(
    *, db: Database, collection_id: int, limit: int | None = None
) -> list[tuple[PaperRecord, dt.datetime]]:
    """A collection's visible papers, newest additions first (the first `limit` of them)."""
    with db.read() as conn:
        return store.collection_papers(conn, collection_id)[:limit]
