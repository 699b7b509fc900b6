"""Compose one reader's digest from candidate lists: a pure function, no I/O.

The candidates (trending, topic matches, personal picks) are gathered by digest/content.py;
here they are merged in that order, deduplicated, and cut to the reader's limits, leaving
out every paper the reader already got (a paper reaches a reader at most once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence, Set
from dataclasses import dataclass

from paperfeed.models import PaperRecord


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper offered for a digest and the one line that says why."""

    paper: PaperRecord
    why: str


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """What one reader gets for one period."""

    kind: str
    period: dt.date
    items: tuple[Candidate, ...]

    @property
    def paper_ids(self) -> tuple[str, ...]:
        return tuple(item.paper.paper_id for item in self.items)


def compose_digest(
    *,
    kind: str,
    period: dt.date,
    trending: Sequence[Candidate],
    topics: Sequence[Candidate],
    personal: Sequence[Candidate],
    top_n: int,
    max_papers: int,
    already_sent: Set[str],
) -> DigestPlan:
    """Merge trending top-N, then topic matches, then personal picks; each paper once, none
    the reader already got, at most `max_papers`."""
    chosen: dict[str, Candidate] = {}
    fresh_trending = [c for c in trending if c.paper.paper_id not in already_sent][:top_n]
    for candidate in (*fresh_trending, *topics, *personal):
        if len(chosen) >= max_papers:
            break
        paper_id = candidate.paper.paper_id
        if paper_id not in already_sent and paper_id not in chosen:
            chosen[paper_id] = candidate
    return DigestPlan(kind=kind, period=period, items=tuple(chosen.values()))
