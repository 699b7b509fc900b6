"""Trending papers from the store: the votes of a window, scored by `paperfeed.trending`.

The faces (page, API, feeds, digest, CLI) ask the service `community.trending`, which caches
these reads; the window's "now" has one rule, `window_at`, for both.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from paperfeed.db.feed import upvote_total
from paperfeed.db.papers import paper_from_row
from paperfeed.db.schema import feed_entries, papers, upvotes
from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.trending import (
    FORMULA_VERSION,
    Window,
    anchored_now,
    imported_vote_time,
    trending_score,
    window_start,
)


@dataclass(frozen=True, slots=True)
class TrendingPaper:
    """One paper of a trending list.

    `upvotes` is the paper's total (imported + readers', as its card shows it); `window_upvotes`
    the votes that fell inside the window and made up `score`.
    """

    paper: PaperRecord
    score: float
    upvotes: int
    window_upvotes: int = 0


@dataclass(frozen=True, slots=True)
class TrendingWindow:
    """The moment a trending list is computed at, and whether it was moved to the newest vote."""

    window: Window
    now: dt.datetime
    anchored: bool
    formula_version: str = FORMULA_VERSION

    @property
    def start(self) -> dt.datetime:
        return window_start(self.now, self.window)


def wall_minute() -> dt.datetime:
    """The wall clock (naive UTC) rounded up to the minute: a minute's requests share one list,
    and rounding up keeps the current minute's votes in."""
    wall = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    return wall + dt.timedelta(minutes=1)


def window_at(window: Window, newest: dt.datetime | None) -> TrendingWindow:
    """The window's "now": `wall_minute`, or the newest vote when that is older than the
    window (`paperfeed.trending.anchored_now`)."""
    moment, anchored = anchored_now(wall_minute(), newest, window)
    return TrendingWindow(window, moment, anchored)


def newest_vote(conn: Connection, *, until: dt.datetime | None = None) -> dt.datetime | None:
    """The time of the newest vote (cast at or before `until`, if given): a reader's upvote,
    or an imported count's featured day."""
    readers = select(func.max(upvotes.c.created_at))
    imported = select(func.max(feed_entries.c.day)).where(feed_entries.c.upvotes > 0)
    if until is not None:
        # An imported count is cast at 00:00 of its day: at or before `until` on its date.
        readers = readers.where(upvotes.c.created_at <= until)
        imported = imported.where(feed_entries.c.day <= until.date())
    reader = conn.scalar(readers)
    day = conn.scalar(imported)
    times = [t for t in (reader, imported_vote_time(day) if day else None) if t is not None]
    return max(times) if times else None


def trending_window(
    conn: Connection, window: Window, *, now: dt.datetime | None = None
) -> TrendingWindow:
    """The window's "now": `now` if given, else `window_at` the newest vote."""
    if now is not None:
        return TrendingWindow(window, _naive_utc(now), anchored=False)
    return window_at(window, newest_vote(conn))


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def trending_scores(conn: Connection, span: TrendingWindow) -> list[tuple[str, float, int]]:
    """(paper id, score, votes in the window) of every visible paper with a vote in it, best first.

    Ties go to more votes in the window, then to the newer id.
    """
    start, now = span.start, span.now
    votes: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    # Imported counts: the highest count of a paper's feed entries, cast on its first featured
    # day (so a paper featured twice is not counted twice).
    first_day = func.min(feed_entries.c.day)
    imported = (
        select(
            feed_entries.c.paper_id,
            first_day.label("first_day"),
            func.max(feed_entries.c.upvotes).label("n"),
        )
        # Only papers featured inside the window can have their first featured day there;
        # asking for them first lets SQLite use the day index instead of grouping every entry.
        .where(
            feed_entries.c.paper_id.in_(
                select(feed_entries.c.paper_id).where(
                    feed_entries.c.day >= start.date(), feed_entries.c.day <= now.date()
                )
            )
        )
        .group_by(feed_entries.c.paper_id)
        .having(func.max(feed_entries.c.upvotes) > 0)
        .having(first_day >= start.date(), first_day <= now.date())
    )
    for row in conn.execute(imported):
        votes[row.paper_id].append((imported_vote_time(row.first_day), row.n))
    readers = select(upvotes.c.paper_id, upvotes.c.created_at).where(
        upvotes.c.created_at > start, upvotes.c.created_at <= now
    )
    for vote in conn.execute(readers):
        votes[vote.paper_id].append((vote.created_at, 1))
    visible = _visible(conn, list(votes))
    scored = []
    for paper_id, cast in votes.items():
        if paper_id not in visible:
            continue
        score = trending_score(cast, now=now, window=span.window)
        counted = sum(n for when, n in cast if start < when <= now)
        if score > 0:
            scored.append((paper_id, score, counted))
    scored.sort(key=lambda s: s[0], reverse=True)  # stable: the last tie-break first
    scored.sort(key=lambda s: (-s[1], -s[2]))
    return scored


@dataclass(frozen=True, slots=True)
class TrendingScores:
    """A window's list as (paper id, score, votes in its window), topped up from earlier windows.

    `scored[:own]` are the window's own papers; the rest come from the windows that end at
    the newest earlier votes, the first of which ends at `earlier` (None: no top-up). Each
    paper keeps the score and votes of the window it was listed in.
    """

    scored: list[tuple[str, float, int]]
    own: int
    earlier: dt.datetime | None = None


# How many earlier windows a top-up looks at, at most (each is one scoring query).
MAX_EARLIER_WINDOWS = 60


def topped_up_scores(conn: Connection, span: TrendingWindow, *, at_least: int) -> TrendingScores:
    """The window's `trending_scores`, and, while fewer than `at_least` papers are listed, the
    papers of the window that ends at the newest vote before this one opens, then the one
    before that, and so on (each paper once, in its first list's order; docs/trending.md)."""
    scored = trending_scores(conn, span)
    own = len(scored)
    listed = {paper_id for paper_id, _, _ in scored}
    earlier: dt.datetime | None = None
    opens = span.start
    for _ in range(MAX_EARLIER_WINDOWS):
        if len(scored) >= at_least:
            break
        moment = newest_vote(conn, until=opens)  # a vote at `opens` is outside this window
        if moment is None:
            break
        step = TrendingWindow(span.window, moment, anchored=True)
        earlier = earlier or moment
        for entry in trending_scores(conn, step):
            if entry[0] not in listed:
                listed.add(entry[0])
                scored.append(entry)
        opens = step.start
    return TrendingScores(scored, own, earlier)


def _visible(conn: Connection, paper_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        query = select(papers.c.paper_id).where(
            papers.c.paper_id.in_(chunk), papers.c.status == PaperStatus.ACTIVE.value
        )
        found.update(conn.scalars(query))
    return found


def trending_papers(
    conn: Connection,
    *,
    window: Window,
    now: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[TrendingPaper]:
    """The papers trending in the window ending `now` (default: see `trending_window`)."""
    scored = trending_scores(conn, trending_window(conn, window, now=now))
    return papers_for_scores(conn, scored[offset : offset + limit])


def papers_for_scores(
    conn: Connection, scored: list[tuple[str, float, int]]
) -> list[TrendingPaper]:
    """Load the papers of `trending_scores` (a slice of it), in its order."""
    ids = [paper_id for paper_id, _, _ in scored]
    rows: dict[str, tuple[PaperRecord, int]] = {}
    total = upvote_total().label("total")
    for start in range(0, len(ids), 500):
        query = select(papers, total).where(papers.c.paper_id.in_(ids[start : start + 500]))
        for row in conn.execute(query):
            rows[row.paper_id] = (paper_from_row(row), row.total)
    return [
        TrendingPaper(rows[paper_id][0], score, rows[paper_id][1], counted)
        for paper_id, score, counted in scored
        if paper_id in rows
    ]
