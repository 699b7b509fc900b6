"""The curator's triage of a listing day (`/new`): the day's announcements like arXiv's own
listing (new, cross-lists, replacements), each ranked by the community-interest score the
`top:N` feature policy uses, with its reason, whether it is on the day's feed and, if so, who put
it there (a curator, a member's submission, or the policy with the reason it gave)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from paperfeed.db import Database
from paperfeed.db.announcements import (
    KINDS,
    FeedPlace,
    announced_on,
    announcement_days,
    feed_places,
    vetoed_on,
)
from paperfeed.db.feature_picks import FeaturePick, picks_on
from paperfeed.db.papers import get_papers
from paperfeed.db.vectors import EmbeddingContract
from paperfeed.loop.feature import rank_by_interest
from paperfeed.models import PaperRecord, PaperStatus


@dataclass(frozen=True, slots=True)
class TriageItem:
    """One paper of the day's listing, as a curator sees it."""

    paper: PaperRecord
    kind: str
    categories: tuple[str, ...]
    score: float | None
    reason: str
    featured: bool
    vetoed: bool
    featured_note: str = ""  # who put it on the day's feed, and why (empty when it is not)


@dataclass
class Triage:
    """A listing day for curators: its papers by kind, the days around it, the categories."""

    day: dt.date | None
    days: list[dt.date]
    categories: list[str]
    category: str | None
    sections: dict[str, list[TriageItem]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(items) for items in self.sections.values())


def triage_day(
    *,
    db: Database,
    day: dt.date | None,
    category: str | None,
    contract: EmbeddingContract | None,
    since: dt.datetime,
) -> Triage:
    """The listing of `day` (default: the newest), optionally of one category, ranked."""
    with db.read() as conn:
        days = announcement_days(conn)
        day = day or (days[0] if days else None)
        listed = announced_on(conn, day) if day is not None else []
        places = feed_places(conn, day) if day is not None else {}
        picks = picks_on(conn, day) if day is not None else {}
        vetoed = vetoed_on(conn, day) if day is not None else set()
        papers = get_papers(conn, {a.paper_id for a in listed})
    categories = sorted({a.category for a in listed})
    if category is not None:
        listed = [a for a in listed if a.category == category]
    # A paper listed in several chosen categories appears once, under its strongest kind.
    kind_of: dict[str, str] = {}
    in_categories: dict[str, list[str]] = {}
    for line in listed:
        known = kind_of.get(line.paper_id)
        if known is None or KINDS.index(line.kind) < KINDS.index(known):
            kind_of[line.paper_id] = line.kind
        in_categories.setdefault(line.paper_id, []).append(line.category)
    visible = [
        pid for pid in sorted(kind_of) if pid in papers and papers[pid].status == PaperStatus.ACTIVE
    ]
    ranked = rank_by_interest(db=db, paper_ids=visible, contract=contract, since=since)
    triage = Triage(day=day, days=days, categories=categories, category=category)
    triage.sections = {kind: [] for kind in KINDS}
    for pick in ranked:
        triage.sections[kind_of[pick.paper_id]].append(
            TriageItem(
                paper=papers[pick.paper_id],
                kind=kind_of[pick.paper_id],
                categories=tuple(in_categories[pick.paper_id]),
                score=pick.score,
                reason=pick.reason,
                featured=pick.paper_id in places,
                vetoed=pick.paper_id in vetoed,
                featured_note=_featured_note(places.get(pick.paper_id), picks.get(pick.paper_id)),
            )
        )
    return triage


def _featured_note(place: FeedPlace | None, pick: FeaturePick | None) -> str:
    """Who put a paper on the day's feed, in words: the policy's reason, a curator, a member."""
    if place is None:
        return ""
    if place.source == "auto":
        if pick is None:
            return "Picked by the feature policy"
        return f"Picked by the {pick.policy} policy (#{pick.rank} of the day): {pick.reason}"
    if place.source == "submit" and place.featured_by:
        return f"Submitted by {place.featured_by}"
    if place.featured_by:
        return f"Featured by {place.featured_by}"
    return f"On the feed ({place.source})"
