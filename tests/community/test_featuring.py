"""community/featuring.py: curators feature papers on any day."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.community.featuring import feature_paper, unfeature_paper
from paperfeed.community.papers import NoSuchPaper
from paperfeed.db import Database
from paperfeed.db.feed import days_featured
from paperfeed.db.users import User

DAY = dt.date(2026, 3, 20)


def test_a_paper_is_featured_once_per_day_and_taken_off(
    db: Database, paper: str, ada: User
) -> None:
    assert feature_paper(db=db, paper_id=paper, day=DAY, user_id=ada.user_id)
    assert not feature_paper(db=db, paper_id=paper, day=DAY, user_id=ada.user_id)
    with db.read() as conn:
        assert DAY in days_featured(conn, paper)
    assert unfeature_paper(db=db, paper_id=paper, day=DAY)
    assert not unfeature_paper(db=db, paper_id=paper, day=DAY)
    with pytest.raises(NoSuchPaper):
        feature_paper(db=db, paper_id="2401.99999", day=DAY, user_id=ada.user_id)
