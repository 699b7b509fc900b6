"""Trending as one service: one window, one "now", one cache, for every face.

The trending page, the JSON API, the RSS/Atom feeds, the digest and `paperfeed trending` all ask
here. The list is scored by `paperfeed.trending` (docs/trending.md) over the votes that
`db.trending` reads, and kept until the store changes or the minute turns. A live list shorter
than `TOP_UP_TO` goes on with earlier windows' lists (`db.trending.topped_up_scores`); a
digest's list does not (an archive's old votes never make a recent digest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.db import Database
from paperfeed.db.cache import cached, peek
from paperfeed.db.trending import (
    TrendingPaper,
    TrendingScores,
    TrendingWindow,
    newest_vote,
    papers_for_scores,
    topped_up_scores,
    trending_scores,
    wall_minute,
    window_at,
)
from paperfeed.trending import TOP_UP_TO, WINDOWS, Window

__all__ = [
    "TrendingList",
    "cached_window",
    "current_window",
    "scored_papers",
    "trending",
    "window_named",
    "window_scores",
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


def window_scores(*, db: Database, span: TrendingWindow, top_up: bool = True) -> TrendingScores:
    """The window's list, topped up to `TOP_UP_TO` papers from earlier windows unless `top_up`
    is False; cached until the store changes (the minute is part of the key)."""

    def load() -> TrendingScores:
        with db.read() as conn:
            if top_up:
                return topped_up_scores(conn, span, at_least=TOP_UP_TO)
            scored = trending_scores(conn, span)
            return TrendingScores(scored, len(scored))

    return cached(db, ("trending", span.window, span.now, top_up), load)


def scored_papers(
    *, db: Database, span: TrendingWindow, top_up: bool = True
) -> list[tuple[str, float, int]]:
    """(paper id, score, votes in its window) of the list (`window_scores`), best first."""
    return window_scores(db=db, span=span, top_up=top_up).scored


@dataclass(frozen=True, slots=True)
class TrendingList:
    """A page of a trending list: its window, how many papers are in it, and the page.

    The first `own` papers of the whole list are the window's; the rest top it up from
    earlier windows, the first of which ends at `earlier`.
    """

    span: TrendingWindow
    total: int
    offset: int
    papers: list[TrendingPaper]
    own: int = 0
    earlier: dt.datetime | None = None


def trending(
    *,
    db: Database,
    window: Window,
    limit: int = 50,
    offset: int = 0,
    until: dt.datetime | None = None,
) -> TrendingList:
    """The papers trending in `window` now, topped up from earlier windows (or as of `until`,
    see `window_until`, and not topped up)."""
    if until is None:
        span = current_window(db=db, window=window)
    else:
        span = window_until(window=window, until=until)
    listed = window_scores(db=db, span=span, top_up=until is None)
    scored = listed.scored
    with db.read() as conn:
        papers = papers_for_scores(conn, scored[offset : offset + limit])
    return TrendingList(
        span=span,
        total=len(scored),
        offset=offset,
        papers=papers,
        own=listed.own,
        earlier=listed.earlier,
    )
