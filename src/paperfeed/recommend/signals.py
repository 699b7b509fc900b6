"""A reader's card signals and the private For you feed's token: the use cases over
`db.reader_signals`, one transaction each."""

from __future__ import annotations

import datetime as dt

from paperfeed.community.authors import has_follows
from paperfeed.db import Database
from paperfeed.db import reader_signals as store
from paperfeed.db.library import has_library
from paperfeed.db.papers import get_paper
from paperfeed.db.reader_signals import SIGNAL_KINDS, SignalKind
from paperfeed.db.reader_topics import has_topics
from paperfeed.db.users import User


class NoSuchPaper(LookupError):
    """No paper has that id."""


def parse_signal(text: str) -> SignalKind | None:
    """ "more" or "less" as given, "none" (or "") to forget; ValueError otherwise."""
    if text in ("", "none"):
        return None
    for kind in SIGNAL_KINDS:
        if text == kind:
            return kind
    raise ValueError(f"a signal is more, less or none, not {text!r}")


def record_signal(*, db: Database, user_id: int, paper_id: str, kind: SignalKind | None) -> bool:
    """Say "more like this" (more), "not interested" (less) or nothing (None) about a paper."""
    with db.write() as conn:
        if get_paper(conn, paper_id) is None:
            raise NoSuchPaper(paper_id)
        return store.set_signal(conn, user_id=user_id, paper_id=paper_id, kind=kind)


def card_signals(*, db: Database, user_id: int, paper_ids: list[str]) -> dict[str, SignalKind]:
    with db.read() as conn:
        return store.signals_of(conn, user_id=user_id, paper_ids=paper_ids)


def has_signals(*, db: Database, user_id: int) -> bool:
    """Whether For you has anything to learn from (a positive signal of the reader's, an
    imported library with an entry that counts, a chosen category or saved search, or a
    followed author)."""
    with db.read() as conn:
        if (
            store.has_evidence(conn, user_id=user_id)
            or has_library(conn, user_id=user_id)
            or has_topics(conn, user_id=user_id)
        ):
            return True
    return has_follows(db=db, user_id=user_id)


def new_feed_token(*, db: Database, user_id: int) -> str:
    """A new private feed token; any earlier one stops working."""
    with db.write() as conn:
        return store.new_feed_token(conn, user_id=user_id)


def revoke_feed_token(*, db: Database, user_id: int) -> bool:
    with db.write() as conn:
        return store.revoke_feed_token(conn, user_id=user_id)


def feed_token_made(*, db: Database, user_id: int) -> dt.datetime | None:
    with db.read() as conn:
        return store.feed_token_made(conn, user_id=user_id)


def feed_token_user(*, db: Database, token: str) -> User | None:
    """The reader a private feed token belongs to, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    with db.write() as conn:
        return store.feed_token_user(conn, token)
