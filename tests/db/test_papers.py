"""Upserting papers: newest version wins, nothing changes twice, hidden is not lost."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from paperfeed.db import Database
from paperfeed.db.feed import feature_papers, papers_for_day
from paperfeed.db.papers import (
    count_papers,
    get_paper,
    get_papers,
    insert_rows,
    paper_row,
    upsert_papers,
)
from paperfeed.db.schema import papers
from paperfeed.models import Featuring, PaperRecord, PaperStatus

V1 = PaperRecord(
    "2603.00001",
    "First title",
    "First abstract",
    version=1,
    authors=("Ada Lovelace", "Alan Turing"),
    categories=("cs.CL", "cs.AI"),
    primary_category="cs.CL",
    announced=dt.date(2026, 3, 16),
    doi="10.1000/xyz",
)
V2 = PaperRecord(
    "2603.00001",
    "Second title",
    "Second abstract",
    version=2,
    authors=("Ada Lovelace",),
    announced=dt.date(2026, 3, 18),
)


def upsert(db: Database, *records: PaperRecord) -> tuple[int, int, int]:
    with db.write() as conn:
        summary = upsert_papers(conn, list(records))
    return summary.imported, summary.updated, summary.unchanged


def stored(db: Database, paper_id: str = "2603.00001") -> PaperRecord:
    with db.read() as conn:
        paper = get_paper(conn, paper_id, include_hidden=True)
    assert paper is not None
    return paper.record


def test_the_same_record_twice_changes_nothing(db: Database) -> None:
    assert upsert(db, V1) == (1, 0, 0)
    assert upsert(db, V1) == (0, 0, 1)
    assert stored(db) == V1


def test_a_newer_version_replaces_the_text_and_keeps_what_it_does_not_say(db: Database) -> None:
    upsert(db, V1)
    assert upsert(db, V2) == (0, 1, 0)
    paper = stored(db)
    assert (paper.version, paper.title, paper.abstract) == (2, "Second title", "Second abstract")
    assert paper.authors == ("Ada Lovelace",)
    assert paper.categories == ("cs.CL", "cs.AI")  # v2 did not say: kept
    assert paper.doi == "10.1000/xyz"
    assert paper.announced == dt.date(2026, 3, 16)  # the first announcement stays


def test_an_older_version_never_overwrites_a_newer_one(db: Database) -> None:
    upsert(db, V2)
    assert upsert(db, V1) == (0, 0, 1)
    assert stored(db).title == "Second title"


def test_a_record_without_version_does_not_overwrite_a_known_version(db: Database) -> None:
    upsert(db, V2)
    unversioned = PaperRecord("2603.00001", "Scraped title", "Scraped abstract")
    assert upsert(db, unversioned) == (0, 0, 1)
    assert stored(db).title == "Second title"


def test_duplicates_within_one_batch_count_once(db: Database) -> None:
    assert upsert(db, V1, V2, V1) == (1, 1, 1)
    assert stored(db).version == 2


def test_deleted_and_withdrawn_papers_are_hidden_not_lost(db: Database) -> None:
    upsert(db, V1, PaperRecord("2603.00002", "Other", "Text", version=1))
    deleted = PaperRecord("2603.00001", "", "", version=1, status=PaperStatus.DELETED)
    assert upsert(db, deleted) == (0, 1, 0)
    with db.read() as conn:
        assert get_paper(conn, "2603.00001") is None
        assert set(get_papers(conn, ["2603.00001", "2603.00002"])) == {"2603.00002"}
        counts = count_papers(conn)
    kept = stored(db)
    assert kept.status == PaperStatus.DELETED
    assert kept.title == "First title"
    assert (counts.papers, counts.hidden) == (1, 1)


def test_a_deletion_of_an_unknown_paper_is_stored_hidden(db: Database) -> None:
    upsert(db, PaperRecord("2603.00009", "", "", status=PaperStatus.DELETED))
    with db.read() as conn:
        assert get_paper(conn, "2603.00009") is None
    assert stored(db, "2603.00009").status == PaperStatus.DELETED


def test_featuring_is_idempotent_and_keeps_the_highest_upvote_count(db: Database) -> None:
    upsert(db, V1)
    day = dt.date(2026, 3, 16)
    with db.write() as conn:
        assert feature_papers(conn, [Featuring("2603.00001", day, "hf-daily", upvotes=5)]) == 1
        assert feature_papers(conn, [Featuring("2603.00001", day, "hf-daily", upvotes=9)]) == 0
        assert feature_papers(conn, [Featuring("2603.00001", day, "hf-daily", upvotes=2)]) == 0
    with db.read() as conn:
        items = papers_for_day(conn, day)
    assert [(i.paper.paper_id, i.upvotes) for i in items] == [("2603.00001", 9)]


def test_a_feed_entry_needs_its_paper(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as conn:
        feature_papers(conn, [Featuring("9999.99999", dt.date(2026, 1, 1), "curator")])


def test_without_versions_the_later_update_time_wins(db: Database) -> None:
    early = PaperRecord("2603.00003", "Early", "A", updated=dt.datetime(2026, 3, 1))
    late = PaperRecord("2603.00003", "Late", "A", updated=dt.datetime(2026, 3, 5))
    upsert(db, late)
    assert upsert(db, early) == (0, 0, 1)
    dated_v = PaperRecord("2603.00003", "Later", "A", version=3, updated=dt.datetime(2026, 3, 9))
    assert upsert(db, dated_v) == (0, 1, 0)
    unversioned_newer = PaperRecord("2603.00003", "OAI", "A", updated=dt.datetime(2026, 3, 20))
    assert upsert(db, unversioned_newer) == (0, 1, 0)
    paper = stored(db, "2603.00003")
    assert (paper.title, paper.version) == ("OAI", 3)


def test_a_deletion_applies_even_without_version_or_date(db: Database) -> None:
    upsert(db, V2)
    upsert(db, PaperRecord("2603.00001", "", "", status=PaperStatus.DELETED))
    paper = stored(db)
    assert (paper.status, paper.title) == (PaperStatus.DELETED, "Second title")


def test_days_with_only_hidden_papers_are_skipped_in_navigation(db: Database) -> None:
    from paperfeed.db.feed import latest_feed_day, neighbour_days

    hidden = PaperRecord("2603.00005", "Gone", "A", status=PaperStatus.WITHDRAWN)
    upsert(db, V1, hidden)
    with db.write() as conn:
        feature_papers(conn, [Featuring("2603.00001", dt.date(2026, 3, 16), "sample")])
        feature_papers(conn, [Featuring("2603.00005", dt.date(2026, 3, 17), "sample")])
    with db.read() as conn:
        assert latest_feed_day(conn) == dt.date(2026, 3, 16)
        assert neighbour_days(conn, dt.date(2026, 3, 16)) == (None, None)


def test_the_sqlite_bulk_insert_stores_exactly_what_the_core_insert_stores(
    tmp_path: Path,
) -> None:
    records = [
        PaperRecord(
            paper_id="2603.00001",
            version=3,
            title="Bulk",
            abstract="Ünïcode and $x^2$",
            # JSON lists take a fast path: quotes, backslashes, control and non-ASCII
            # characters must come out as json.dumps writes them.
            authors=('Ada "Countess" Lovelace', "Kurt Gödel", "back\\slash", "tab\there", "李"),
            categories=("cs.LG", "stat.ML"),
            primary_category="cs.LG",
            submitted=dt.datetime(2026, 3, 1, 12, 30, 5, 17),
            updated=dt.datetime(999, 1, 2, 3, 4, 5),
            announced=dt.date(2026, 3, 2),
            comment="12 pages",
            keywords=(),
            status=PaperStatus.WITHDRAWN,
        ),
        PaperRecord(paper_id="cacm-7", title="Only a title", abstract=""),
    ]
    now = dt.datetime(2026, 3, 2, 8, 0, 0, 250)
    rows = [{**paper_row(r), "created_at": now, "modified_at": now} for r in records]
    stored = []
    for name, write in (("core", lambda c: c.execute(papers.insert(), rows)), ("bulk", None)):
        db = Database(f"sqlite:///{tmp_path / name}.db")
        db.migrate()
        with db.write() as conn:
            if write is None:
                insert_rows(conn, rows)
            else:
                write(conn)
        raw = sqlite3.connect(tmp_path / f"{name}.db")
        stored.append(raw.execute("SELECT * FROM papers ORDER BY paper_id").fetchall())
        raw.close()
        db.engine.dispose()
    assert stored[1] == stored[0]
    assert len(stored[0]) == 2
    assert '"Kurt G\\u00f6del"' in stored[0][0][4]  # json.dumps's ASCII escapes, kept
