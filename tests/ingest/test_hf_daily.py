"""Hugging Face daily papers: the real 2024 fixture and the /api/daily_papers shape."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from paperfeed.db import Database
from paperfeed.db.feed import papers_for_day
from paperfeed.db.papers import count_papers, get_paper
from paperfeed.ingest import hf_daily
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource

FIXTURE = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"


def test_the_real_fixture_imports_papers_days_and_upvotes(db: Database) -> None:
    summary = run_ingest(db, HfDailySource(FIXTURE))
    assert (summary.imported, summary.featured, len(summary.rejected)) == (753, 753, 0)
    with db.read() as conn:
        counts = count_papers(conn)
        zero_bubble = get_paper(conn, "2401.10241")
        day = papers_for_day(conn, dt.date(2023, 11, 30))
    assert counts.papers == 753
    assert (counts.first_day, counts.last_day) == (dt.date(2023, 11, 30), dt.date(2024, 4, 5))
    assert zero_bubble is not None
    assert zero_bubble.record.title == "Zero Bubble Pipeline Parallelism"
    assert zero_bubble.record.authors is not None and zero_bubble.record.authors[0] == "Penghui Qi"
    assert [i.upvotes for i in day] == sorted((i.upvotes for i in day), reverse=True)
    assert ("2401.10241", 19) in [(i.paper.paper_id, i.upvotes) for i in day]
    again = run_ingest(db, HfDailySource(FIXTURE))
    assert (again.imported, again.updated, again.featured) == (0, 0, 0)


def test_the_api_shape_is_read_from_a_json_array(db: Database, tmp_path: Path) -> None:
    entries = [
        {
            "paper": {
                "id": "2401.10241",
                "title": "Zero Bubble Pipeline Parallelism",
                "summary": "Pipeline parallelism is one of the key components.",
                "authors": [{"_id": "x", "name": "Penghui Qi", "hidden": False}],
                "publishedAt": "2023-11-30T10:40:34.000Z",
                "upvotes": 19,
            },
            "publishedAt": "2024-01-19T02:00:00.000Z",
            "title": "Zero Bubble Pipeline Parallelism",
            "submittedBy": {"name": "akhaliq"},
            "numComments": 2,
        },
        {"paper": {"id": "2401.99999", "title": "No date"}, "title": "No date"},
    ]
    path = tmp_path / "daily_papers.json"
    path.write_text(json.dumps(entries))
    summary = run_ingest(db, HfDailySource(path))
    assert summary.imported == 1
    assert [r.reason for r in summary.rejected] == [
        "missing 'publishedAt' (the day the paper was featured)"
    ]
    with db.read() as conn:
        items = papers_for_day(conn, dt.date(2024, 1, 19))
    assert [(i.paper.paper_id, i.upvotes, i.source) for i in items] == [
        ("2401.10241", 19, "hf-daily")
    ]
    assert items[0].paper.submitted == dt.datetime(2023, 11, 30, 10, 40, 34)
    assert items[0].paper.authors == ("Penghui Qi",)


def test_bad_entries_are_rejected_with_their_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "daily.jsonl"
    entry = {"title": "T", "abstract": "A", "published": "2024-01-01"}
    lines = [
        json.dumps({**entry, "id": "2401.1", "upvotes": -3}),
        "not json",
        json.dumps({**entry, "id": "2401.2", "upvotes": 3}),
    ]
    path.write_text("\n".join(lines) + "\n")
    summary = run_ingest(db, HfDailySource(path))
    assert summary.imported == 1
    assert [(r.location, r.reason[:12]) for r in summary.rejected] == [
        (f"{path}:1", "'upvotes' mu"),
        (f"{path}:2", "invalid JSON"),
    ]


def test_a_json_array_over_the_limit_is_refused_without_reading_it_whole(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf_daily, "MAX_ARRAY", 1024)
    path = tmp_path / "big.json"
    entry = {"paper": {"id": "2404.00001", "title": "T" * 200, "upvotes": 1}}
    path.write_text(json.dumps([entry] * 50))
    summary = run_ingest(db, HfDailySource(path))
    assert summary.imported == 0
    assert len(summary.rejected) == 1
    assert "write it as JSONL" in summary.rejected[0].reason
