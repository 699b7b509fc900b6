"""Community fixtures: a migrated SQLite store in tmp_path holding one active paper."""

from __future__ import annotations

import pytest

from paperfeed.db import Database
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import User, get_or_create_user
from paperfeed.models import PaperRecord

PAPER = "2603.90001"


@pytest.fixture
def paper(db: Database) -> str:
    """The id of one active paper in the store."""
    record = PaperRecord(
        paper_id=PAPER,
        title="Community Test Paper",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
    )
    with db.write() as conn:
        upsert_papers(conn, [record])
    return PAPER


@pytest.fixture
def ada(db: Database) -> User:
    with db.write() as conn:
        return get_or_create_user(conn, "ada@example.org")


@pytest.fixture
def bob(db: Database) -> User:
    with db.write() as conn:
        return get_or_create_user(conn, "bob@example.org")
