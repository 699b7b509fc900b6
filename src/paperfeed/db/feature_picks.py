"""The feature policy's picks in the store: which paper it put on which day's feed, at what
rank and score, and why in words (shown to curators on /new)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_

from paperfeed.db.schema import feature_picks, utc_now


@dataclass(frozen=True, slots=True)
class FeaturePick:
    """One paper the policy featured on a day."""

    day: dt.date
    paper_id: str
    policy: str
    rank: int
    score: float | None
    reason: str


def record_picks(conn: Connection, picks: Sequence[FeaturePick]) -> int:
    """Store picks (idempotent: a pick already recorded keeps its first reason); return how
    many are new."""
    if not picks:
        return 0
    unique = {(p.day, p.paper_id): p for p in picks}
    keys = list(unique)
    known: set[tuple[dt.date, str]] = set()
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        query = select(feature_picks.c.day, feature_picks.c.paper_id).where(
            tuple_(feature_picks.c.day, feature_picks.c.paper_id).in_(chunk)
        )
        known.update((row.day, row.paper_id) for row in conn.execute(query))
    now = utc_now()
    rows = [
        {
            "day": p.day,
            "paper_id": p.paper_id,
            "policy": p.policy,
            "rank": p.rank,
            "score": p.score,
            "reason": p.reason[:300],
            "picked_at": now,
        }
        for key, p in unique.items()
        if key not in known
    ]
    if rows:
        conn.execute(feature_picks.insert(), rows)
    return len(rows)


def picks_on(conn: Connection, day: dt.date) -> dict[str, FeaturePick]:
    """The policy's picks of a day's feed, by paper."""
    query = select(feature_picks).where(feature_picks.c.day == day)
    return {
        row.paper_id: FeaturePick(
            row.day, row.paper_id, row.policy, row.rank, row.score, row.reason
        )
        for row in conn.execute(query)
    }
