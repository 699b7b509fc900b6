"""Upvotes: a reader's one vote per paper, and the numbers each paper card shows."""

from __future__ import annotations

from collections.abc import Sequence

from paperfeed.community.papers import active_paper
from paperfeed.db import upvotes as store
from paperfeed.db.engine import Database
from paperfeed.db.upvotes import CardStats

__all__ = ["CardStats", "card_stats", "upvote"]


def upvote(*, db: Database, user_id: int, paper_id: str, on: bool = True) -> CardStats:
    """Cast (on) or withdraw the reader's upvote (idempotent); return the paper's stats after.

    Raises `NoSuchPaper` unless the paper is active.
    """
    active_paper(db=db, paper_id=paper_id)
    with db.write() as conn:
        store.set_upvote(conn, user_id, paper_id, on=on)
        return store.card_stats(conn, [paper_id], user_id=user_id)[paper_id]


def card_stats(
    *, db: Database, paper_ids: Sequence[str], user_id: int | None
) -> dict[str, CardStats]:
    """Upvotes, comments and the reader's own vote for each paper id (zeros for unknown ones)."""
    if not paper_ids:
        return {}
    with db.read() as conn:
        return store.card_stats(conn, paper_ids, user_id=user_id)
