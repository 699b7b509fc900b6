"""community/upvotes.py: one upvote per reader per paper, and card stats."""

from __future__ import annotations

import pytest

from paperfeed.community.papers import NoSuchPaper
from paperfeed.community.upvotes import card_stats, upvote
from paperfeed.db import Database
from paperfeed.db.users import User


def test_an_upvote_counts_once_and_can_be_withdrawn(db: Database, paper: str, ada: User) -> None:
    first = upvote(db=db, user_id=ada.user_id, paper_id=paper)
    second = upvote(db=db, user_id=ada.user_id, paper_id=paper)
    assert first == second and first.upvotes == 1 and first.upvoted
    stats = card_stats(db=db, paper_ids=[paper, "0000.00000"], user_id=None)
    assert stats[paper].upvotes == 1 and not stats[paper].upvoted
    assert stats["0000.00000"].upvotes == 0
    after = upvote(db=db, user_id=ada.user_id, paper_id=paper, on=False)
    assert after.upvotes == 0 and not after.upvoted
    assert card_stats(db=db, paper_ids=[], user_id=None) == {}


def test_an_unknown_paper_cannot_be_upvoted(db: Database, ada: User) -> None:
    with pytest.raises(NoSuchPaper):
        upvote(db=db, user_id=ada.user_id, paper_id="2401.99999")
