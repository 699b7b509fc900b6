"""Exact terms in the reader model: a rare term a reader's papers share with one candidate pulls
that candidate up even where the vectors place it far away, in the model and in recommend()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import upvotes
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from paperfeed.recommend import Seed, model, recommend, window_pool
from paperfeed.recommend.lexical import make_lexicon, profiles, scores, terms
from paperfeed.recommend.model import Reader, make_pool, rank_readers, unit_rows
from paperfeed.search.indexer import embed_papers
from tests.recommend.conftest import DIM, WINDOW, ids, make_reader
from tests.search.fakes import FakeEmbedder


def test_terms_are_words_and_adjacent_pairs_without_stop_words() -> None:
    counted = terms("The Surface Code of the surface code, in 2026: a qubit-level study")
    assert counted["surface code"] == 2
    assert counted["surface"] == 2
    assert "the" not in counted and "of" not in counted and "2026" not in counted
    assert counted["qubit level"] == 1


def test_rows_are_unit_over_shared_terms_and_unknown_terms_are_left_out() -> None:
    texts = ["graph neural network", "quantum error correction graph", "graph coloring neural"]
    lexicon = make_lexicon(texts)
    shared = lexicon.matrix[:, np.flatnonzero(lexicon.shared)]
    norms = np.sqrt(np.asarray(shared.multiply(shared).sum(axis=1))).ravel()
    assert norms == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    held = {t: lexicon.column(t) for t in terms(" ".join(texts))}
    assert sorted(t for t, i in held.items() if i is not None and lexicon.shared[i]) == [
        "graph",
        "neural",
    ]
    # A term of one paper only counts on top of the shared ones: "network" outweighs "graph".
    row = lexicon.matrix[0].toarray().ravel()
    assert row[held["network"]] > row[held["graph"]] > 0
    assert lexicon.rows(["zeolite catalysis"]).nnz == 0
    mine = profiles(lexicon, [["neural theory"]], [np.ones(1, np.float32)])
    found = scores(lexicon, mine)[0]
    assert found[0] > 0 and found[2] > 0 and found[1] == 0


def test_a_window_paper_placed_again_gets_its_own_row() -> None:
    _, _, texts = _world()
    texts[3] = "Surface code, surface CODE; zeolite: " + texts[3]
    lexicon = make_lexicon(texts)
    again = lexicon.rows(texts[:50])
    assert abs(again - lexicon.matrix[:50]).max() < 1e-6
    row = lexicon.rows(["surface code zeolite unknownword"])
    named = {
        lexicon.column(t) for t in ("surface", "code", "zeolite", "surface code", "code zeolite")
    }
    assert set(row.indices.tolist()) == named and None not in named
    assert lexicon.column("unknownword") is None and lexicon.column("zeolite surface") is None
    # Every window paper's row holds exactly its `terms`, counted as `terms` counts them.
    for i in (0, 3, 77):
        counted = terms(texts[i])
        cols = {lexicon.column(t): n for t, n in counted.items()}
        assert set(lexicon.matrix[i].indices.tolist()) == set(cols)
    assert lexicon.width == len(set().union(*(terms(t) for t in texts)))


def _world(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """300 papers in 8 clusters of vectors, each paper with words of its own (drawn from a
    large vocabulary) and its cluster's; paper 299 (cluster 5) alone mentions "zeolite"."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.normal(size=(8, 32)))
    labels = np.arange(300) % 8
    labels[299] = 5
    vectors = unit_rows(centres[labels] + rng.normal(size=(300, 32)) * 0.15)
    texts = [
        " ".join([f"word{w}" for w in rng.integers(0, 3000, 25)] + [f"topic{labels[i]}"])
        for i in range(300)
    ]
    texts[299] += " zeolite"
    return labels, vectors, texts


def _reader(vectors: np.ndarray, texts: tuple[str, ...]) -> Reader:
    return Reader(
        unit_rows(vectors),
        np.ones(len(vectors), dtype=np.float32),
        np.zeros((0, vectors.shape[1]), np.float32),
        np.zeros(0, dtype=np.int64),
        texts,
    )


def test_a_rare_shared_term_pulls_a_far_paper_into_the_list() -> None:
    labels, vectors, texts = _world()
    pool = make_pool([str(i) for i in range(300)], vectors, texts=texts, dims=16)
    rng = np.random.default_rng(1)
    mine = unit_rows(vectors[labels == 0][:6] + rng.normal(size=(6, 32)) * 0.05)
    words = tuple(f"word{k} word{k + 1} zeolite synthesis" for k in range(6))
    [with_terms] = rank_readers(pool, [_reader(mine, words)], limit=20)
    [vectors_only] = rank_readers(pool, [_reader(mine, ())], limit=20)
    assert 299 not in vectors_only.rows.tolist()  # the vectors alone place it far down
    assert 299 in with_terms.rows.tolist()
    assert (labels[with_terms.rows] == 0).sum() >= 15  # the reader's cluster still fills the list


def test_a_batch_with_terms_ranks_each_reader_as_alone() -> None:
    labels, vectors, texts = _world(2)
    pool = make_pool([str(i) for i in range(300)], vectors, texts=texts, dims=16)
    readers = [
        _reader(vectors[labels == c][:5], tuple(texts[i] for i in np.flatnonzero(labels == c)[:5]))
        for c in range(8)
    ] + [_reader(vectors[labels == 3][:4], ())]  # one reader without texts in the batch
    together = rank_readers(pool, readers, limit=10)
    for c, reader in enumerate(readers):
        [alone] = rank_readers(pool, [reader], limit=10)
        assert alone.rows.tolist() == together[c].rows.tolist()


def test_texts_must_match_the_papers() -> None:
    _, vectors, texts = _world()
    with pytest.raises(ValueError, match="texts for"):
        make_pool([str(i) for i in range(300)], vectors, texts=texts[:10])
    pool = make_pool([str(i) for i in range(300)], vectors, texts=texts, dims=16)
    with pytest.raises(ValueError, match="texts for"):
        rank_readers(pool, [_reader(vectors[:3], ("one text",))], limit=5)


class RareBlindEmbedder(FakeEmbedder):
    """The test store's embedder, blind to the rare words (as a model may place a paper by its
    gist and miss the one term it shares with another)."""

    def embed(self, texts: Sequence[str], **kwargs: Any) -> npt.NDArray[np.float32]:
        blind = [" ".join(w for w in t.split() if w.lower() not in RARE.split()) for t in texts]
        return super().embed(blind, **kwargs)


def _add_papers(hub: Hub, records: list[PaperRecord], *, featured: bool) -> None:
    with hub.db.write() as conn:
        upsert_papers(conn, records)
        if featured:
            feature_papers(
                conn,
                [Featuring(r.paper_id, r.announced, "test") for r in records if r.announced],
            )
    embed_papers(hub.db, RareBlindEmbedder(dim=DIM))
    hub.search_index.ensure_fresh(force=True)


LANGUAGE = "language token translation speech prompt grammar corpus dialogue parsing lexicon"
RARE = "zeolite aluminosilicate porous framework"
GRAPH = "graph neural message passing node edge molecule convolution spectral vertex"


def _record(pid: str, title: str, abstract: str, day: dt.date) -> PaperRecord:
    return PaperRecord(
        paper_id=pid,
        title=title,
        abstract=abstract,
        categories=("cs.LG",),
        primary_category="cs.LG",
        announced=day,
        submitted=dt.datetime.combine(day, dt.time(9)),
    )


@pytest.mark.parametrize("through", ["upvote", "seed"])
def test_recommend_ranks_with_the_papers_words(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    """A graph reader, one of whose two papers is about zeolites, gets the one language paper
    of the window about zeolites too ahead of every other language paper; by the vectors alone
    (which do not see the words) it does not lead them. (Until the fit converged, stop 24, the
    vectors alone happened to put it after half of them or more; its place among papers the
    reader's vectors are all far from is arbitrary.)"""
    rare = _record(
        "2603.90001",
        "Zeolite corpora for parsing",
        f"{LANGUAGE} {LANGUAGE} {LANGUAGE} {RARE}",
        WINDOW + dt.timedelta(days=1),
    )
    _add_papers(hub, [rare], featured=True)
    reader = make_reader(hub, f"{through}@example.org")
    liked = ids("graph", old=True)[:1]
    seeds: list[Seed] = []
    text = f"Graph networks. {GRAPH} {GRAPH} {RARE}"
    if through == "upvote":
        mine = _record("2603.90002", "Zeolite graph networks", text, WINDOW - dt.timedelta(10))
        _add_papers(hub, [mine], featured=False)
        liked.append(mine.paper_id)
    else:  # a seed with a text, as an embedded library entry is
        vectors = hub.search_index.vectors
        assert vectors is not None
        vector = vectors.vector(ids("graph", old=True)[1])
        assert vector is not None
        seeds = [Seed(vector, "from a test", 1.0, text)]
    with hub.db.write() as conn:
        conn.execute(
            upvotes.insert(),
            [
                {"user_id": reader, "paper_id": p, "created_at": dt.datetime(2026, 3, 10)}
                for p in liked
            ],
        )

    def place() -> int:
        pool = window_pool(hub.search_index, since=WINDOW)  # no cache between the two runs
        assert pool is not None and pool.pool.lexicon is not None
        picks = recommend(
            hub.db,
            search_index=hub.search_index,
            user_id=reader,
            since=WINDOW,
            limit=40,
            seeds=seeds,
            pool=pool,
        )
        order = [p.paper_id for p in picks]
        return order.index(rare.paper_id), len(
            set(order[: order.index(rare.paper_id)]) & set(ids("language", old=False))
        )

    with_terms = place()
    monkeypatch.setattr(model, "LEXICAL", 0.0)
    vectors_only = place()
    # With the words it leads the language papers; by the vectors alone it does not, and it is
    # placed lower in the whole list.
    assert with_terms[1] == 0 and vectors_only[1] >= 1
    assert with_terms[0] < vectors_only[0]
