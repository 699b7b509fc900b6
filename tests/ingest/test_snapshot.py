"""JSONL snapshots: the bundled sample, the daily-listing and Kaggle formats, and bad lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.db.feed import papers_for_day
from paperfeed.db.papers import count_papers, get_paper
from paperfeed.ingest import snapshot
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource, sample_path, sample_source
from paperfeed.models import PaperRecord, PaperStatus, Rejected


def sample_records(n: int) -> list[dict[str, Any]]:
    with gzip.open(sample_path(), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for _, line in zip(range(n), lines, strict=False)]


def kaggle_line(record: dict[str, Any], *, versions: int = 2) -> dict[str, Any]:
    """Turn a real sample record into the Kaggle/Cornell snapshot format."""
    names = record["authors"]
    return {
        "id": record["id"],
        "submitter": names[0],
        "authors": ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1],
        "title": "  " + record["title"].replace(" ", "\n  ", 2),
        "comments": record["comment"],
        "journal-ref": None,
        "doi": "10.48550/arXiv." + record["id"],
        "report-no": None,
        "categories": " ".join(record["categories"]),
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": "  " + record["abstract"] + "\n",
        "versions": [
            {"version": f"v{v}", "created": f"Mon, {15 + v} Mar 2026 17:5{v}:00 GMT"}
            for v in range(1, versions + 1)
        ],
        "update_date": "2026-03-18",
        "authors_parsed": [[n.split()[-1], " ".join(n.split()[:-1]), ""] for n in names],
    }


def write_jsonl(path: Path, lines: list[Any], *, gz: bool = False) -> Path:
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_sample_is_imported_and_featured_on_its_days(db: Database) -> None:
    summary = run_ingest(db, sample_source())
    assert (summary.imported, summary.updated, len(summary.rejected)) == (2027, 0, 0)
    assert summary.featured == 2027
    with db.read() as conn:
        counts = count_papers(conn)
        friday = papers_for_day(conn, dt.date(2026, 3, 20), limit=5000)
    assert (counts.papers, counts.featured_days) == (2027, 5)
    assert (counts.first_day, counts.last_day) == (dt.date(2026, 3, 16), dt.date(2026, 3, 20))
    assert len(friday) > 100
    assert all(item.paper.announced == dt.date(2026, 3, 20) for item in friday)


def test_importing_the_sample_twice_changes_nothing(db: Database) -> None:
    run_ingest(db, sample_source())
    again = run_ingest(db, sample_source())
    assert (again.imported, again.updated, again.unchanged, again.featured) == (0, 0, 2027, 0)


def test_kaggle_snapshot_records_are_read_with_versions_and_authors(
    db: Database, tmp_path: Path
) -> None:
    records = sample_records(3)
    path = write_jsonl(
        tmp_path / "arxiv-metadata-oai-snapshot.json", [kaggle_line(r) for r in records]
    )
    summary = run_ingest(db, SnapshotSource(path))
    assert (summary.imported, summary.featured, len(summary.rejected)) == (3, 0, 0)
    with db.read() as conn:
        paper = get_paper(conn, records[0]["id"])
    assert paper is not None
    record = paper.record
    assert record.version == 2
    assert record.title == records[0]["title"]
    assert record.abstract == records[0]["abstract"]
    assert record.authors == tuple(records[0]["authors"])
    assert record.categories == tuple(records[0]["categories"])
    assert record.primary_category == records[0]["categories"][0]
    assert record.submitted == dt.datetime(2026, 3, 16, 17, 51)
    assert record.updated == dt.datetime(2026, 3, 17, 17, 52)
    assert record.doi == "10.48550/arXiv." + records[0]["id"]
    assert record.license == "http://creativecommons.org/licenses/by/4.0/"


def test_a_kaggle_v2_after_the_daily_listing_updates_and_keeps_the_announcement(
    db: Database, tmp_path: Path
) -> None:
    records = sample_records(2)
    run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "daily.jsonl", records)))
    kaggle = write_jsonl(tmp_path / "k.json.gz", [kaggle_line(r) for r in records], gz=True)
    summary = run_ingest(db, SnapshotSource(kaggle))
    assert (summary.imported, summary.updated) == (0, 2)
    with db.read() as conn:
        paper = get_paper(conn, records[0]["id"])
    assert paper is not None
    assert paper.record.version == 2
    assert paper.record.announced == dt.date.fromisoformat(records[0]["first_seen"])


def test_plain_and_gzip_files_give_the_same_papers(db: Database, tmp_path: Path) -> None:
    records = sample_records(20)
    plain = run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "a.jsonl", records)))
    gz = run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "a.jsonl.gz", records, gz=True)))
    assert (plain.imported, gz.unchanged) == (20, 20)


def test_ids_that_are_not_arxiv_ids_are_kept_as_given(db: Database, tmp_path: Path) -> None:
    cacm = [
        {
            "id": "1410",
            "title": "Interarrival Statistics for Time Sharing Systems",
            "abstract": None,
            "authors": ["Coffman, E. G."],
            "date": "1966-07",
        },
        {
            "id": 3193,
            "title": "",
            "abstract": "Work is in progress on a formula coding technique.",
            "keywords": "formula coding, Flexowriter;  typing",
        },
    ]
    summary = run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "cacm.jsonl", cacm)))
    assert (summary.imported, len(summary.rejected)) == (2, 0)
    with db.read() as conn:
        paper = get_paper(conn, "1410")
        untitled = get_paper(conn, "3193")
    assert paper is not None and untitled is not None
    assert paper.record.abstract == "" and paper.record.categories is None
    assert untitled.record.abstract.startswith("Work is in progress")
    assert untitled.record.keywords == ("formula coding", "Flexowriter", "typing")


@pytest.mark.parametrize("parallel", [False, True], ids=["here", "parsed-in-a-process"])
def test_bad_lines_are_reported_with_file_line_and_reason_and_the_rest_imported(
    db: Database, tmp_path: Path, parallel: bool
) -> None:
    good = sample_records(4)
    lines: list[Any] = [
        good[0],
        "{not json",
        good[1],
        [1, 2, 3],
        {"title": "no id", "abstract": "x"},
        {"id": "2603.99999", "title": "", "abstract": ""},
        {"id": "2603.99998", "title": "T", "abstract": "A", "authors": "Ada, Alan"},
        {"id": "2603.99997", "title": "T", "abstract": "A", "first_seen": "yesterday"},
        {"id": "2603.99996", "title": "T", "abstract": "x" * 20_001},
        {"id": "has space", "title": "T", "abstract": "A"},
        "",
        good[2],
        good[3],
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    summary = run_ingest(db, SnapshotSource(path, parallel=parallel))
    assert summary.imported == 4
    reasons = {r.location: r.reason for r in summary.rejected}
    assert list(reasons) == [f"{path}:{n}" for n in (2, 4, 5, 6, 7, 8, 9, 10)]
    assert reasons[f"{path}:2"].startswith("invalid JSON")
    assert reasons[f"{path}:4"] == "expected a JSON object, got list"
    assert reasons[f"{path}:5"] == "missing 'id'"
    assert reasons[f"{path}:6"] == "missing 'title' and 'abstract'"
    assert reasons[f"{path}:7"] == "'authors' must be a list of strings"
    assert "first_seen" in reasons[f"{path}:8"]
    assert reasons[f"{path}:9"] == "abstract longer than 20000 characters"
    assert "not usable as a paper id" in reasons[f"{path}:10"]


def test_a_hostile_abstract_is_stored_as_plain_text(db: Database, tmp_path: Path) -> None:
    hostile = {
        "id": "2603.77777",
        "title": "<script>alert(1)</script> $a<b$",
        "abstract": "Nul\x00 byte, \x1b[31mescape\x1b[0m and <img src=x onerror=alert(1)>",
        "authors": ["Robert'); DROP TABLE papers;--"],
        "first_seen": "2026-03-20",
    }
    run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "h.jsonl", [hostile])))
    with db.read() as conn:
        paper = get_paper(conn, "2603.77777")
    assert paper is not None
    assert paper.record.title == "<script>alert(1)</script> $a<b$"
    assert paper.record.abstract == "Nul byte, [31mescape[0m and <img src=x onerror=alert(1)>"
    assert paper.record.authors == ("Robert'); DROP TABLE papers;--",)


def test_withdrawn_papers_are_stored_hidden(db: Database, tmp_path: Path) -> None:
    record = {**sample_records(1)[0], "comment": "This paper has been withdrawn by the author"}
    run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "w.jsonl", [record])))
    with db.read() as conn:
        assert get_paper(conn, record["id"]) is None
        hidden = get_paper(conn, record["id"], include_hidden=True)
    assert hidden is not None and hidden.record.status == PaperStatus.WITHDRAWN


@pytest.mark.parametrize("parallel", [False, True], ids=["here", "parsed-in-a-process"])
def test_a_truncated_gzip_file_keeps_what_was_read_and_says_why(
    db: Database, tmp_path: Path, parallel: bool
) -> None:
    path = write_jsonl(tmp_path / "t.jsonl.gz", sample_records(200), gz=True)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    summary = run_ingest(db, SnapshotSource(path, parallel=parallel))
    assert 0 < summary.imported < 200
    assert summary.rejected[-1].location == str(path)
    assert "cannot read further" in summary.rejected[-1].reason


def test_parsing_in_a_second_process_reads_exactly_what_parsing_here_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks, so the records cross in many jobs with several in flight.
    monkeypatch.setattr(snapshot, "CHUNK_LINES", 7)
    good = sample_records(40)
    lines: list[Any] = [*good[:20], "{bad", "", "x" * (snapshot.MAX_LINE + 10), *good[20:]]
    path = write_jsonl(tmp_path / "many.jsonl.gz", lines, gz=True)
    here = list(SnapshotSource(path, parallel=False).read())
    there = list(SnapshotSource(path, parallel=True).read())
    assert there == here
    assert sum(isinstance(item, PaperRecord) for item in there) == 40
    # The parsing process sends each record's content hash: the one the record has.
    for item in there:
        if isinstance(item, PaperRecord):
            assert item.content_hash() == dataclasses.replace(item).content_hash()
            assert item.content_hash() == item._compute_hash()
    assert [r.location for r in there if isinstance(r, Rejected)] == [f"{path}:21", f"{path}:23"]


def test_a_large_file_is_parsed_in_a_second_process_from_the_cli_only(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "small.jsonl", sample_records(2))
    assert SnapshotSource(path).parallel is False
    assert SnapshotSource(path, parallel=None).parallel is False  # too small to be worth it
    big = tmp_path / "big.jsonl"
    with big.open("wb") as f:
        f.truncate(snapshot.PARALLEL_MIN_BYTES)
    assert SnapshotSource(big, parallel=None).parallel is ((os.cpu_count() or 1) > 1)


@pytest.mark.parametrize("feature", [True, False])
def test_feature_flag_decides_whether_papers_reach_the_feed(
    db: Database, tmp_path: Path, feature: bool
) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", sample_records(5))
    summary = run_ingest(db, SnapshotSource(path, feature=feature))
    assert summary.featured == (5 if feature else 0)


def test_a_snapshot_records_papers_and_their_days_but_features_nothing_by_default(
    db: Database, tmp_path: Path
) -> None:
    """A bulk import must not turn a curated feed into every harvested paper (#11)."""
    records = sample_records(5)
    summary = run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "d.jsonl", records)))
    assert (summary.imported, summary.featured) == (5, 0)
    with db.read() as conn:
        counts = count_papers(conn)
        paper = get_paper(conn, records[0]["id"])
    assert (counts.papers, counts.featured_days, counts.feed_entries) == (5, 0, 0)
    assert paper is not None
    assert paper.record.announced == dt.date.fromisoformat(records[0]["first_seen"])


def test_the_snapshot_command_features_only_with_feature(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from paperfeed.cli import app

    path = write_jsonl(tmp_path / "d.jsonl", sample_records(4))
    env = {"PAPERFEED_DATA_DIR": str(tmp_path / "data"), "PAPERFEED_SEMANTIC_SEARCH": "false"}
    plain = CliRunner(env=env).invoke(app, ["ingest", "snapshot", str(path)])
    assert plain.exit_code == 0, plain.output
    assert "4 imported, 0 updated, 0 unchanged, 0 rejected; 0 newly featured" in plain.stdout
    featured = CliRunner(env=env).invoke(app, ["ingest", "snapshot", str(path), "--feature"])
    assert featured.exit_code == 0, featured.output
    assert "0 imported, 0 updated, 4 unchanged, 0 rejected; 4 newly featured" in featured.stdout


def test_kaggle_author_parts_of_any_length_are_read(db: Database, tmp_path: Path) -> None:
    # [] and ["Lovelace"] once raised ValueError and stopped the import (found by the
    # property test): a name has up to three parts, any of them missing.
    record = {
        **kaggle_line(sample_records(1)[0]),
        "authors_parsed": [[], ["Lovelace"], ["Turing", "Alan"], ["King", "Martin", "Jr", "x"]],
    }
    summary = run_ingest(db, SnapshotSource(write_jsonl(tmp_path / "k.jsonl", [record])))
    assert summary.imported == 1 and not summary.rejected
    with db.read() as conn:
        paper = get_paper(conn, record["id"])
    assert paper is not None
    assert paper.record.authors == ("Lovelace", "Alan Turing", "Martin King Jr")


def test_a_parsing_process_that_dies_keeps_what_was_read_and_says_why(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", sample_records(3))
    monkeypatch.setattr(snapshot, "CHUNK_LINES", "not a number")  # the process fails at once
    summary = run_ingest(db, SnapshotSource(path, parallel=True))
    assert summary.imported == 0
    assert [(r.location, r.reason) for r in summary.rejected] == [
        (str(path), "cannot read further: the parsing process stopped (exit code 1)")
    ]


def test_a_file_gone_before_the_parsing_process_opens_it_is_one_clear_rejection(
    db: Database, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", sample_records(3))
    source = SnapshotSource(path, parallel=True)
    path.unlink()
    summary = run_ingest(db, source)
    assert summary.imported == 0
    [rejected] = summary.rejected
    assert "No such file" in rejected.reason
