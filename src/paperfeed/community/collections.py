"""Collections: a reader's named lists of papers, private (found by nobody else) or public."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from paperfeed.community import limits
from paperfeed.community.papers import NoSuchPaper, active_paper
from paperfeed.db import collections as store
from paperfeed.db.collections import Collection, DuplicateName, ItemNote
from paperfeed.db.engine import Database
from paperfeed.db.papers import get_paper
from paperfeed.db.upvotes import CardStats, card_stats
from paperfeed.models import PaperRecord

__all__ = [
    "MAX_NOTE_CHARS",
    "Collection",
    "CollectionPage",
    "DuplicateName",
    "ItemNote",
    "NoSuchCollection",
    "NotInCollection",
    "NoteRefused",
    "annotate",
    "clean_note",
    "collect",
    "collection_items",
    "collection_page",
    "create_collection",
    "delete_collection",
    "overview",
    "reader_collections",
    "reading_list",
    "update_collection",
    "visible_collection",
]


MAX_NOTE_CHARS = 4000


class NoSuchCollection(LookupError):
    """No such collection, or one the reader may not see or change (private ones stay hidden)."""


class NotInCollection(LookupError):
    """The paper is not in that collection."""


class NoteRefused(ValueError):
    """A note the hub does not keep (too long); the message says why."""


@dataclass(frozen=True, slots=True)
class CollectionPage:
    """A collection with its papers (newest first, each with when it was added), their stats
    and notes by paper id; read marks only for the owner (others see notes alone)."""

    collection: Collection
    items: list[tuple[PaperRecord, dt.datetime]]
    stats: dict[str, CardStats]
    notes: dict[str, ItemNote] = field(default_factory=dict)

    @property
    def unread(self) -> int:
        """How many of the items are not marked read."""
        return sum(1 for p, _ in self.items if not self.notes.get(p.paper_id, ItemNote()).is_read)


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
        notes = store.item_notes(conn, collection_id)
    if collection.user_id != user_id:
        # The read marks are the owner's own; others see the notes of a public collection.
        notes = {paper_id: ItemNote(n.note) for paper_id, n in notes.items() if n.note}
    return CollectionPage(collection, items, stats, notes)


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


def clean_note(text: str) -> str:
    """A note as kept: plain text, line ends made \\n, outer blank space dropped;
    `NoteRefused` when it is longer than MAX_NOTE_CHARS."""
    note = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise NoteRefused(f"A note holds at most {MAX_NOTE_CHARS} characters.")
    return note


def annotate(
    *,
    db: Database,
    collection_id: int,
    user_id: int,
    paper_id: str,
    note: str | None = None,
    read: bool | None = None,
) -> ItemNote:
    """Set the owner's note (counted against `limits.NOTE_PER_USER`) and/or read mark on one
    item of their collection; None leaves that part as it is.

    Raises `NoteRefused`, `RateLimited`, `NoSuchCollection` (not the reader's) or
    `NotInCollection`; none of them changes anything.
    """
    text = clean_note(note) if note is not None else None
    with db.read() as conn:
        collection = store.get_collection(conn, collection_id)
    if collection is None or collection.user_id != user_id:
        raise NoSuchCollection(collection_id)
    if text is not None:
        limits.hit(db=db, limit=limits.NOTE_PER_USER, who=str(user_id))
    with db.write() as conn:
        saved = store.update_item_note(conn, collection_id, user_id, paper_id, note=text, read=read)
    if saved is None:
        raise NotInCollection(paper_id)
    return saved


def reading_list(
    *, db: Database, collection_id: int, limit: int | None = None
) -> tuple[Collection, list[tuple[PaperRecord, dt.datetime, str]]]:
    """A public collection and its papers, newest additions first, each with the owner's note
    (the first `limit` of them); `NoSuchCollection` for a private one."""
    collection = visible_collection(db=db, collection_id=collection_id, user_id=None)
    with db.read() as conn:
        items = store.collection_papers(conn, collection_id)[:limit]
        notes = store.item_notes(conn, collection_id)
    return collection, [
        (paper, added, notes.get(paper.paper_id, ItemNote()).note) for paper, added in items
    ]
