"""community/collections.py: private and public collections of papers."""

from __future__ import annotations

import pytest

from paperfeed.community import collections, limits
from paperfeed.community.papers import NoSuchPaper
from paperfeed.db import Database
from paperfeed.db.users import User


def test_a_private_collection_is_found_by_its_owner_only(
    db: Database, paper: str, ada: User, bob: User
) -> None:
    made = collections.create_collection(db=db, user_id=ada.user_id, name="Reading", paper_id=paper)
    assert made.size == 1 and not made.is_public
    page = collections.collection_page(db=db, collection_id=made.collection_id, user_id=ada.user_id)
    assert [p.paper_id for p, _ in page.items] == [paper] and page.stats[paper].upvotes == 0
    for stranger in (bob.user_id, None):
        with pytest.raises(collections.NoSuchCollection):
            collections.visible_collection(
                db=db, collection_id=made.collection_id, user_id=stranger
            )
    collections.update_collection(
        db=db,
        collection_id=made.collection_id,
        user_id=ada.user_id,
        name="Reading",
        description="",
        is_public=True,
    )
    assert collections.visible_collection(db=db, collection_id=made.collection_id, user_id=None)
    mine, public = collections.overview(db=db, user_id=ada.user_id)
    assert [c.name for c in mine] == [c.name for c in public] == ["Reading"]
    assert collections.collection_items(db=db, collection_id=made.collection_id, limit=1)


def test_only_the_owner_changes_a_collection(
    db: Database, paper: str, ada: User, bob: User
) -> None:
    made = collections.create_collection(db=db, user_id=ada.user_id, name="Mine")
    with pytest.raises(collections.NoSuchCollection):
        collections.collect(
            db=db, collection_id=made.collection_id, user_id=bob.user_id, paper_id=paper
        )
    with pytest.raises(collections.NoSuchCollection):
        collections.delete_collection(db=db, collection_id=made.collection_id, user_id=bob.user_id)
    assert collections.collect(
        db=db, collection_id=made.collection_id, user_id=ada.user_id, paper_id=paper
    )
    assert not collections.collect(
        db=db, collection_id=made.collection_id, user_id=ada.user_id, paper_id=paper
    )
    collections.delete_collection(db=db, collection_id=made.collection_id, user_id=ada.user_id)
    assert collections.reader_collections(db=db, user_id=ada.user_id) == []


def test_a_duplicate_name_or_a_missing_paper_makes_nothing(db: Database, ada: User) -> None:
    collections.create_collection(db=db, user_id=ada.user_id, name="Once")
    with pytest.raises(collections.DuplicateName):
        collections.create_collection(db=db, user_id=ada.user_id, name="Once")
    with pytest.raises(NoSuchPaper):
        collections.create_collection(
            db=db, user_id=ada.user_id, name="Twice", paper_id="2401.99999"
        )
    assert [c.name for c in collections.reader_collections(db=db, user_id=ada.user_id)] == ["Once"]


def test_notes_and_read_marks_are_the_owners(
    db: Database, ada: User, bob: User, paper: str
) -> None:
    made = collections.create_collection(db=db, user_id=ada.user_id, name="Group", paper_id=paper)
    cid = made.collection_id
    page = collections.collection_page(db=db, collection_id=cid, user_id=ada.user_id)
    assert page.notes == {} and page.unread == 1
    saved = collections.annotate(
        db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper, note="  Read §3\r\nfirst "
    )
    assert saved.note == "Read §3\nfirst" and not saved.is_read
    first = collections.annotate(
        db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper, read=True
    )
    again = collections.annotate(
        db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper, read=True
    )
    assert first.read_at is not None and again.read_at == first.read_at  # the first read stays
    assert again.note == "Read §3\nfirst"  # a read mark leaves the note alone
    page = collections.collection_page(db=db, collection_id=cid, user_id=ada.user_id)
    assert page.unread == 0 and page.notes[paper].is_read
    # Nobody else writes on it, nor on a paper the collection lacks.
    with pytest.raises(collections.NoSuchCollection):
        collections.annotate(
            db=db, collection_id=cid, user_id=bob.user_id, paper_id=paper, note="x"
        )
    with pytest.raises(collections.NotInCollection):
        collections.annotate(
            db=db, collection_id=cid, user_id=ada.user_id, paper_id="2603.00000", read=True
        )
    with pytest.raises(collections.NoteRefused):
        collections.annotate(
            db=db,
            collection_id=cid,
            user_id=ada.user_id,
            paper_id=paper,
            note="x" * (collections.MAX_NOTE_CHARS + 1),
        )
    # Private: others find nothing. Public: they see the note, never the read mark.
    with pytest.raises(collections.NoSuchCollection):
        collections.collection_page(db=db, collection_id=cid, user_id=bob.user_id)
    collections.update_collection(
        db=db, collection_id=cid, user_id=ada.user_id, name="Group", description="", is_public=True
    )
    seen = collections.collection_page(db=db, collection_id=cid, user_id=bob.user_id)
    assert seen.notes[paper].note == "Read §3\nfirst" and not seen.notes[paper].is_read
    _, items = collections.reading_list(db=db, collection_id=cid)
    assert [(p.paper_id, note) for p, _, note in items] == [(paper, "Read §3\nfirst")]
    collections.annotate(db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper, read=False)
    page = collections.collection_page(db=db, collection_id=cid, user_id=ada.user_id)
    assert page.unread == 1 and page.notes[paper].note
    # Taking the paper out drops its note: putting it back starts blank.
    collections.collect(
        db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper, present=False
    )
    collections.collect(db=db, collection_id=cid, user_id=ada.user_id, paper_id=paper)
    page = collections.collection_page(db=db, collection_id=cid, user_id=ada.user_id)
    assert page.notes == {}


def test_notes_are_rate_limited(db: Database, ada: User, paper: str) -> None:
    made = collections.create_collection(db=db, user_id=ada.user_id, name="Busy", paper_id=paper)
    for n in range(limits.NOTE_PER_USER.limit):
        collections.annotate(
            db=db,
            collection_id=made.collection_id,
            user_id=ada.user_id,
            paper_id=paper,
            note=f"{n}",
        )
    with pytest.raises(limits.RateLimited):
        collections.annotate(
            db=db, collection_id=made.collection_id, user_id=ada.user_id, paper_id=paper, note="no"
        )
    # Read marks are not notes: they still work.
    assert collections.annotate(
        db=db, collection_id=made.collection_id, user_id=ada.user_id, paper_id=paper, read=True
    ).is_read
    page = collections.collection_page(db=db, collection_id=made.collection_id, user_id=ada.user_id)
    assert page.notes[paper].note == str(limits.NOTE_PER_USER.limit - 1)
