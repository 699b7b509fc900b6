"""A reader's chosen topics as For you signals: arXiv categories and saved searches.

- **Categories** (at most 20) join the reader's topics, so a far pick in one of them is
  explained "matches your topic T", and each gives a seed: the normalized mean vector of the
  window's papers in that category. For a reader with nothing else (no upvote, collection,
  "more like this", library, saved search or caller seed) they are the **cold start**: one
  seed per category at full weight, and only papers of those categories are candidates, since
  nothing else says what the reader wants. For any other reader they are a light prior: their
  seeds weigh `CATEGORY_WEIGHT` each and `CATEGORY_TOTAL` together (an upvote weighs 1), never
  a filter.
- **Saved searches** (at most 10, 200 characters each) are positives: each one's top
  `SEARCH_HITS` hits of `search.hybrid.search` (the search page's function) among the papers
  of the `SEARCH_DAYS` days before the window (so the seed is not built from the candidates
  themselves; a young store with fewer than `MIN_SEARCH_HITS` there searches up to the
  window's end too) become one seed, the normalized mean of their vectors, weighing as much as
  an upvote and explained "matches your saved search “q”".

Seeds are cached in-process per (query or category, days, model, state of the search index),
so a digest for many readers with the same saved search searches once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from paperfeed.db import Database
from paperfeed.db.reader_topics import (
    MAX_CATEGORIES,
    MAX_SEARCH_CHARS,
    MAX_SEARCHES,
    ReaderTopics,
    TopicError,
    add_topic,
    checked_category,
    remove_topic,
    replace_topics,
    topics_of,
)
from paperfeed.search.embedder import Embedder
from paperfeed.search.hybrid import search
from paperfeed.search.index import SearchIndex

if TYPE_CHECKING:
    from paperfeed.recommend.service import Pick

__all__ = [
    "MAX_CATEGORIES",
    "MAX_SEARCHES",
    "MAX_SEARCH_CHARS",
    "ReaderTopics",
    "TopicError",
    "TopicSignals",
    "add_reader_topic",
    "hub_categories",
    "reader_topic_signals",
    "remove_reader_topic",
    "set_reader_topics",
    "show_topics",
]

# A category's seed weight for a reader with other positives, and all categories' together
# (against 1 for an upvote): a light prior. On the test store a reader with one saved search
# and two categories got 5 of the top 12 from a category at 0.25 each, 1 at 0.05.
CATEGORY_WEIGHT = 0.05
CATEGORY_TOTAL = 0.25
# At most this many papers of a window averaged into one category's seed.
CATEGORY_SAMPLE = 2_000
SEARCH_WEIGHT = 1.0
SEARCH_DAYS = 60
SEARCH_HITS = 10
MIN_SEARCH_HITS = 3
# The seed cache: entries kept, and how long one lives (the index key catches most changes).
CACHE_ENTRIES = 4_096
CACHE_TTL_S = 600.0

Vector = npt.NDArray[np.float32]


def topic_reason(category: str) -> str:
    return f"matches your topic {category}"


def search_reason(query: str) -> str:
    return f"matches your saved search \u201c{query}\u201d"


class _SeedCache:
    """Seed vectors (or None: nothing found) by key, the most recent `CACHE_ENTRIES`, each for
    `CACHE_TTL_S` seconds."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Vector | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Vector | None]) -> Vector | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < CACHE_TTL_S:
                self._entries.move_to_end(key)
                return hit[1]
        value = load()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > CACHE_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SEED_CACHE = _SeedCache()


def _index_key(search_index: SearchIndex, since: dt.date, until: dt.date | None) -> Hashable:
    """What the seeds of a window depend on in the search index: the window's papers (the
    index keeps one frozenset per filter until it changes, and a frozenset keeps its hash)
    and how many vectors it holds."""
    allowed = search_index.allowed_ids(since=since, until=until, categories=None)
    vectors = search_index.vectors
    return (
        id(search_index),
        search_index.contract.model_id,
        hash(allowed) if allowed is not None else None,
        len(allowed or ()),
        len(vectors) if vectors is not None else 0,
    )


def _mean_of(search_index: SearchIndex, paper_ids: Sequence[str]) -> Vector | None:
    if search_index.vectors is None or not paper_ids:
        return None
    found, matrix = search_index.vectors.vectors_of(paper_ids)
    if not found:
        return None
    mean = matrix.astype(np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 1e-12 else None


def category_seed(
    search_index: SearchIndex, category: str, *, since: dt.date, until: dt.date | None
) -> Vector | None:
    """The normalized mean vector of the window's papers in `category`, or when the window has
    none (papers imported without categories, like Hugging Face's) of the store's latest ones
    in it; None when the store has none either."""

    def load() -> Vector | None:
        ids = search_index.allowed_ids(since=since, until=until, categories=[category])
        if not ids:
            ids = search_index.allowed_ids(since=None, until=None, categories=[category])
        return _mean_of(search_index, sorted(ids or ())[-CATEGORY_SAMPLE:])

    key = ("category", category, since, until, _index_key(search_index, since, until))
    return SEED_CACHE.get(key, load)


def search_seed(
    search_index: SearchIndex,
    embedder: Embedder | None,
    query: str,
    *,
    since: dt.date,
    until: dt.date | None,
) -> Vector | None:
    """The normalized mean vector of a saved search's top hits among the papers of the
    `SEARCH_DAYS` days before `since` (up to `until` too when those give too few)."""
    start, end = since - dt.timedelta(days=SEARCH_DAYS), since - dt.timedelta(days=1)

    def load() -> Vector | None:
        hits = search(search_index, embedder, query, since=start, until=end, limit=SEARCH_HITS)
        ids = [h.paper.paper_id for h in hits.hits]
        if len(ids) < MIN_SEARCH_HITS:  # a young store: the window's papers count too
            wider = search(
                search_index, embedder, query, since=start, until=until, limit=SEARCH_HITS
            )
            ids = [h.paper.paper_id for h in wider.hits]
        return _mean_of(search_index, ids)

    model = embedder.model_id if embedder is not None else None
    key = ("search", query, start, until, model, _index_key(search_index, start, until))
    return SEED_CACHE.get(key, load)


@dataclass(frozen=True, slots=True)
class TopicSignals:
    """What a reader's topics bring to one ranking: seeds (vector, reason, weight, text), the
    categories that count as their topics, and for a cold start the only categories shown."""

    seeds: list[tuple[Vector, str, float, str]]
    categories: tuple[str, ...]
    only: frozenset[str] | None = None

    def outside(self, search_index: SearchIndex, since: dt.date, until: dt.date | None) -> set[str]:
        """The window's papers a cold start does not show: those in none of the chosen
        categories, papers without categories (imported so) aside (none when the reader has
        other signals: categories are never a filter then)."""
        if self.only is None:
            return set()
        facets = search_index.facets
        outside = set()
        for pid in search_index.allowed_ids(since=since, until=until, categories=None) or ():
            theirs = facets.get(pid)
            if theirs is not None and theirs.categories and not theirs.categories & self.only:
                outside.add(pid)
        return outside

    def explained(self, picks: list[Pick], search_index: SearchIndex) -> list[Pick]:
        """Picks explained by a category seed name a chosen category the paper is in (the
        nearest category's centroid may be another of the reader's)."""
        seeded = {topic_reason(c) for c in self.categories}
        facets = search_index.facets
        out = []
        for pick in picks:
            if pick.reason in seeded and (found := facets.get(pick.paper_id)) is not None:
                own = next((c for c in self.categories if c in found.categories), None)
                if own is not None:
                    pick = dataclasses.replace(pick, reason=topic_reason(own))
            out.append(pick)
        return out


def reader_topic_signals(
    db: Database,
    search_index: SearchIndex,
    embedder: Embedder | None,
    *,
    user_id: int,
    since: dt.date,
    until: dt.date | None,
    alone: bool,
) -> TopicSignals | None:
    """The reader's chosen categories and saved searches as seeds for the window `since` to
    `until`; `alone`: the reader has no other positive (a cold start from categories when they
    have no saved search either). None when they chose nothing."""
    with db.read() as conn:
        chosen = topics_of(conn, user_id=user_id)
    if not chosen:
        return None
    search_index.ensure_fresh()
    seeds: list[tuple[Vector, str, float, str]] = []
    for query in chosen.searches:
        vector = search_seed(search_index, embedder, query, since=since, until=until)
        if vector is not None:
            # The query's words are exact-term evidence too (Seed.text).
            seeds.append((vector, search_reason(query), SEARCH_WEIGHT, query))
    cold = alone and not seeds
    weight = 1.0 if cold else min(CATEGORY_WEIGHT, CATEGORY_TOTAL / max(1, len(chosen.categories)))
    for category in chosen.categories:
        vector = category_seed(search_index, category, since=since, until=until)
        if vector is not None:
            seeds.append((vector, topic_reason(category), weight, ""))
    only = frozenset(chosen.categories) if cold and chosen.categories else None
    return TopicSignals(seeds, chosen.categories, only)


# --- use cases: one transaction each ---


def hub_categories(search_index: SearchIndex) -> list[tuple[str, int]]:
    """The categories of the hub's papers with how many each has, most first."""
    return search_index.category_counts()


def _known(search_index: SearchIndex, category: str) -> str:
    category = checked_category(category)
    if category not in dict(hub_categories(search_index)):
        raise TopicError(f"this hub has no papers in {category}")
    return category


def show_topics(*, db: Database, user_id: int) -> ReaderTopics:
    with db.read() as conn:
        return topics_of(conn, user_id=user_id)


def add_reader_topic(
    *, db: Database, search_index: SearchIndex, user_id: int, kind: str, value: str
) -> bool:
    """Choose a category (one the hub has papers in) or save a search; False when the reader
    had it already; `TopicError` says why it cannot be kept."""
    if kind == "category":
        value = _known(search_index, value)
    with db.write() as conn:
        return add_topic(conn, user_id=user_id, kind=kind, value=value)


def remove_reader_topic(*, db: Database, user_id: int, kind: str, value: str) -> bool:
    with db.write() as conn:
        return remove_topic(conn, user_id=user_id, kind=kind, value=value)


def set_reader_topics(
    *,
    db: Database,
    search_index: SearchIndex,
    user_id: int,
    categories: Sequence[str],
    searches: Sequence[str],
) -> ReaderTopics:
    """Replace the reader's topics whole (the API's PUT); `TopicError` changes nothing."""
    if len(set(categories)) > MAX_CATEGORIES:
        raise TopicError(f"at most {MAX_CATEGORIES} categories")
    known = [_known(search_index, c) for c in categories]
    with db.write() as conn:
        return replace_topics(conn, user_id=user_id, categories=known, searches=searches)
