"""Featuring: curators put a paper on any day's feed (or take it off); submissions land today.

Also the demo marker (`db.demo`): while the store is the bundled demo, the pages say so and
home stays on the demo's day.
"""

from __future__ import annotations

import datetime as dt

from paperfeed.community.papers import active_paper
from paperfeed.db import demo
from paperfeed.db.announcements import clear_veto, veto_feature
from paperfeed.db.cache import cached
from paperfeed.db.engine import Database
from paperfeed.db.feed import feature_paper as store_feature
from paperfeed.db.feed import latest_feed_day
from paperfeed.db.feed import unfeature_paper as store_unfeature


def today() -> dt.date:
    """The day submissions are featured on (UTC, like arXiv's announcements)."""
    return dt.datetime.now(dt.UTC).date()


def feature_paper(
    *, db: Database, paper_id: str, day: dt.date, user_id: int, source: str = "curator"
) -> bool:
    """Feature an active paper on `day`; False if it already is. `NoSuchPaper` otherwise."""
    active_paper(db=db, paper_id=paper_id)
    with db.write() as conn:
        clear_veto(conn, paper_id=paper_id, day=day)
        return store_feature(conn, paper_id, day, user_id=user_id, source=source)


def unfeature_paper(
    *, db: Database, paper_id: str, day: dt.date, user_id: int | None = None
) -> bool:
    """Take an active paper off `day`'s feed; False if it was not on it.

    The unfeature is remembered, so the worker's feature policy never puts the paper back.
    """
    active_paper(db=db, paper_id=paper_id)
    with db.write() as conn:
        veto_feature(conn, paper_id=paper_id, day=day, user_id=user_id)
        return store_unfeature(conn, paper_id, day)


def start_demo(*, db: Database) -> dt.date | None:
    """Mark the store as the demo, as of its latest featured day; return that day (None, and
    no mark, when nothing is featured)."""
    with db.write() as conn:
        as_of = latest_feed_day(conn)
        if as_of is not None:
            demo.mark_demo(conn, as_of=as_of)
        return as_of


def end_demo(*, db: Database) -> bool:
    """Stop treating the store as the demo (its papers stay); False if it was not."""
    with db.write() as conn:
        return demo.end_demo(conn)


def demo_as_of(*, db: Database) -> dt.date | None:
    """The demo's "as of" day while the store is the demo, else None; cached until the store
    changes, as every page asks."""

    def load() -> tuple[dt.date | None]:
        with db.read() as conn:
            return (demo.demo_as_of(conn),)

    return cached(db, ("demo-as-of",), load)[0]
