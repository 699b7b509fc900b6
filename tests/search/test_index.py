"""SearchIndex.import_indexing: an import ends keyword-searchable, with a true state marker (#9)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

from paperfeed.db import Database
from paperfeed.db.papers import latest_change
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource, sample_path
from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.search.index import KEYWORD_ONLY, SearchIndex
from tests.ingest.test_snapshot import write_jsonl


def _store(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    db.migrate()
    return db


def _marker(index: SearchIndex) -> str | None:
    value = index.keyword.meta().get("papers_modified_at")
    return value if isinstance(value, str) else None


def _latest(db: Database) -> str | None:
    with db.read() as conn:
        latest = latest_change(conn)
    return latest.isoformat() if latest is not None else None


def test_an_import_is_indexed_as_it_is_stored(tmp_path: Path) -> None:
    db = _store(tmp_path)
    index = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    with index.import_indexing() as on_stored:
        assert on_stored is not None
        summary = run_ingest(db, SnapshotSource(sample_path()), on_stored=on_stored)
    assert summary.imported == 2027
    # Searchable at once, and the marker says the index reflects the store as it is now, so
    # the next look has nothing to catch up (no rebuild on the next open).
    assert index.keyword.count() == 2027
    assert _marker(index) == _latest(db)
    assert index.keyword.search("knowledge distillation probes", limit=1)[0][0] == "2603.12270"
    reopened = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    assert _marker(reopened) == _latest(db)
    reopened.keyword.close()
    index.keyword.close()
    db.dispose()


def test_updates_and_withdrawals_in_a_second_import_replace_their_documents(
    tmp_path: Path,
) -> None:
    db = _store(tmp_path)
    index = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for _, line in zip(range(10), f, strict=False)]
    with index.import_indexing() as on_stored:
        run_ingest(
            db, SnapshotSource(write_jsonl(tmp_path / "a.jsonl", lines)), on_stored=on_stored
        )
    changed = [
        {**lines[0], "title": "Zanzibar quokkas", "id": lines[0]["id"] + "v9"},
        {**lines[1], "comment": "This paper has been withdrawn by the author"},
        # The same paper twice in one import: one document in the end.
        {**lines[2], "title": "First quokka", "id": lines[2]["id"] + "v8"},
        {**lines[2], "title": "Second quokka", "id": lines[2]["id"] + "v9"},
    ]
    with index.import_indexing() as on_stored:
        assert on_stored is not None
        run_ingest(
            db,
            SnapshotSource(write_jsonl(tmp_path / "b.jsonl", changed)),
            on_stored=on_stored,
            batch_size=3,
        )
    assert index.keyword.count() == 9
    assert [h[0] for h in index.keyword.search("zanzibar", limit=5)] == [lines[0]["id"]]
    assert [h[0] for h in index.keyword.search("quokka", limit=5)].count(lines[2]["id"]) == 1
    assert _marker(index) == _latest(db)
    index.keyword.close()
    db.dispose()


def test_an_index_behind_the_store_is_left_to_catch_up(tmp_path: Path) -> None:
    db = _store(tmp_path)
    run_ingest(db, SnapshotSource(sample_path()))  # stored, never indexed
    index = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    with index.import_indexing() as on_stored:
        assert on_stored is None
    index.ensure_fresh(force=True)
    assert index.keyword.count() == 2027
    assert _marker(index) == _latest(db)
    index.keyword.close()
    db.dispose()


def test_a_failed_import_keeps_the_older_marker(tmp_path: Path) -> None:
    db = _store(tmp_path)
    index = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    paper = PaperRecord(paper_id="2603.00001", title="T", abstract="A")
    try:
        with index.import_indexing() as on_stored:
            assert on_stored is not None
            on_stored([paper, dataclasses.replace(paper, status=PaperStatus.WITHDRAWN)])
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert _marker(index) is None and index.keyword.count() == 0
    index.keyword.close()
    db.dispose()
