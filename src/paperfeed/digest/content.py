"""Gather a digest's candidates and build each reader's mail (the ledger's builder).

Trending comes from the trending service (`community.trending`, the web's list), topic matches
from the feed's papers by category and from `search.hybrid.search` for saved searches, personal
picks from a `PersonalPicks` (by default: the reader's For you picks, `recommend.recommend`).
Lists shared by many readers are computed once per issue.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from typing import Protocol

from paperfeed.community.trending import trending
from paperfeed.db import Database
from paperfeed.db.digests import Issue, LedgerRow, Subscriber
from paperfeed.db.feed import featured_with_counts
from paperfeed.db.papers import get_papers
from paperfeed.digest.compose import Candidate, DigestPlan, compose_digest
from paperfeed.digest.policy import Built
from paperfeed.digest.render import Renderer
from paperfeed.models import PaperRecord
from paperfeed.recommend import Ask, Pick, WindowPool, recommend, recommend_many, window_pool
from paperfeed.search.embedder import Embedder
from paperfeed.search.hybrid import search
from paperfeed.search.index import SearchIndex
from paperfeed.settings import Settings
from paperfeed.trending import Window

# The search index is opened on first use (a digest without saved searches or personal picks
# never opens it): callers pass the hub's lazy accessor.
IndexSource = Callable[[], SearchIndex]
# Picks prepared for claimed batches and not yet taken, at most (a batch stopped half way leaves
# its rest; `picks` computes anything not prepared).
READY_MOST = 10_000


def period_days(kind: str, period: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a digest covers: the day, or the seven days ending on it."""
    return (period - dt.timedelta(days=6) if kind == "weekly" else period), period


class PersonalPicks(Protocol):
    """The seam for recommendations: papers for one reader within some days, best first.

    An implementation may also have `prepare(subscribers, *, since, until)`: the ledger's
    worker calls it with the readers of a claimed batch before building their mails, so their
    picks can be computed together (`RecommendPicks` does); `picks` must work without it.
    """

    def picks(
        self, subscriber: Subscriber, *, since: dt.date, until: dt.date, limit: int
    ) -> list[Candidate]: ...


class RecommendPicks:
    """The reader's For you picks (`recommend.recommend`, the ranking the page, API and private
    feed show) among the digest's days, with their reasons. A subscriber who is not a member
    gets none. The window's candidates and papers are read once per issue, for every reader."""

    def __init__(
        self,
        *,
        db: Database,
        search_index: IndexSource,
        most: int = 10,
        embedder: Embedder | None = None,
    ) -> None:
        self.db = db
        self.search_index = search_index
        self.most = most
        self.embedder = embedder  # embeds the readers' saved searches (recommend.topics)
        # The candidates and papers of the last window asked for: every reader of an issue
        # shares them.
        self._window: tuple[tuple[dt.date, dt.date], WindowPool | None, dict[str, PaperRecord]]
        self._window = ((dt.date.min, dt.date.min), None, {})
        self._lock = threading.Lock()
        # Picks computed ahead for a claimed batch (`prepare`), taken once by `picks`.
        self._ready: dict[tuple[int, dt.date, dt.date, int], list[Pick]] = {}

    def _window_of(
        self, since: dt.date, until: dt.date
    ) -> tuple[WindowPool | None, dict[str, PaperRecord]]:
        with self._lock:
            days, pool, papers = self._window
            if days != (since, until):
                pool = window_pool(self.search_index(), since=since, until=until)
                ids = pool.pool.ids if pool is not None else ()
                with self.db.read() as conn:
                    papers = get_papers(conn, ids) if len(ids) <= 20_000 else {}
                self._window = ((since, until), pool, papers)
            return pool, papers

    def _asks(self, subscribers: Sequence[Subscriber]) -> list[tuple[int, Ask]]:
        """(subscriber id, what to ask `recommend`) of the members among `subscribers`."""
        return [
            (s.subscriber_id, Ask(s.user_id, min(s.max_papers, self.most), (), s.categories))
            for s in subscribers
            if s.user_id is not None and s.personal and min(s.max_papers, self.most) > 0
        ]

    def prepare(self, subscribers: Sequence[Subscriber], *, since: dt.date, until: dt.date) -> None:
        """Compute the picks of these readers together (`recommend_many`: one evidence query per
        kind, one batched ranking); `picks` then takes each reader's."""
        asks = self._asks(subscribers)
        if not asks:
            return
        pool, _ = self._window_of(since, until)
        found = recommend_many(
            self.db,
            search_index=self.search_index(),
            asks=[ask for _, ask in asks],
            since=since,
            until=until,
            pool=pool,
            embedder=self.embedder,
        )
        with self._lock:
            if len(self._ready) > READY_MOST:  # left by batches given up half way
                self._ready.clear()
            for (subscriber_id, ask), picks in zip(asks, found, strict=True):
                self._ready[(subscriber_id, since, until, ask.limit)] = picks

    def picks(
        self, subscriber: Subscriber, *, since: dt.date, until: dt.date, limit: int
    ) -> list[Candidate]:
        limit = min(limit, self.most)
        if subscriber.user_id is None or limit <= 0:
            return []
        # Without vectors (pool None) the model ranks nothing, but followed authors' new
        # papers still come from recommend().
        pool, papers = self._window_of(since, until)
        with self._lock:
            ready = self._ready.pop((subscriber.subscriber_id, since, until, limit), None)
        found = ready
        if found is None:
            found = recommend(
                self.db,
                search_index=self.search_index(),
                user_id=subscriber.user_id,
                since=since,
                until=until,
                limit=limit,
                topics=subscriber.categories,
                pool=pool,
                embedder=self.embedder,
            )
        missing = [p.paper_id for p in found if p.paper_id not in papers]
        if missing:
            with self.db.read() as conn:
                papers = papers | get_papers(conn, missing)
        return [Candidate(papers[p.paper_id], p.reason) for p in found if p.paper_id in papers]


@dataclass
class _IssueLists:
    trending: list[Candidate]
    featured: list[tuple[PaperRecord, int]]


class DigestContent:
    """Composes and renders each reader's digest for the ledger (the engine's `DigestBuilder`)."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        search_index: IndexSource,
        embedder: Embedder | None,
        renderer: Renderer | None = None,
        personal: PersonalPicks | None = None,
        use_search: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.search_index = search_index
        self.embedder = embedder
        self.renderer = renderer or Renderer(settings)
        self.personal = personal or RecommendPicks(
            db=db, search_index=search_index, embedder=embedder
        )
        self.use_search = use_search
        self._lists: dict[int, _IssueLists] = {}
        self._searches: dict[tuple[int, str], list[Candidate]] = {}
        self._lock = threading.Lock()

    def _issue_lists(self, kind: str, period: dt.date, key: int) -> _IssueLists:
        with self._lock:
            cached = self._lists.get(key)
            if cached is not None:
                return cached
            since, until = period_days(kind, period)
            window: Window = "week" if kind == "weekly" else "day"
            end = dt.datetime.combine(until, dt.time(23, 59, 59))
            listed = trending(db=self.db, window=window, limit=50, until=end)
            trending_now = [
                Candidate(t.paper, f"trending: {t.upvotes} upvotes") for t in listed.papers
            ]
            with self.db.read() as conn:
                featured = featured_with_counts(conn, since, until)
            # A period with few votes still has its featured papers: they follow the voted ones,
            # in the order of the period's feed page (most upvoted, then the newer id).
            ranked = {c.paper.paper_id for c in trending_now}
            label = (
                f"on the daily feed of {until:%d %b}" if kind == "daily" else "featured this week"
            )
            trending_now += [
                Candidate(paper, label) for paper, _ in featured if paper.paper_id not in ranked
            ]
            lists = _IssueLists(trending=trending_now, featured=featured)
            self._lists[key] = lists
            return lists

    def _search(self, kind: str, period: dt.date, key: int, query: str) -> list[Candidate]:
        cache_key = (key, query)
        with self._lock:
            cached = self._searches.get(cache_key)
        if cached is not None:
            return cached
        since, until = period_days(kind, period)
        results = search(
            self.search_index(),
            self.embedder,
            query,
            since=since,
            until=until,
            limit=20,
            embed_timeout_s=self.settings.embed_timeout_s,
        )
        found = [
            Candidate(hit.paper, f"matches your search \u201c{query}\u201d") for hit in results.hits
        ]
        with self._lock:
            self._searches[cache_key] = found
        return found

    def plan(
        self,
        subscriber: Subscriber,
        *,
        kind: str,
        period: dt.date,
        key: int,
        already_sent: Set[str],
    ) -> DigestPlan:
        """Gather the candidates of one reader and compose their digest."""
        lists = self._issue_lists(kind, period, key)
        wanted = set(subscriber.categories)
        topics: list[Candidate] = []
        # Saved searches first: they say more precisely what the reader wants than a
        # category, which can match most of a day.
        if self.use_search:
            for query in subscriber.searches:
                topics.extend(self._search(kind, period, key, query))
        if wanted:
            for paper, _votes in lists.featured:
                hit = next((c for c in paper.categories or () if c in wanted), None)
                if hit is not None:
                    topics.append(Candidate(paper, f"in {hit}, a category you follow"))
        personal: Sequence[Candidate] = ()
        if subscriber.personal:
            since, until = period_days(kind, period)
            personal = self.personal.picks(
                subscriber, since=since, until=until, limit=subscriber.max_papers
            )
        return compose_digest(
            kind=kind,
            period=period,
            trending=lists.trending,
            topics=topics,
            personal=personal,
            top_n=subscriber.top_n,
            max_papers=subscriber.max_papers,
            already_sent=already_sent,
        )

    def prepare(self, *, rows: Sequence[LedgerRow], issue: Issue) -> None:
        """Before a claimed batch is built: compute its readers' personal picks together, when
        the picks support it (`PersonalPicks`)."""
        prepare = getattr(self.personal, "prepare", None)
        if prepare is None:
            return
        since, until = period_days(issue.kind, issue.period)
        prepare(
            [r.subscriber for r in rows if r.subscriber.personal and r.subscriber.receives],
            since=since,
            until=until,
        )

    def build(self, *, row: LedgerRow, issue: Issue) -> Built | None:
        """The ledger's builder: compose against the papers the reader already got, render."""
        subscriber = row.subscriber
        plan = self.plan(
            subscriber,
            kind=issue.kind,
            period=issue.period,
            key=issue.issue_id,
            already_sent=row.already_sent,
        )
        if not plan.items and not subscriber.send_empty:
            return None
        raw = self.renderer.digest(plan=plan, subscriber=subscriber, message_id=row.message_id)
        return Built(raw=raw, paper_ids=plan.paper_ids)
