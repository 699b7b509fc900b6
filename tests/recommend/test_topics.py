"""Chosen categories and saved searches as For you signals (recommend/topics.py): a cold start
from categories alone, saved searches as explained positives cached per window, and topics as
a light prior that never outranks a reader's upvotes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pytest

from paperfeed.db.schema import upvotes
from paperfeed.hub import Hub
from paperfeed.recommend import recommend
from paperfeed.recommend.signals import has_signals
from paperfeed.recommend.topics import (
    SEED_CACHE,
    TopicError,
    add_reader_topic,
    hub_categories,
    set_reader_topics,
    show_topics,
)
from tests.recommend.conftest import OLD_DAY, PAPERS, WINDOW, ids, make_reader, topic_of
from tests.search.fakes import FakeEmbedder

CATEGORY = {topic_of(r.paper_id): r.categories[0] for _, r in PAPERS}


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it embeds."""

    def __init__(self, *, dim: int) -> None:
        super().__init__(dim=dim)
        self.calls = 0

    def embed(self, texts: Sequence[str], **kwargs: object) -> np.ndarray:  # type: ignore[override]
        self.calls += len(texts)
        return super().embed(texts, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    SEED_CACHE.clear()


def picks_for(hub: Hub, user_id: int, **kwargs: object) -> list[tuple[str, str]]:
    found = recommend(
        hub.db,
        search_index=hub.search_index,
        embedder=hub.embedder,
        user_id=user_id,
        since=WINDOW,
        **kwargs,  # type: ignore[arg-type]
    )
    return [(p.paper_id, p.reason) for p in found]


def test_categories_alone_are_a_cold_start_within_those_categories(hub: Hub) -> None:
    reader = make_reader(hub, "cold@example.org")
    assert picks_for(hub, reader, limit=10) == []
    assert not has_signals(db=hub.db, user_id=reader)
    add_reader_topic(
        db=hub.db, search_index=hub.search_index, user_id=reader, kind="category", value="quant-ph"
    )
    assert has_signals(db=hub.db, user_id=reader)  # For you becomes the reader's home
    picks = picks_for(hub, reader, limit=30)
    assert {pid for pid, _ in picks} == set(ids("quantum", old=False))  # all 12, nothing else
    assert {reason for _, reason in picks} == {"matches your topic quant-ph"}
    add_reader_topic(
        db=hub.db, search_index=hub.search_index, user_id=reader, kind="category", value="cs.CL"
    )
    picks = picks_for(hub, reader, limit=30)
    assert {topic_of(pid) for pid, _ in picks} == {"quantum", "language"}
    assert len(picks) == 24
    for pid, reason in picks:  # each names the chosen category the paper is in
        assert reason == f"matches your topic {CATEGORY[topic_of(pid)]}"


def test_a_saved_search_seeds_its_neighbours_explained_and_cached(hub: Hub) -> None:
    embedder = CountingEmbedder(dim=hub.embedder.dim)  # type: ignore[union-attr]
    hub.embedder = embedder
    reader = make_reader(hub, "search@example.org")
    add_reader_topic(
        db=hub.db,
        search_index=hub.search_index,
        user_id=reader,
        kind="search",
        value="  qubit   surface code ",
    )
    assert show_topics(db=hub.db, user_id=reader).searches == ("qubit surface code",)
    picks = picks_for(hub, reader, limit=12)
    assert [topic_of(pid) for pid, _ in picks] == ["quantum"] * 12
    assert {reason for _, reason in picks} == {
        "matches your saved search \u201cqubit surface code\u201d"
    }
    # The hits come from the 60 days before the window: the seed is not the candidates.
    assert embedder.calls == 1
    other = make_reader(hub, "search2@example.org")
    add_reader_topic(
        db=hub.db,
        search_index=hub.search_index,
        user_id=other,
        kind="search",
        value="qubit surface code",
    )
    assert [pid for pid, _ in picks_for(hub, other, limit=12)] == [pid for pid, _ in picks]
    assert embedder.calls == 1  # the same query and window: searched once for both readers


def test_upvotes_rank_first_and_categories_stay_a_light_prior(hub: Hub) -> None:
    reader = make_reader(hub, "both@example.org")
    with hub.db.write() as conn:
        conn.execute(
            upvotes.insert(),
            [
                {"user_id": reader, "paper_id": p, "created_at": dt.datetime(2026, 3, 10)}
                for p in ids("graph", old=True)[:4]
            ],
        )
    set_reader_topics(
        db=hub.db,
        search_index=hub.search_index,
        user_id=reader,
        categories=["quant-ph", "cs.CL"],
        searches=[],
    )
    picks = picks_for(hub, reader, limit=36)
    assert [topic_of(pid) for pid, _ in picks[:12]] == ["graph"] * 12
    assert {topic_of(pid) for pid, _ in picks} == {"graph", "quantum", "language"}  # no filter
    later = [reason for pid, reason in picks[12:]]
    assert all(r.startswith("matches your topic ") for r in later)


def test_categories_must_be_the_hubs(hub: Hub) -> None:
    reader = make_reader(hub, "bad@example.org")
    assert dict(hub_categories(hub.search_index)) == {"cs.LG": 18, "quant-ph": 18, "cs.CL": 18}
    with pytest.raises(TopicError, match=r"no papers in math\.AG"):
        add_reader_topic(
            db=hub.db,
            search_index=hub.search_index,
            user_id=reader,
            kind="category",
            value="math.AG",
        )
    with pytest.raises(TopicError, match="not an arXiv category"):
        add_reader_topic(
            db=hub.db,
            search_index=hub.search_index,
            user_id=reader,
            kind="category",
            value="<script>",
        )
    with pytest.raises(TopicError, match=r"no papers in math\.AG"):
        set_reader_topics(
            db=hub.db,
            search_index=hub.search_index,
            user_id=reader,
            categories=["cs.CL", "math.AG"],
            searches=[],
        )
    assert not show_topics(db=hub.db, user_id=reader)


def test_a_saved_search_looks_at_the_days_before_the_window(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperfeed.recommend import topics

    asked: list[tuple[dt.date | None, dt.date | None, list[str]]] = []
    real = topics.search

    def spy(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        asked.append((kwargs["since"], kwargs["until"], [h.paper.paper_id for h in found.hits]))  # type: ignore[misc]
        return found

    monkeypatch.setattr(topics, "search", spy)
    reader = make_reader(hub, "days@example.org")
    add_reader_topic(
        db=hub.db, search_index=hub.search_index, user_id=reader, kind="search", value="qubit"
    )
    assert picks_for(hub, reader, limit=5)
    [(since, until, hits)] = asked
    assert (since, until) == (WINDOW - dt.timedelta(days=60), WINDOW - dt.timedelta(days=1))
    old = {pid for topic in ("graph", "quantum", "language") for pid in ids(topic, old=True)}
    assert hits and topic_of(hits[0]) == "quantum" and set(hits) <= old  # not the candidates
    # A store with nothing before the window: the window's own papers make the seed.
    asked.clear()
    SEED_CACHE.clear()
    picks = recommend(
        hub.db,
        search_index=hub.search_index,
        embedder=hub.embedder,
        user_id=reader,
        since=OLD_DAY,
        limit=5,
    )
    assert len(asked) == 2 and asked[0][2] == [] and asked[1][1] is None  # widened
    assert picks and topic_of(picks[0].paper_id) == "quantum"
