"""`recommend`: a reader's explained picks among a window's papers, the one "For you" ranking that
the page, the API, the private feed and the digest all call.

The evidence comes from the store (`db.reader_signals.reader_evidence`: upvotes, collection items,
"more like this", "not interested"), the reader's imported library (`recommend.library`:
its papers and embedded entries become seeds, here, for every caller) and the authors they
follow (`community.authors`: their papers of the window come first), the vectors from the
search index (no model call), and the ranking from `recommend.model`. Callers may add seeds of
their own (vectors with a reason) as extra positives.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from paperfeed.community.authors import Followed, followed_papers
from paperfeed.db import Database
from paperfeed.db.cache import cached
from paperfeed.db.feed import home_day
from paperfeed.db.papers import get_papers, get_words
from paperfeed.db.reader_signals import (
    Evidence,
    OtherSignals,
    readers_evidence,
    readers_with_other_signals,
)
from paperfeed.models import PaperRecord
from paperfeed.recommend.library import LIBRARY_WEIGHT, library_seeds
from paperfeed.recommend.model import (
    LEXICAL_MOST,
    MMR_DEPTH,
    Pool,
    Reader,
    make_pool,
    rank_readers,
    unit_rows,
)
from paperfeed.recommend.topics import TopicSignals, reader_topic_signals
from paperfeed.search.embedder import Embedder
from paperfeed.search.index import SearchIndex

# How much each kind of evidence weighs as a positive.
WEIGHTS = {"upvote": 1.0, "collection": 1.0, "more": 2.0}
# A pick this close (cosine) to a signal paper is explained by it; a farther one by a topic of
# the reader's when it has one.
NEAR = 0.55
# A category is one of the reader's topics when this share of their positives (and two at least)
# are in it.
TOPIC_SHARE = 0.3
MAX_LIMIT = 100
# The papers of followed authors fill at most this share of a list (the rest is the model's).
FOLLOW_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended paper, with its score (higher first within one list) and why."""

    paper_id: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class Seed:
    """An extra positive given by the caller: a vector, the reason a pick near it gets (for
    example "from your library: …"), and its weight against one upvote."""

    vector: npt.NDArray[np.float32]
    reason: str
    weight: float = 1.0
    text: str = ""  # its words (title, abstract, keywords), when known: exact-term evidence


@dataclass(frozen=True, slots=True)
class WindowPool:
    """The candidate papers of a window with their vectors and categories, shared by readers."""

    since: dt.date
    until: dt.date | None
    pool: Pool
    categories: dict[str, frozenset[str]] = field(default_factory=dict)


def window_pool(
    search_index: SearchIndex, *, since: dt.date, until: dt.date | None = None
) -> WindowPool | None:
    """The visible papers announced from `since` to `until` (included) that have vectors, with
    their words (title, abstract, keywords: the exact-term evidence), ready to rank for many
    readers; None when the index has no vectors."""
    search_index.ensure_fresh()
    vectors = search_index.vectors
    if vectors is None or len(vectors) == 0:
        return None
    allowed = search_index.allowed_ids(since=since, until=until, categories=None)
    ids, matrix = vectors.vectors_of(sorted(allowed or ()))
    with search_index.db.read() as conn:
        stored = get_words(conn, ids)
    texts = [stored.get(pid, "") for pid in ids]
    facets = search_index.facets
    categories = {pid: f.categories for pid in ids if (f := facets.get(pid)) is not None}
    return WindowPool(since, until, make_pool(ids, matrix, texts=texts), categories)


def _because(evidence: Evidence) -> str:
    if evidence.kind == "collection":
        return f"because you saved \u201c{evidence.title}\u201d in {evidence.collection}"
    if evidence.kind == "more":
        return f"because you asked for more like \u201c{evidence.title}\u201d"
    return f"because you upvoted \u201c{evidence.title}\u201d"


def reader_topics(categories: Sequence[frozenset[str]]) -> list[str]:
    """The categories of at least `TOPIC_SHARE` of a reader's positive papers (two at least),
    most frequent first."""
    counts = Counter(c for cats in categories for c in cats)
    least = max(2, TOPIC_SHARE * len(categories))
    return [c for c, n in counts.most_common() if n >= least]


@dataclass(frozen=True, slots=True)
class Ask:
    """One reader of a `recommend_many` batch: who, how many picks, and what the caller adds
    (see `recommend`)."""

    user_id: int
    limit: int = 20
    seeds: Sequence[Seed] = ()
    topics: Sequence[str] = ()


def recommend(
    db: Database,
    *,
    search_index: SearchIndex,
    user_id: int,
    since: dt.date,
    until: dt.date | None = None,
    limit: int = 20,
    seeds: Sequence[Seed] = (),
    topics: Sequence[str] = (),
    pool: WindowPool | None = None,
    embedder: Embedder | None = None,
) -> list[Pick]:
    """The reader's best `limit` papers announced from `since` to `until`, best first, each with
    its reason; [] for a reader with no positive evidence and no seeds.

    `topics` adds categories the reader chose (a digest's) to those learnt from their papers.
    `pool` reuses the window's candidates across readers (see `window_pool`). `embedder` embeds
    the reader's saved searches (`recommend.topics`; keyword hits alone without it).
    """
    [picks] = recommend_many(
        db,
        search_index=search_index,
        asks=[Ask(user_id, limit, seeds, topics)],
        since=since,
        until=until,
        pool=pool,
        embedder=embedder,
    )
    return picks


@dataclass(slots=True)
class _Plan:
    """What one reader's list is made of, before the batch's model ranks it."""

    evidence: list[Evidence]
    positives: list[Evidence]
    seeds: list[Seed]
    topics: list[str]
    followed: list[Followed]
    shown_followed: list[Followed]
    signalled: set[str]
    exclude: set[str]
    mine: list[str]
    their_topics: TopicSignals | None
    limit: int


def recommend_many(
    db: Database,
    *,
    search_index: SearchIndex,
    asks: Sequence[Ask],
    since: dt.date,
    until: dt.date | None = None,
    pool: WindowPool | None = None,
    embedder: Embedder | None = None,
) -> list[list[Pick]]:
    """`recommend` for many readers of one window (a digest's batch): each reader's evidence is
    read in one query per kind for all, and their classifiers are fitted and ranked together
    (`rank_readers`). The picks are the same as one `recommend` call per reader."""
    user_ids = [ask.user_id for ask in asks]
    with db.read() as conn:
        evidence_of = readers_evidence(conn, user_ids=user_ids)
        others = readers_with_other_signals(conn, user_ids=user_ids)
    plans = [
        _plan(db, search_index, ask, evidence_of[ask.user_id], others, since, until, embedder)
        for ask in asks
    ]
    learning = {
        i: plan
        for i, plan in enumerate(plans)
        if plan is not None and plan.limit > 0 and (plan.positives or plan.seeds)
    }
    if pool is not None and (pool.since, pool.until) != (since, until):
        pool = None
    if learning and pool is None:
        pool = window_pool(search_index, since=since, until=until)
    model_picks = _model_picks(db, search_index, learning, pool)
    results: list[list[Pick]] = []
    for i, plan in enumerate(plans):
        if plan is None:
            results.append([])
            continue
        picks = model_picks.get(i, [])
        if plan.their_topics is not None:
            picks = plan.their_topics.explained(picks, search_index)
        top = max((p.score for p in picks), default=0.0)
        shown = plan.shown_followed
        first = [
            Pick(f.paper_id, top + len(shown) - i, f"you follow {f.author}")
            for i, f in enumerate(shown)
            if f.paper_id not in plan.signalled
        ]
        results.append([*first, *picks][: plan.limit + len(shown)])
    return results


def _plan(
    db: Database,
    search_index: SearchIndex,
    ask: Ask,
    evidence: list[Evidence],
    others: OtherSignals,
    since: dt.date,
    until: dt.date | None,
    embedder: Embedder | None,
) -> _Plan | None:
    """Gather one reader's signals (None: nothing to recommend from, or no picks asked);
    `others` says which kinds the reader has any of (the rest are not looked up)."""
    limit = max(0, min(ask.limit, MAX_LIMIT))
    if limit == 0:
        return None
    seeds = list(ask.seeds)
    topics = list(ask.topics)
    positives = [e for e in evidence if e.kind != "less"]
    # The reader's imported library counts for every caller: its entries are seeds too.
    library = (
        library_seeds(db, search_index, user_id=ask.user_id)
        if ask.user_id in others.library
        else None
    )
    if library is not None and library.reasons:
        seeds += [
            Seed(vector, reason, LIBRARY_WEIGHT, text)
            for vector, reason, text in zip(
                library.vectors, library.reasons, library.texts, strict=True
            )
        ]
    # The new papers of the authors the reader follows come first, and teach the model too.
    followed = (
        followed_papers(db=db, user_id=ask.user_id, since=since, until=until)
        if ask.user_id in others.follows
        else []
    )
    # The reader's chosen categories and saved searches (recommend/topics.py).
    alone = not (positives or seeds or followed)
    their_topics = (
        reader_topic_signals(
            db, search_index, embedder, user_id=ask.user_id, since=since, until=until, alone=alone
        )
        if ask.user_id in others.topics
        else None
    )
    if their_topics is not None:
        seeds += [Seed(*seed) for seed in their_topics.seeds]
        topics += their_topics.categories
    if not (positives or seeds or followed):
        return None
    shown_followed = followed[: max(1, int(limit * FOLLOW_SHARE))]
    signalled = {e.paper_id for e in evidence}
    if library is not None:
        signalled.update(library.paper_ids)  # the reader has these already
    seeds += _follow_seeds(db, search_index, followed)
    exclude = {
        *signalled,
        *(f.paper_id for f in shown_followed),
        # A cold start from categories alone shows only those.
        *(their_topics.outside(search_index, since, until) if their_topics else ()),
    }
    return _Plan(
        evidence=evidence,
        positives=positives,
        seeds=seeds,
        topics=topics,
        followed=followed,
        shown_followed=shown_followed,
        signalled=signalled,
        exclude=exclude,
        mine=list(library.paper_ids) if library is not None else [],
        their_topics=their_topics,
        limit=limit - len(shown_followed),
    )


def _follow_seeds(
    db: Database, search_index: SearchIndex, followed: Sequence[Followed]
) -> list[Seed]:
    """The followed authors' papers of the window as positives, near ones explained by them."""
    vectors = search_index.vectors
    if not followed or vectors is None:
        return []
    author_of = {f.paper_id: f.author for f in followed}
    found, matrix = vectors.vectors_of(list(author_of))
    with db.read() as conn:
        words = get_words(conn, found[:LEXICAL_MOST])
    return [
        Seed(row, f"near the papers of {author_of[pid]}, whom you follow", 1.0, words.get(pid, ""))
        for pid, row in zip(found, matrix, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class _Modelled:
    """One reader's input to the batch's model, and what explains its picks."""

    reader: Reader
    found: list[str]  # the reader's positive papers with a vector, in `reader.positives` order
    reasons: list[str]  # one per positive row


def _model_picks(
    db: Database,
    search_index: SearchIndex,
    plans: dict[int, _Plan],
    pool: WindowPool | None,
) -> dict[int, list[Pick]]:
    """The model's picks of each reader of `plans` (those with positives or seeds: a classifier
    of their evidence and seeds over the window), all ranked together, by the plans' keys."""
    results: dict[int, list[Pick]] = {}
    vectors = search_index.vectors
    if pool is None or vectors is None:
        return results
    row_of = {pid: row for row, pid in enumerate(pool.pool.ids)}
    # One entry per paper: its strongest kind of evidence (a "more" outweighs an upvote).
    bests: dict[int, dict[str, Evidence]] = {}
    for i, plan in plans.items():
        best: dict[str, Evidence] = {}
        for e in plan.positives:
            held = best.get(e.paper_id)
            if held is None or WEIGHTS[e.kind] > WEIGHTS[held.kind]:
                best[e.paper_id] = e
        bests[i] = best
    negative_ids = {
        i: [e.paper_id for e in plan.evidence if e.kind == "less" and e.paper_id not in bests[i]]
        for i, plan in plans.items()
    }
    # The vectors and words of every reader's papers, looked up once for the batch.
    known, matrix = vectors.vectors_of(
        dict.fromkeys(
            [pid for best in bests.values() for pid in best]
            + [pid for ids in negative_ids.values() for pid in ids]
        )
    )
    vector_of = dict(zip(known, matrix, strict=True))
    found_of = {i: [pid for pid in best if pid in vector_of] for i, best in bests.items()}
    weights_of = {
        i: [WEIGHTS[bests[i][pid].kind] for pid in found] + [s.weight for s in plans[i].seeds]
        for i, found in found_of.items()
    }
    # The words of the papers the model's exact-term profile reads (each reader's heaviest).
    heaviest = {
        i: {
            found[j]
            for j in np.argsort(-np.asarray(weights_of[i]), kind="stable")[:LEXICAL_MOST]
            if j < len(found)
        }
        for i, found in found_of.items()
    }
    with db.read() as conn:
        words = get_words(conn, list(dict.fromkeys(p for ids in heaviest.values() for p in ids)))
    dim = pool.pool.vectors.shape[1]
    inputs: dict[int, _Modelled] = {}
    for i, plan in plans.items():
        found = found_of[i]
        rows = [vector_of[pid] for pid in found]
        if plan.seeds:
            rows += list(unit_rows(np.stack([s.vector for s in plan.seeds])))
        if not rows:
            continue
        negatives = [vector_of[p] for p in negative_ids[i] if p in vector_of]
        inputs[i] = _Modelled(
            Reader(
                unit_rows(np.stack(rows)),
                np.asarray(weights_of[i], dtype=np.float32),
                np.stack(negatives) if negatives else np.zeros((0, dim), dtype=np.float32),
                np.array([row_of[p] for p in plan.exclude if p in row_of], dtype=np.int64),
                tuple(words.get(pid, "") if pid in heaviest[i] else "" for pid in found)
                + tuple(s.text for s in plan.seeds),
            ),
            found,
            [_because(bests[i][pid]) for pid in found] + [s.reason for s in plan.seeds],
        )
    if not inputs:
        return results
    # Readers asking for up to MMR_DEPTH picks share one ranking (the same depth), cut after.
    groups: dict[int, list[int]] = {}
    for i in inputs:
        groups.setdefault(max(plans[i].limit, MMR_DEPTH), []).append(i)
    facets = search_index.facets
    for depth, members in groups.items():
        ranked_all = rank_readers(pool.pool, [inputs[i].reader for i in members], limit=depth)
        for i, ranked in zip(members, ranked_all, strict=True):
            plan, modelled = plans[i], inputs[i]
            learnt = reader_topics(
                [
                    f.categories
                    for pid in [*modelled.found, *plan.mine]
                    if (f := facets.get(pid)) is not None
                ]
            )
            chosen_topics = list(dict.fromkeys([*plan.topics, *learnt]))
            picks = []
            for row, score, nearest, cosine in zip(
                ranked.rows[: plan.limit],
                ranked.scores[: plan.limit],
                ranked.nearest[: plan.limit],
                ranked.nearest_cosine[: plan.limit],
                strict=True,
            ):
                paper_id = pool.pool.ids[int(row)]
                reason = modelled.reasons[int(nearest)]
                if cosine < NEAR:
                    theirs = pool.categories.get(paper_id, frozenset())
                    topic = next((t for t in chosen_topics if t in theirs), None)
                    if topic is not None:
                        reason = f"matches your topic {topic}"
                picks.append(Pick(paper_id, float(score), reason))
            results[i] = picks
    return results


# The window the page, the API and the private feed rank: the week up to the latest feed day.
FOR_YOU_DAYS = 7


@dataclass(frozen=True, slots=True)
class ForYou:
    """A reader's For you list: the window ranked, each pick with its paper."""

    since: dt.date | None
    until: dt.date | None
    picks: list[tuple[PaperRecord, Pick]]


def for_you(
    db: Database,
    *,
    search_index: SearchIndex,
    user_id: int,
    limit: int = 30,
    embedder: Embedder | None = None,
) -> ForYou:
    """The reader's picks among the papers of the `FOR_YOU_DAYS` days up to the latest feed day
    (the demo's day while the store is the demo), with the papers to show."""
    with db.read() as conn:
        until = home_day(conn)
    if until is None:
        return ForYou(None, None, [])
    since = until - dt.timedelta(days=FOR_YOU_DAYS - 1)
    # The window's candidates are the same for every reader until the store changes.
    pool = cached(
        db,
        ("for-you-pool", since, until),
        lambda: window_pool(search_index, since=since, until=until),
    )
    found = recommend(
        db,
        search_index=search_index,
        user_id=user_id,
        since=since,
        until=until,
        limit=limit,
        pool=pool,
        embedder=embedder,
    )
    with db.read() as conn:
        papers = get_papers(conn, [p.paper_id for p in found])
    return ForYou(since, until, [(papers[p.paper_id], p) for p in found if p.paper_id in papers])
