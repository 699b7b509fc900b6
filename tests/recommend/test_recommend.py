"""recommend() on a real store: a reader's signals pull their neighbours up, "not interested"
pushes its kind down, every pick says why, and readers without signals get nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from paperfeed.db.schema import collection_items, collections, upvotes
from paperfeed.hub import Hub
from paperfeed.recommend import Seed, model, recommend, window_pool
from paperfeed.recommend.service import reader_topics
from paperfeed.recommend.signals import NoSuchPaper, record_signal
from tests.recommend.conftest import WINDOW, ids, make_reader, title_of, topic_of


def upvote(hub: Hub, user_id: int, paper_ids: list[str]) -> None:
    when = dt.datetime(2026, 3, 10)
    with hub.db.write() as conn:
        conn.execute(
            upvotes.insert(),
            [{"user_id": user_id, "paper_id": p, "created_at": when} for p in paper_ids],
        )


def picks_for(hub: Hub, user_id: int, **kwargs: object) -> list[tuple[str, float, str]]:
    found = recommend(
        hub.db, search_index=hub.search_index, user_id=user_id, since=WINDOW, **kwargs
    )  # type: ignore[arg-type]
    return [(p.paper_id, p.score, p.reason) for p in found]


def test_a_reader_who_upvoted_papers_gets_their_neighbours_first(hub: Hub) -> None:
    reader = make_reader(hub, "g@example.org")
    liked = ids("graph", old=True)[:3]
    upvote(hub, reader, liked)
    picks = picks_for(hub, reader, limit=12)
    assert len(picks) == 12
    assert [topic_of(pid) for pid, _, _ in picks] == ["graph"] * 12
    window = set(ids("graph", old=False))
    assert {pid for pid, _, _ in picks} == window  # all 12 new graph papers, nothing older
    # Each reason names the upvoted paper nearest the pick (cosine of the stored vectors).
    vectors = hub.search_index.vectors
    assert vectors is not None
    for pid, _, reason in picks:
        mine = vectors.vector(pid)
        assert mine is not None
        nearest = max(liked, key=lambda s: float(np.dot(mine, vectors.vector(s))))  # type: ignore[arg-type]
        assert reason == f"because you upvoted \u201c{title_of(nearest)}\u201d"


def test_a_single_seed_starts_cold_by_cosine(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = make_reader(hub, "one@example.org")
    seed = ids("quantum", old=True)[0]
    upvote(hub, reader, [seed])
    picks = picks_for(hub, reader, limit=5)
    assert [topic_of(pid) for pid, _, _ in picks] == ["quantum"] * 5
    monkeypatch.setattr(model, "LEXICAL", 0.0)  # the vectors' part alone
    picks = picks_for(hub, reader, limit=5)
    assert [topic_of(pid) for pid, _, _ in picks] == ["quantum"] * 5
    vectors = hub.search_index.vectors
    assert vectors is not None
    mine = vectors.vector(seed)
    assert mine is not None
    for pid, score, _ in picks:  # a cold-start score is the cosine to the seed
        assert score == pytest.approx(float(np.dot(mine, vectors.vector(pid))), abs=1e-4)  # type: ignore[arg-type]


def test_not_interested_pushes_that_kind_of_paper_down(hub: Hub) -> None:
    reader = make_reader(hub, "mixed@example.org")
    upvote(hub, reader, ids("graph", old=True)[:3] + ids("quantum", old=True)[:3])

    def mean_place(topic: str) -> float:
        picks = picks_for(hub, reader, limit=24)
        return float(np.mean([i for i, (pid, _, _) in enumerate(picks) if topic_of(pid) == topic]))

    before = mean_place("quantum")
    for pid in ids("quantum", old=False)[:3]:
        record_signal(db=hub.db, user_id=reader, paper_id=pid, kind="less")
    after = mean_place("quantum")
    assert after > before + 3
    shown = {pid for pid, _, _ in picks_for(hub, reader, limit=40)}
    assert not shown & set(ids("quantum", old=False)[:3])  # the dismissed papers are gone


def test_more_like_this_and_collections_are_signals_with_their_own_reasons(hub: Hub) -> None:
    reader = make_reader(hub, "more@example.org")
    asked = ids("language", old=True)[0]
    record_signal(db=hub.db, user_id=reader, paper_id=asked, kind="more")
    picks = picks_for(hub, reader, limit=3)
    assert all(topic_of(pid) == "language" for pid, _, _ in picks)
    assert picks[0][2] == f"because you asked for more like \u201c{title_of(asked)}\u201d"
    kept = ids("graph", old=True)[1]
    with hub.db.write() as conn:
        cid = conn.execute(
            collections.insert()
            .values(user_id=reader, name="Reading", created_at=WINDOW, updated_at=WINDOW)
            .returning(collections.c.collection_id)
        ).scalar_one()
        conn.execute(
            collection_items.insert().values(collection_id=cid, paper_id=kept, added_at=WINDOW)
        )
    reasons = {reason for _, _, reason in picks_for(hub, reader, limit=24)}
    assert f"because you saved \u201c{title_of(kept)}\u201d in Reading" in reasons
    with pytest.raises(NoSuchPaper):
        record_signal(db=hub.db, user_id=reader, paper_id="0000.00000", kind="more")


def test_far_picks_are_explained_by_a_topic_of_the_reader(hub: Hub) -> None:
    reader = make_reader(hub, "topic@example.org")
    upvote(hub, reader, ids("graph", old=True)[:4])
    picks = picks_for(hub, reader, limit=36, topics=("quant-ph",))
    quantum = [reason for pid, _, reason in picks if topic_of(pid) == "quantum"]
    assert quantum and set(quantum) == {"matches your topic quant-ph"}
    assert reader_topics([frozenset({"cs.LG"})] * 3 + [frozenset({"cs.CL"})]) == ["cs.LG"]


def test_seeds_count_as_positives_and_a_pool_is_shared(hub: Hub) -> None:
    reader = make_reader(hub, "seed@example.org")
    assert picks_for(hub, reader) == []  # no signals, no seeds: nothing
    hub.search_index.ensure_fresh()
    vectors = hub.search_index.vectors
    assert vectors is not None
    seed = vectors.vector(ids("language", old=True)[2])
    assert seed is not None
    pool = window_pool(hub.search_index, since=WINDOW)
    picks = picks_for(hub, reader, limit=4, seeds=[Seed(seed, "from your library: X")], pool=pool)
    assert [topic_of(pid) for pid, _, _ in picks] == ["language"] * 4
    assert {reason for _, _, reason in picks} == {"from your library: X"}


def test_many_readers_at_once_get_what_each_gets_alone(hub: Hub) -> None:
    """recommend_many (a digest's batch: one evidence query per kind, one batched ranking) gives
    every reader the picks recommend() gives them alone: mixed signals, a single seed, "not
    interested", a caller's seed, a reader with nothing, and limits on both sides of MMR_DEPTH."""
    from paperfeed.recommend.service import Ask, recommend_many

    graph, quantum = ids("graph", old=True), ids("quantum", old=True)
    readers = [make_reader(hub, f"batch{n}@example.org") for n in range(5)]
    upvote(hub, readers[0], graph[:3] + quantum[:2])
    upvote(hub, readers[1], quantum[:1])  # cold start from one paper
    upvote(hub, readers[2], graph[3:6])
    record_signal(db=hub.db, user_id=readers[2], paper_id=ids("graph", old=False)[0], kind="less")
    hub.search_index.ensure_fresh()
    vectors = hub.search_index.vectors
    assert vectors is not None
    seed_vector = vectors.vector(ids("quantum", old=False)[0])
    assert seed_vector is not None
    asks = [
        Ask(readers[0], limit=12),
        Ask(readers[1], limit=5),
        Ask(readers[2], limit=50),  # deeper than MMR_DEPTH: ranked on its own
        Ask(readers[3], limit=6, seeds=[Seed(seed_vector, "from the caller")]),
        Ask(readers[4], limit=8),  # nothing to learn from
    ]
    together = recommend_many(hub.db, search_index=hub.search_index, asks=asks, since=WINDOW)
    alone = [
        recommend(
            hub.db,
            search_index=hub.search_index,
            user_id=ask.user_id,
            since=WINDOW,
            limit=ask.limit,
            seeds=ask.seeds,
        )
        for ask in asks
    ]
    assert [[(p.paper_id, p.reason) for p in picks] for picks in together] == [
        [(p.paper_id, p.reason) for p in picks] for picks in alone
    ]
    assert [len(picks) for picks in together][:4] == [12, 5, len(together[2]), 6]
    assert together[2] and together[4] == []
    for got, want in zip(together, alone, strict=True):
        assert [p.score for p in got] == pytest.approx([p.score for p in want], abs=1e-5)
