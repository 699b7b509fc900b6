"""The facets file: search opens from it without walking the store, and it never serves stale
facets (rebuilt when missing, damaged, of another format or ahead of the store) (#11)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event

from paperfeed.db import Database
from paperfeed.db.papers import upsert_papers
from paperfeed.models import PaperRecord, PaperStatus
from paperfeed.search.facets import FacetTable, UnusableFacets, facet_row, saved_mark
from paperfeed.search.index import KEYWORD_ONLY, SearchIndex

FILTERS: list[dict[str, Any]] = [
    {"since": dt.date(2026, 3, 2), "until": None, "categories": None},
    {"since": None, "until": dt.date(2026, 3, 3), "categories": ["cs.LG"]},
    {"since": None, "until": None, "categories": ["cs.CV", "math.AG"]},
    {"since": dt.date(2026, 3, 1), "until": dt.date(2026, 3, 4), "categories": ["cs.CL"]},
]


def _paper(
    paper_id: str,
    title: str,
    categories: tuple[str, ...],
    day: int | None,
    *,
    version: int = 1,
    status: PaperStatus = PaperStatus.ACTIVE,
) -> PaperRecord:
    return PaperRecord(
        paper_id=paper_id,
        title=title,
        abstract=f"About {title.lower()}.",
        version=version,
        categories=categories,
        announced=dt.date(2026, 3, day) if day is not None else None,
        status=status,
    )


PAPERS = [
    _paper("2603.00001", "Sparse attention for long documents", ("cs.CL", "cs.LG"), 1),
    _paper("2603.00002", "Diffusion models for images", ("cs.CV",), 2),
    _paper("2603.00003", "Moduli of curves", ("math.AG",), 3),
    _paper("2603.00004", "Diffusion Models for Images.", ("cs.LG", "cs.CV"), 4),
    _paper("2603.00005", "A paper without a day", ("cs.CL",), None),
    _paper("2603.00006", "Withdrawn at once", ("cs.LG",), 2, status=PaperStatus.WITHDRAWN),
]


def _store(folder: Path, papers: list[PaperRecord]) -> Database:
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    db.migrate()
    _store_papers(db, papers)
    return db


def _store_papers(db: Database, papers: list[PaperRecord]) -> None:
    with db.write() as conn:
        upsert_papers(conn, papers)


def _opened(db: Database, folder: Path) -> SearchIndex:
    index = SearchIndex(db=db, folder=folder, contract=KEYWORD_ONLY)
    index.ensure_fresh(force=True)
    return index


def _state(index: SearchIndex) -> dict[str, Any]:
    """What search reads of the facets: each paper's, each filter's, each title look-up's."""
    return {
        "facets": dict(index.facets),
        "allowed": [index.allowed_ids(**f) for f in FILTERS],
        "titles": {
            key: index.titles.get(key)
            for key in (
                "diffusion models for images",
                "sparse attention for long documents",
                "moduli of curves",
                "withdrawn at once",
                "renamed curves",
                "",
            )
        },
    }


@pytest.fixture
def statements(tmp_path: Path) -> Iterator[tuple[Database, list[str]]]:
    """A store of PAPERS, and the SQL every connection to it runs from now on."""
    db = _store(tmp_path, PAPERS)
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    yield db, seen
    event.remove(db.engine, "before_cursor_execute", record)
    db.dispose()


def test_a_search_process_opens_from_the_facets_file_without_reading_the_papers(
    statements: tuple[Database, list[str]], tmp_path: Path
) -> None:
    db, seen = statements
    first = _opened(db, tmp_path / "search")
    assert first.facets_path.is_file()
    assert any("papers.title" in sql for sql in seen)  # built once, from the store
    seen.clear()
    reopened = _opened(db, tmp_path / "search")
    assert not any("papers.title" in sql or "papers.abstract" in sql for sql in seen), seen
    assert _state(reopened) == _state(first)
    assert reopened.titles.get("diffusion models for images") == "2603.00002"
    assert reopened.facets["2603.00004"].categories == frozenset({"cs.LG", "cs.CV"})
    assert "2603.00006" not in reopened.facets
    first.keyword.close()
    reopened.keyword.close()


def _damage(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _other_format(path: Path) -> None:
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["format"] = np.array(99, np.int64)
    with open(path, "wb") as out:
        np.savez(out, **arrays)


def _ahead(path: Path) -> None:
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["mark"] = np.array("2999-01-01T00:00:00")
    arrays["ids"] = arrays["ids"][:1]  # what a newer store held, say
    arrays["day"] = arrays["day"][:1]
    arrays["title_hash"] = arrays["title_hash"][:1]
    arrays["cat_offsets"] = arrays["cat_offsets"][:2]
    arrays["cat_codes"] = arrays["cat_codes"][: arrays["cat_offsets"][-1]]
    arrays["title_offsets"] = arrays["title_offsets"][:2]
    arrays["title_bytes"] = arrays["title_bytes"][: arrays["title_offsets"][-1]]
    with open(path, "wb") as out:
        np.savez(out, **arrays)


def _wrong_count(path: Path) -> None:
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    for name in ("ids", "day", "title_hash"):
        arrays[name] = arrays[name][:-1]
    for offsets, values in (("cat_offsets", "cat_codes"), ("title_offsets", "title_bytes")):
        arrays[offsets] = arrays[offsets][:-1]
        arrays[values] = arrays[values][: arrays[offsets][-1]]
    with open(path, "wb") as out:
        np.savez(out, **arrays)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda path: path.unlink(),
        _damage,
        lambda path: path.write_bytes(b"not a zip file"),
        _other_format,
        _ahead,
        _wrong_count,
    ],
    ids=["missing", "truncated", "garbage", "other-format", "ahead-of-the-store", "short"],
)
def test_an_unusable_facets_file_is_rebuilt_from_the_store_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spoil: Any
) -> None:
    db = _store(tmp_path, PAPERS)
    fresh = _opened(db, tmp_path / "search")
    expected = _state(fresh)
    spoil(fresh.facets_path)
    with caplog.at_level(logging.INFO, logger="paperfeed.search.index"):
        reopened = _opened(db, tmp_path / "search")
    assert "rebuilding the search facets" in caplog.text or "rebuilding them" in caplog.text
    assert _state(reopened) == expected
    assert len(FacetTable.load(reopened.facets_path)) == 5  # saved again, usable
    fresh.keyword.close()
    reopened.keyword.close()
    db.dispose()


@pytest.mark.parametrize("save_after", [1, 1_000])
def test_facets_kept_in_step_with_changes_match_a_fresh_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, save_after: int
) -> None:
    monkeypatch.setattr("paperfeed.search.index.FACETS_SAVE_AFTER", save_after)
    db = _store(tmp_path, PAPERS)
    index = _opened(db, tmp_path / "search")
    _store_papers(
        db,
        [
            # added; moved to another day and category; renamed; withdrawn; un-withdrawn
            _paper("2603.00007", "Diffusion models for images", ("cs.CV",), 5),
            _paper("2603.00001", "Sparse attention for long documents", ("cs.AI",), 5, version=2),
            _paper("2603.00003", "Renamed curves", ("math.AG",), 3, version=2),
            _paper(
                "2603.00002",
                "Diffusion models for images",
                ("cs.CV",),
                2,
                version=2,
                status=PaperStatus.WITHDRAWN,
            ),
            _paper("2603.00006", "Withdrawn at once", ("cs.LG",), 2, version=2),
        ],
    )
    index.ensure_fresh(force=True)
    fresh = _opened(db, tmp_path / "fresh")  # no facets file there: built from the store
    state = _state(index)
    assert state == _state(fresh)
    # The lowest id of a title wins, as in a build from the store in id order.
    assert state["titles"]["diffusion models for images"] == "2603.00004"
    assert state["titles"]["renamed curves"] == "2603.00003"
    assert state["titles"]["moduli of curves"] is None
    assert state["titles"]["withdrawn at once"] == "2603.00006"
    assert "2603.00002" not in state["facets"]
    assert state["facets"]["2603.00001"].categories == frozenset({"cs.AI"})
    assert index.keyword.count() == len(state["facets"]) == 6
    # The category counts (For you's list of categories) follow the changes, dead rows left out.
    counted = Counter(c for facets in state["facets"].values() for c in facets.categories)
    expected = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    assert index.category_counts() == fresh.category_counts() == expected
    # Five changes: saved at once when that reaches FACETS_SAVE_AFTER, else left for the next
    # process to read again from the file's marker. Either way it answers the same.
    current = saved_mark(index.facets_path) == index.keyword.meta()["papers_modified_at"]
    assert current is (save_after <= 5)
    assert _state(_opened(db, tmp_path / "search")) == state
    index.keyword.close()
    fresh.keyword.close()
    db.dispose()


def test_an_import_leaves_the_facets_file_in_step_with_the_store(tmp_path: Path) -> None:
    db = _store(tmp_path, PAPERS)
    index = _opened(db, tmp_path / "search")
    importer = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    index.keyword.close()
    added = [_paper("2603.00008", "Quokka detection", ("cs.CV",), 6)]
    with importer.import_indexing() as on_stored:
        assert on_stored is not None
        _store_papers(db, added)
        on_stored(added)
    saved = FacetTable.load(importer.facets_path)
    assert "2603.00008" in saved and len(saved) == 6
    assert saved_mark(importer.facets_path) == importer.keyword.meta()["papers_modified_at"]
    importer.keyword.close()
    db.dispose()


def test_a_saved_table_reads_back_as_it_was(tmp_path: Path) -> None:
    table = FacetTable.build([[facet_row(p) for p in PAPERS]], mark=dt.datetime(2026, 3, 9))
    table.apply([facet_row(_paper("2603.00004", "Ünïcode ∂ title", (), None, version=2))])
    table.save(tmp_path / "facets.npz")
    loaded = FacetTable.load(tmp_path / "facets.npz")
    assert loaded.mark == dt.datetime(2026, 3, 9)
    assert sorted(loaded.paper_ids()) == sorted(table.paper_ids())
    assert all(loaded.facets(pid) == table.facets(pid) for pid in table.paper_ids())
    assert loaded.titled("ünïcode ∂ title") == "2603.00004"
    assert loaded.titled("diffusion models for images") == "2603.00002"
    assert loaded.facets("2603.00004") is not None
    assert loaded.facets("2603.00006") is None
    with pytest.raises(UnusableFacets):
        FacetTable.load(tmp_path / "missing.npz")


def test_a_catch_up_leaves_the_facets_a_search_holds_unchanged(tmp_path: Path) -> None:
    db = _store(tmp_path, PAPERS)
    index = _opened(db, tmp_path / "search")
    held = index.facets  # a search on another thread, reading while the index catches up
    _store_papers(db, [_paper("2603.00007", "Quokka detection", ("cs.CV",), 5)])
    index.ensure_fresh(force=True)
    assert "2603.00007" in index.facets and "2603.00007" not in held
    assert len(held) == 5 and len(index.facets) == 6
    index.keyword.close()
    db.dispose()


def test_a_process_reloads_a_keyword_index_another_process_imported_into(
    statements: tuple[Database, list[str]], tmp_path: Path
) -> None:
    db, seen = statements
    web = _opened(db, tmp_path / "search")
    web.keyword.close()  # the writer lock is free for the import in "another process"
    importer = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    added = [_paper("2603.00008", "Quokka detection", ("cs.CV",), 6)]
    with importer.import_indexing() as on_stored:
        assert on_stored is not None
        _store_papers(db, added)
        on_stored(added)
    importer.keyword.close()
    seen.clear()
    web.ensure_fresh(force=True)
    # The changed papers' facets are read (a light query); their text is not indexed again.
    assert not any("papers.abstract" in sql for sql in seen), seen
    assert [pid for pid, _ in web.keyword.search("quokka")] == ["2603.00008"]
    assert web.facets["2603.00008"].day == dt.date(2026, 3, 6)
    web.keyword.close()


def test_an_import_builds_the_facets_from_its_own_batches_not_from_the_store(
    statements: tuple[Database, list[str]], tmp_path: Path
) -> None:
    # The import of 94,905 papers spent seconds reading every paper's facets back at its end.
    db, seen = statements
    _opened(db, tmp_path / "search").keyword.close()
    importer = SearchIndex(db=db, folder=tmp_path / "search", contract=KEYWORD_ONLY)
    batches = [
        [_paper("2603.00008", "Quokka detection", ("cs.CV",), 6)],
        [  # a new version renamed, and a paper withdrawn: both in the table as stored
            _paper("2603.00003", "Renamed curves", ("math.AG", "math.NT"), 3, version=2),
            _paper(
                "2603.00002",
                "Diffusion models for images",
                ("cs.CV",),
                2,
                version=2,
                status=PaperStatus.WITHDRAWN,
            ),
        ],
    ]
    with importer.import_indexing() as on_stored:
        assert on_stored is not None
        for batch in batches:
            _store_papers(db, batch)
            on_stored(batch)
        seen.clear()  # what the import's end reads
    assert not any("papers.title" in sql for sql in seen), seen
    from_batches = _state(importer)
    importer.keyword.close()
    rebuilt = SearchIndex(db=db, folder=tmp_path / "rebuilt", contract=KEYWORD_ONLY)
    rebuilt.ensure_fresh(force=True)
    assert from_batches == _state(rebuilt)
    assert "2603.00002" not in from_batches["facets"]
    assert from_batches["titles"]["renamed curves"] == "2603.00003"
    assert _state(_opened(db, tmp_path / "search")) == from_batches  # the file as saved
    rebuilt.keyword.close()
