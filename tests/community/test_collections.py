"""community/collections.py: private and public collections of papers."""

from __future__ import annotations

import pytest

from paperfeed.community import collections
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
