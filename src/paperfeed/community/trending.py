"""Trending as one service: one window, one "now", one cache, for every face.

The trending page, the JSON API, the RSS/Atom feeds, the digest and `paperfeed trending` all ask
here. The list is scored by `paperfeed.trending` (docs/trending.md) over the votes that
`db.trending` reads, and kept until the store changes or the minute turns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.db import Database
from paperfeed.db.cache import cached, peek
from paperfeed.db.trending import (
    TrendingPaper,
    TrendingWindow,
    newest_vote,
    papers_for_scores,
    trending_scores,
    wall_minute,
    window_at,
)
from paperfeed.trending import WINDOWS, Window

__all__ = [
    "TrendingList",
    "cached_window",
    "current_window",
    "scored_papers",
    "trending",
    "window_named",
    "window_until",
]

_NEWEST_VOTE = ("newest-vote",)


def window_named(text: str | None) -> Window:
    """Read a window's name (day, week or month); none means the week. ValueError otherwise."""
    if text is None or text == "":
        return "week"
    if text in WINDOWS:
        return text
    raise ValueError("The window is one of day, week or month.")


def _newest_vote(db: Database) -> dt.datetime | None:
    def load() -> tuple[dt.datetime | None]:
        with db.read() as conn:
            return (newest_vote(conn),)

    return cached(db, _NEWEST_VOTE, load)[0]


def current_window(*, db: Database, window: Window) -> TrendingWindow:
    """The window's "now" (`db.trending.window_at`: the wall clock rounded up to the minute,
    or the newest vote when that is older than the window)."""
    return window_at(window, _newest_vote(db))


def cached_window(*, db: Database, window: Window) -> TrendingWindow | None:
    """`current_window` if it can be told without reading a table (the store is unchanged
    since it was last asked), else None: async routes call it on the event loop."""
    newest = peek(db, _NEWEST_VOTE)
    if newest is None:
        return None
    return window_at(window, newest[0])


def window_until(*, window: Window, until: dt.datetime) -> TrendingWindow:
    """The window of a list as of `until` (the end of a digest's period), never later than the
    web's wall-clock "now": today's digest ranks what the trending page shows when it is sent.

    Never anchored: a digest of a recent period must not list an archive's old votes.
    """
    return TrendingWindow(window, min(until, wall_minute()), anchored=False)


def scored_papers(*, db: Database, span: TrendingWindow) -> list[tuple[str, float, int]]:
    """(paper id, score, votes in the window) of the window, best first; cached until the
    store changes (the minute is part of the key)."""

    def load() -> list[tuple[str, float, int]]:
        with db.read() as conn:
            return trending_scores(conn, span)

    return cached(db, ("trending", span.window, span.now), load)


@dataclass(frozen=True, slots=True)
class TrendingList:
    """A page of a trending list: its window, how many papers are in it, and the page."""

    span: TrendingWindow
    total: int
    offset: int
    papers: list[TrendingPaper]


def trending(
    *,
    db: Database,
    window: Window,
    limit: int = 50,
    offset: int = 0,
    until: dt.datetime | None = None,
) -> TrendingList:
    """The papers trending in `window` now (or as of `until`, see `window_until`)."""
    if until is None:
        span = current_window(db=db, window=window)
    else:
        span = window_until(window=window, until=until)
    scored = scored_papers(db=db, span=span)
    with db.read() as conn:
        papers = papers_for_scores(conn, scored[offset : offset + limit])
    return TrendingList(span=span, total=len(scored), offset=offset, papers=papers)
