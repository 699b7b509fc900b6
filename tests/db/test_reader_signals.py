"""db/reader_signals.py: a batch's evidence in one query per kind, the same as each reader's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from paperfeed.db import Database
from paperfeed.db.authors import set_follow
from paperfeed.db.collections import create_collection, set_in_collection
from paperfeed.db.papers import upsert_papers
from paperfeed.db.reader_signals import (
    reader_evidence,
    readers_evidence,
    readers_with_other_signals,
    set_signal,
)
from paperfeed.db.reader_topics import add_topic
from paperfeed.db.schema import upvotes
from paperfeed.db.users import get_or_create_user
from paperfeed.models import PaperRecord


def test_a_batch_reads_each_readers_evidence_newest_first_within_the_limit(db: Database) -> None:
    start = dt.datetime(2026, 3, 1, 9)
    ids = [f"2603.{n:05d}" for n in range(12)]
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord(paper_id=p, title=f"Paper {p}", abstract="") for p in ids])
        readers = [get_or_create_user(conn, f"r{n}@example.org").user_id for n in range(4)]
        conn.execute(
            insert(upvotes),
            [
                {"user_id": u, "paper_id": p, "created_at": start + dt.timedelta(hours=i + n)}
                for n, u in enumerate(readers[:3])
                for i, p in enumerate(ids[n : n + 6])
            ],
        )
        shelf = create_collection(conn, readers[1], "Reading")
        set_in_collection(conn, shelf, readers[1], ids[11], present=True)
        set_signal(conn, user_id=readers[2], paper_id=ids[10], kind="less", now=start)
        set_signal(conn, user_id=readers[0], paper_id=ids[9], kind="more", now=start)
        set_follow(conn, user_id=readers[2], author_key="vaswani_a", on=True)
        add_topic(conn, user_id=readers[0], kind="category", value="cs.CL")
    with db.read() as conn:
        together = readers_evidence(conn, user_ids=readers, limit=4)
        alone = {u: reader_evidence(conn, user_id=u, limit=4) for u in readers}
        others = readers_with_other_signals(conn, user_ids=readers)
    assert together == alone
    first = together[readers[0]]
    assert [e.kind for e in first].count("upvote") == 4  # the limit is per kind and reader
    assert [e.at for e in first] == sorted((e.at for e in first), reverse=True)
    assert {e.paper_id for e in first if e.kind == "upvote"} == set(ids[2:6])  # the newest 4
    assert ("collection", "Reading") in {(e.kind, e.collection) for e in together[readers[1]]}
    assert ("less", ids[10]) in {(e.kind, e.paper_id) for e in together[readers[2]]}
    assert together[readers[3]] == []
    assert others.topics == {readers[0]} and others.follows == {readers[2]}
    assert others.library == frozenset()
