"""The feature policy (`PAPERFEED_AUTO_FEATURE`): which of a day's new papers the worker puts on
the feed. none: curators only; all: every new paper; top:N: the N new papers closest to what
members upvoted and collected lately. Curators' picks stay and count toward N, and their
unfeatures always win. Each pick is recorded with its reason (`db.feature_picks`, shown on /new).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from paperfeed.db import Database
from paperfeed.db.announcements import (
    announced_on,
    featured_on,
    interest_paper_ids,
    vetoed_on,
)
from paperfeed.db.feature_picks import FeaturePick, record_picks
from paperfeed.db.feed import feature_papers
from paperfeed.db.vectors import EmbeddingContract, get_vector
from paperfeed.models import Featuring

SOURCE = "auto"
# Cross-lists are new to the category's readers too; replacements are not new papers.
NEW_KINDS = ("new", "cross-list")


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed feature policy: `mode` none, all or top, and N for top."""

    mode: str
    limit: int = 0

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Read `none`, `all` or `top:N`; raise ValueError on anything else."""
        cleaned = text.strip().lower()
        if cleaned in ("none", "all"):
            return cls(cleaned)
        if cleaned.startswith("top:") and cleaned[4:].isdigit() and int(cleaned[4:]) > 0:
            return cls("top", int(cleaned[4:]))
        raise ValueError(f"a feature policy is none, all or top:N, not {text!r}")

    @property
    def name(self) -> str:
        """The policy as it is written: none, all or top:N."""
        return f"top:{self.limit}" if self.mode == "top" else self.mode


@dataclass(frozen=True, slots=True)
class Pick:
    """A paper the policy chose, and why."""

    paper_id: str
    score: float | None
    reason: str


def interest_centroid(
    *, db: Database, contract: EmbeddingContract, since: dt.datetime
) -> np.ndarray | None:
    """The mean of the (unit) vectors of papers members upvoted or saved since `since`."""
    with db.read() as conn:
        ids = interest_paper_ids(conn, since=since)
        vectors = [get_vector(conn, paper_id=pid, contract=contract) for pid in ids]
    found = [v / max(float(np.linalg.norm(v)), 1e-12) for v in vectors if v is not None]
    if not found:
        return None
    centroid: np.ndarray = np.mean(np.stack(found), axis=0)
    norm = float(np.linalg.norm(centroid))
    return centroid / norm if norm > 0 else None


def rank_by_interest(
    *,
    db: Database,
    paper_ids: list[str],
    contract: EmbeddingContract | None,
    since: dt.datetime,
) -> list[Pick]:
    """Rank papers by cosine to the hub's interest; by id when there is no interest (yet)."""
    centroid = interest_centroid(db=db, contract=contract, since=since) if contract else None
    if centroid is None:
        return [Pick(pid, None, "no member interest yet: listing order") for pid in paper_ids]
    scored: list[Pick] = []
    with db.read() as conn:
        for pid in paper_ids:
            vector = get_vector(conn, paper_id=pid, contract=contract) if contract else None
            if vector is None:
                scored.append(Pick(pid, None, "no vector"))
                continue
            unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
            score = float(unit @ centroid)
            scored.append(Pick(pid, score, f"{score:.2f} like what members upvoted and saved"))
    scored.sort(key=lambda p: (p.score is None, -(p.score or 0.0), p.paper_id))
    return scored


def apply_policy(
    *,
    db: Database,
    day: dt.date,
    policy: Policy,
    contract: EmbeddingContract | None,
    now: dt.datetime,
    window: dt.timedelta,
) -> list[Pick]:
    """Feature the day's new papers the policy picks (on `day`'s feed); return the picks.

    Papers a curator took off this day's feed are never picked; those already on it stay, and
    under top:N they count toward N: the policy adds at most N minus the papers already there
    (curators' picks, members' submissions, its own earlier picks), so a rerun adds none.
    """
    if policy.mode == "none":
        return []
    with db.read() as conn:
        listed = announced_on(conn, day, kinds=NEW_KINDS)
        vetoed = vetoed_on(conn, day)
        already = featured_on(conn, day)
    candidates = sorted({a.paper_id for a in listed} - vetoed - already)
    if policy.mode == "all":
        picks = [Pick(pid, None, "every new paper and cross-list") for pid in candidates]
    else:
        room = max(0, policy.limit - len(already))
        if not room:
            return []
        since = now - window
        ranked = rank_by_interest(db=db, paper_ids=candidates, contract=contract, since=since)
        picks = ranked[:room]
    with db.write() as conn:
        feature_papers(conn, [Featuring(p.paper_id, day, source=SOURCE) for p in picks])
        record_picks(
            conn,
            [
                FeaturePick(day, p.paper_id, policy.name, rank, p.score, p.reason)
                for rank, p in enumerate(picks, start=1)
            ],
        )
    return picks
