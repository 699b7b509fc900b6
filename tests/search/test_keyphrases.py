"""Keyphrases: candidates, MMR diversity, the embed path, storage, and the real model (slow)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from paperfeed.db import Database
from paperfeed.db.keyphrases import (
    PaperKeyphrases,
    get_keyphrases,
    papers_lacking_keyphrases,
    store_keyphrases,
)
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import paper_keyphrases, papers
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import (
    embed_papers,
    keyphrase_papers,
    load_sample_keyphrases,
    save_sample_keyphrases,
)
from paperfeed.search.keyphrases import (
    KEYPHRASE_VERSION,
    MAX_CANDIDATES,
    candidate_counts,
    candidates,
    keyphrases,
    mmr,
)
from paperfeed.search.onnx_embedder import OnnxEmbedder
from paperfeed.search.stop_words import STOP_WORDS
from tests.search.fakes import FakeEmbedder

GC_TEXT = (
    "A compacting garbage collector for LISP. Garbage collection reclaims the list cells a "
    "LISP program no longer reaches. We describe a compacting garbage collector that runs "
    "in parallel with the list processing program, and its synchronization with semaphores."
)


def test_candidates_are_runs_between_stop_words_and_punctuation() -> None:
    found = candidates("The design of the k-d tree, and of B-trees; search in LISP.")
    assert "k-d tree" in found
    assert "B-trees" not in found and "b-trees" in found  # only acronyms keep their case
    assert "LISP" in found and "search" in found
    for phrase in found:
        words = phrase.lower().split()
        assert words[0] not in STOP_WORDS and words[-1] not in STOP_WORDS
        assert len(words) <= 3
    assert not any("tree b-trees" in p or "trees search" in p for p in found)  # no span , ;


def test_candidates_count_occurrences_and_rank_long_repeated_phrases_first() -> None:
    counts = candidate_counts(GC_TEXT)
    assert counts["garbage collector"][0] == 2
    assert counts["lisp"][2] == "LISP"
    found = candidates(GC_TEXT)
    assert found.index("compacting garbage collector") < found.index("semaphores")
    long_text = " ".join(f"word{n}x and" for n in range(200))
    assert len(candidates(long_text)) == MAX_CANDIDATES
    assert candidates("") == [] and candidates("of the and 12 3.5") == []


def test_mmr_skips_a_near_duplicate_that_similarity_alone_would_pick() -> None:
    doc = np.array([1.0, 0.0, 0.0])
    vectors = np.array([[0.95, 0.31, 0.0], [0.94, 0.34, 0.0], [0.8, 0.0, 0.6]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    phrases = ["graph neural network", "graph neural networks", "molecule property"]
    alone = mmr(doc, phrases, vectors, top_n=2, diversity=0.0)
    assert [k.phrase for k in alone] == ["graph neural network", "graph neural networks"]
    diverse = mmr(doc, phrases, vectors, top_n=2, diversity=0.5)
    assert [k.phrase for k in diverse] == ["graph neural network", "molecule property"]
    assert diverse[0].score == pytest.approx(float(vectors[0] @ doc), abs=1e-4)
    assert mmr(doc, [], np.zeros((0, 3))) == []
    assert len(mmr(doc, phrases, vectors, top_n=10)) == 3


def test_keyphrases_embed_each_distinct_candidate_once_for_a_batch() -> None:
    embedder = FakeEmbedder()
    texts = [GC_TEXT, "Garbage collection in LISP systems.", ""]
    found = keyphrases(embedder, texts, embedder.embed(texts))
    assert len(embedder.calls) == 2
    phrases = embedder.calls[1]
    assert len(phrases) == len(set(phrases))
    assert "garbage collection" in phrases and "lisp" in phrases
    assert len(found[0]) == 5 and found[2] == []
    assert all(k.phrase in candidates(GC_TEXT) for k in found[0])
    nothing = FakeEmbedder()
    assert keyphrases(nothing, [""], np.zeros((1, 64), dtype=np.float32)) == [[]]
    assert len(nothing.calls) == 0


def test_storage_round_trip_and_what_lacks_keyphrases(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'kp.db'}")
    db.migrate()
    embedder = FakeEmbedder()
    contract = contract_of(embedder)
    records = [
        PaperRecord(paper_id=f"2401.0000{n}", title=f"Paper {n}", abstract=GC_TEXT)
        for n in range(3)
    ]
    with db.write() as conn:
        upsert_papers(conn, records)
    report = embed_papers(db, embedder, with_keyphrases=False)
    assert report.embedded == 3 and report.keyphrased == 0
    with db.read() as conn:
        lacking = papers_lacking_keyphrases(conn, contract=contract, version=KEYPHRASE_VERSION)
    assert [p.paper_id for p in lacking] == [r.paper_id for r in records]
    assert lacking[0].vector.shape == (embedder.dim,)
    with db.write() as conn:
        store_keyphrases(
            conn,
            [PaperKeyphrases("2401.00000", lacking[0].text_hash, [("garbage collector", 0.8)])],
            version=KEYPHRASE_VERSION,
        )
        store_keyphrases(conn, [], version=KEYPHRASE_VERSION)
    with db.read() as conn:
        assert get_keyphrases(conn, ["2401.00000", "2401.00001"]) == {
            "2401.00000": ["garbage collector"]
        }
        assert conn.scalar(select(paper_keyphrases.c.phrases)) == [["garbage collector", 0.8]]
    seen: list[int] = []
    assert keyphrase_papers(db, embedder, batch=1, progress=seen.append) == 2
    assert seen == [1, 1]
    assert keyphrase_papers(db, embedder) == 0
    with db.write() as conn:  # a new method, or keyphrases of another text: computed again
        conn.execute(
            update(paper_keyphrases)
            .where(paper_keyphrases.c.paper_id == "2401.00001")
            .values(version=KEYPHRASE_VERSION - 1)
        )
        conn.execute(
            update(paper_keyphrases)
            .where(paper_keyphrases.c.paper_id == "2401.00002")
            .values(text_hash="0" * 32)
        )
    assert keyphrase_papers(db, embedder) == 2
    with db.read() as conn:
        stored = get_keyphrases(conn, [r.paper_id for r in records])
    assert len(stored["2401.00001"]) == 5
    db.dispose()


def test_embedding_a_paper_stores_its_keyphrases(hub: Hub) -> None:
    with hub.db.read() as conn:
        some = conn.execute(select(paper_keyphrases).limit(3)).all()
    assert len(some) == 3  # the sample store was embedded with embed_papers
    assert all(row.version == KEYPHRASE_VERSION and len(row.phrases) == 5 for row in some)
    assert keyphrase_papers(hub.db, hub.embedder) == 0  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=tmp_path_factory.mktemp("models"))


@pytest.mark.slow
def test_a_paper_about_garbage_collection_gets_that_first(onnx_embedder: OnnxEmbedder) -> None:
    texts = [
        GC_TEXT,
        "Protein structure prediction with deep learning. We train a transformer on amino "
        "acid sequences to predict protein folding, and compare the predicted structures "
        "with crystal structures from the Protein Data Bank.",
    ]
    found = keyphrases(onnx_embedder, texts, onnx_embedder.embed(texts))
    assert "garbage" in found[0][0].phrase
    assert "protein" in found[1][0].phrase.lower()
    assert not any("protein" in k.phrase.lower() for k in found[0])
    # Diversity: no two of the five say the same thing.
    for phrases in found:
        vectors = onnx_embedder.embed([k.phrase for k in phrases])
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, 0)
        assert similarity.max() < 0.9, [k.phrase for k in phrases]
        scores = [k.score for k in phrases]
        assert scores[0] == max(scores)


def test_sample_keyphrases_ship_and_load_only_where_the_text_matches(
    hub: Hub, tmp_path: Path
) -> None:
    embedder = hub.embedder
    assert embedder is not None
    contract = contract_of(embedder)
    shipped = tmp_path / "kp.json.gz"
    count = save_sample_keyphrases(db=hub.db, embedder=embedder, path=shipped)
    assert count > 2000
    with gzip.open(shipped, "rt") as f:
        data = json.load(f)
    some_id = next(iter(data["papers"]))
    with hub.db.write() as conn:
        before = get_keyphrases(conn, [some_id])
        conn.execute(paper_keyphrases.delete())
        conn.execute(  # its text changed since: its shipped keyphrases no longer apply
            update(papers).where(papers.c.paper_id == some_id).values(title="Another title")
        )
    assert load_sample_keyphrases(db=hub.db, contract=contract, path=shipped) == count - 1
    assert load_sample_keyphrases(db=hub.db, contract=contract, path=shipped) == 0
    with hub.db.read() as conn:
        assert get_keyphrases(conn, [some_id]) == {}
        other = list(data["papers"])[1]
        assert get_keyphrases(conn, [other])[other] == [
            p for p, _ in data["papers"][other]["phrases"]
        ]
    assert before[some_id]
    data["version"] = KEYPHRASE_VERSION + 1
    with gzip.open(shipped, "wt") as f:
        json.dump(data, f)
    with hub.db.write() as conn:
        conn.execute(paper_keyphrases.delete())
    assert load_sample_keyphrases(db=hub.db, contract=contract, path=shipped) == 0
    assert load_sample_keyphrases(db=hub.db, contract=contract, path=tmp_path / "none") == 0
