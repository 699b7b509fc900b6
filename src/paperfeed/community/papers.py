"""The papers community actions point at (only active ones can be upvoted, commented,
collected or featured), and what a paper's page shows of the community."""

from __future__ import annotations

from dataclasses import dataclass

from paperfeed.community.threads import ThreadEntry, comment_thread
from paperfeed.db.collections import Collection, collections_holding, user_collections
from paperfeed.db.comments import Comment, thread_comments
from paperfeed.db.engine import Database
from paperfeed.db.papers import get_paper
from paperfeed.db.upvotes import CardStats, card_stats
from paperfeed.db.users import Role, User
from paperfeed.models import PaperRecord, PaperStatus


class NoSuchPaper(LookupError):
    """The hub has no visible paper with that id."""


def active_paper(*, db: Database, paper_id: str) -> PaperRecord:
    """The paper if it is in the hub and active; `NoSuchPaper` otherwise."""
    with db.read() as conn:
        stored = get_paper(conn, paper_id)
    if stored is None or stored.record.status is not PaperStatus.ACTIVE:
        raise NoSuchPaper(paper_id)
    return stored.record


@dataclass(frozen=True, slots=True)
class PaperCommunity:
    """What a paper's page shows of the community, as one reader (or nobody) sees it."""

    stats: CardStats
    comments: list[Comment]  # oldest first; hidden ones only for curators
    thread: list[ThreadEntry]  # the same as a thread, with placeholders where replies need one
    moderator: bool
    my_collections: list[Collection]
    in_collections: set[int]


def paper_community(*, db: Database, paper_id: str, user: User | None) -> PaperCommunity:
    """Votes, comments (hidden ones for curators; as a thread too) and the reader's
    collections for one paper."""
    moderator = user is not None and user.can(Role.CURATOR)
    with db.read() as conn:
        stats = card_stats(conn, [paper_id], user_id=user.user_id if user else None)[paper_id]
        every = thread_comments(conn, paper_id)
        return PaperCommunity(
            stats=stats,
            comments=[c for c in every if not c.deleted and (moderator or not c.hidden)],
            thread=comment_thread(every, moderator=moderator),
            moderator=moderator,
            my_collections=user_collections(conn, user.user_id) if user else [],
            in_collections=collections_holding(conn, user.user_id, paper_id) if user else set(),
        )
