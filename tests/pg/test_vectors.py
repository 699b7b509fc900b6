"""The vector store contract on PostgreSQL: bytea round trip, staleness, paging and counts."""

from __future__ import annotations

import numpy as np

from paperfeed.db import Database
from paperfeed.db.papers import upsert_papers
from paperfeed.db.vectors import (
    EmbeddingContract,
    count_vectors,
    get_vector,
    iter_vectors,
    latest_embedding,
    papers_to_embed,
    store_vectors,
    touch_vectors,
)
from paperfeed.models import PaperRecord, PaperStatus

CONTRACT = EmbeddingContract("test-model", "r1", 1, 4)
NEXT_MODEL = EmbeddingContract("test-model", "r2", 1, 4)
IDS = [f"2603.{n:05d}" for n in range(1, 8)]


def _papers(db: Database) -> None:
    with db.write() as conn:
        records = [PaperRecord(pid, f"Title {pid}", "Abstract", version=1) for pid in IDS]
        upsert_papers(conn, records)


def _store(db: Database, ids: list[str], contract: EmbeddingContract = CONTRACT) -> np.ndarray:
    rng = np.random.default_rng(len(ids))
    vectors = rng.standard_normal((len(ids), contract.dim)).astype(np.float32)
    with db.write() as conn:
        store_vectors(
            conn,
            contract=contract,
            paper_ids=ids,
            text_hashes=[f"h{pid}" for pid in ids],
            vectors=vectors,
        )
    return vectors


def test_vectors_round_trip_exactly_and_page_in_id_order(db: Database) -> None:
    _papers(db)
    vectors = _store(db, IDS)
    with db.read() as conn:
        batches = list(iter_vectors(conn, contract=CONTRACT, batch=3))
        one = get_vector(conn, paper_id=IDS[2], contract=CONTRACT)
        other = get_vector(conn, paper_id=IDS[2], contract=NEXT_MODEL)
        counts = count_vectors(conn, contract=CONTRACT)
        latest = latest_embedding(conn)
    assert [len(ids) for ids, _ in batches] == [3, 3, 1]
    assert [pid for ids, _ in batches for pid in ids] == IDS
    np.testing.assert_array_equal(np.vstack([m for _, m in batches]), vectors)
    assert one is not None and np.array_equal(one, vectors[2]) and other is None
    assert (counts.papers, counts.current, counts.missing) == (7, 7, 0)
    assert not counts.reindex_needed
    assert latest is not None and latest == counts.last_embedded_at


def test_stale_missing_and_hidden_papers(db: Database) -> None:
    _papers(db)
    _store(db, IDS[:3])
    _store(db, IDS[3:5], NEXT_MODEL)  # made with another model revision: stale
    with db.write() as conn:  # a hidden paper is never embedded nor searched
        upsert_papers(conn, [PaperRecord(IDS[0], "", "", version=2, status=PaperStatus.DELETED)])
    with db.read() as conn:
        todo = papers_to_embed(conn, contract=CONTRACT)
        first_page = papers_to_embed(conn, contract=CONTRACT, limit=2)
        next_page = papers_to_embed(conn, contract=CONTRACT, after=first_page[-1].paper_id)
        counts = count_vectors(conn, contract=CONTRACT)
        current = [pid for ids, _ in iter_vectors(conn, contract=CONTRACT) for pid in ids]
    assert [p.paper_id for p in todo] == IDS[3:]
    assert [p.stored_text_hash for p in todo] == [None] * 4  # other contract or none: re-embed
    assert [p.paper_id for p in first_page + next_page] == IDS[3:]
    assert (counts.papers, counts.current, counts.other_contract) == (6, 2, 2)
    assert counts.reindex_needed and current == IDS[1:3]


def test_an_edited_paper_is_listed_until_its_vector_is_checked(db: Database) -> None:
    _papers(db)
    _store(db, IDS)
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord(IDS[1], "New title", "Abstract", version=2)])
    with db.read() as conn:
        todo = papers_to_embed(conn, contract=CONTRACT)
    assert [(p.paper_id, p.title, p.stored_text_hash) for p in todo] == [
        (IDS[1], "New title", f"h{IDS[1]}")
    ]
    with db.write() as conn:
        touch_vectors(conn, paper_ids=[IDS[1]])
    with db.read() as conn:
        assert papers_to_embed(conn, contract=CONTRACT) == []
