"""Hostile records in every source: each is rejected alone, with its place and reason (#9)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.db.papers import count_papers, get_paper
from paperfeed.ingest.arxiv_api import arxiv_source
from paperfeed.ingest.base import SourceItem, run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.ingest.oai_pmh import oai_source
from paperfeed.ingest.snapshot import MAX_LINE, SnapshotSource
from paperfeed.models import Featuring, PaperRecord
from paperfeed.settings import Settings
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer, fixture
from tests.ingest.test_snapshot import kaggle_line, sample_records, write_jsonl

DEEP = "[" * 200_000 + "]" * 200_000  # 400 KB: json.loads raises RecursionError


def hostile_lines(good: dict[str, Any]) -> list[tuple[str, bytes]]:
    """(what it is, the raw line) for each hostile JSONL line, built on a real record."""

    def line(**changes: Any) -> bytes:
        return json.dumps({**good, **changes}).encode()

    return [
        (
            "escaped lone surrogate",
            line(id="2603.99991", title="bad \\ud800").replace(b"\\\\", b"\\"),
        ),
        (
            "raw lone surrogate",
            line(id="2603.99992").replace(b'"title": "', b'"title": "\xed\xa0\x80'),
        ),
        ("deep nesting", DEEP.encode()),
        (
            "deep nesting in a field",
            line(id="2603.99993").replace(b'"title"', f'"x": {DEEP}, "title"'.encode()),
        ),
        ("integer beyond 64 bits", line(id="2603.99994v99999999999999999999")),
        ("integer beyond int() digits", b'{"id": ' + b"9" * 5000 + b"}"),
        ("a path as id", line(id="../../dev/mailbox")),
        ("wrong types", line(id="2603.99995", title=["a"], authors="x")),
        ("not an object", b"[1, 2, 3]"),
        ("bad UTF-8", b'{"id": "2603.99996", "title": "\xff\xfe"}'),
        ("NUL in id", line(id="2603\x0099997")),
    ]


def test_hostile_snapshot_lines_are_rejected_alone_and_the_rest_imported(
    db: Database, tmp_path: Path
) -> None:
    good = sample_records(30)
    hostile = hostile_lines(good[0])
    path = tmp_path / "hostile.jsonl"
    with path.open("wb") as f:
        for i, record in enumerate(good):
            f.write(json.dumps(record).encode() + b"\n")
            if i < len(hostile):
                f.write(hostile[i][1] + b"\n")
    summary = run_ingest(db, SnapshotSource(path), batch_size=7)
    assert summary.imported == len(good)
    assert len(summary.rejected) == len(hostile)
    # Each good line i sits at line 2i+1, each hostile line right after it.
    assert [r.location for r in summary.rejected] == [
        f"{path}:{2 * i + 2}" for i in range(len(hostile))
    ]
    reasons = " | ".join(r.reason for r in summary.rejected)
    assert "surrogate" in reasons and "nested too deeply" in reasons and "paper id" in reasons
    with db.read() as conn:
        assert count_papers(conn).papers == len(good)


def test_hostile_kaggle_lines_are_rejected_alone(db: Database, tmp_path: Path) -> None:
    good = [kaggle_line(r) for r in sample_records(3)]
    huge = {**good[0], "id": "2603.99990"}
    huge["versions"] = [{"version": "v" + "9" * 30, "created": "Mon, 16 Mar 2026 17:51:00 GMT"}]
    surrogate = {**good[0], "id": "2603.99988", "authors_parsed": [["\ud800", "A", ""]]}
    path = write_jsonl(tmp_path / "kaggle.jsonl", [good[0], huge, good[1], surrogate, good[2]])
    summary = run_ingest(db, SnapshotSource(path))
    assert summary.imported == 3
    assert [r.location.rsplit(":", 1)[1] for r in summary.rejected] == ["2", "4"]


def test_hostile_hf_daily_lines_are_rejected_alone(db: Database, tmp_path: Path) -> None:
    def entry(paper_id: str, **changes: Any) -> dict[str, Any]:
        return {
            "id": paper_id,
            "title": "A title",
            "abstract": "An abstract.",
            "published": "2024-01-02T00:00:00Z",
            "upvotes": 3,
            **changes,
        }

    lines: list[Any] = [
        entry("2401.00001"),
        entry("2401.00002", upvotes=2**70),
        entry("2401.00003", title="bad \ud800"),
        DEEP,
        entry("2401.00004", published="0001-01-01T00:00:00+01:00"),
        entry("../../dev/mailbox"),
        entry("2401.00005"),
    ]
    path = tmp_path / "hf.jsonl"
    path.write_bytes(
        b"".join(
            (x if isinstance(x, str) else json.dumps(x)).encode("utf-8", "surrogatepass") + b"\n"
            for x in lines
        )
    )
    summary = run_ingest(db, HfDailySource(path))
    assert (summary.imported, summary.featured) == (2, 2)
    assert [r.location.rsplit(":", 1)[1] for r in summary.rejected] == ["2", "3", "4", "5", "6"]
    # The same in one JSON array: the deep line is left out (an array of it is one bad file).
    array = tmp_path / "hf.json"
    array.write_bytes(
        json.dumps([x for x in lines if not isinstance(x, str)]).encode("utf-8", "surrogatepass")
    )
    again = run_ingest(db, HfDailySource(array))
    assert len(again.rejected) == 4
    assert [r.location.rsplit(":", 1)[1] for r in again.rejected] == [
        "entry 2",
        "entry 3",
        "entry 4",
        "entry 5",
    ]


def test_a_deeply_nested_hf_daily_array_is_one_rejection(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP, encoding="utf-8")
    summary = run_ingest(db, HfDailySource(path))
    assert summary.imported == 0
    assert [r.reason for r in summary.rejected] == ["invalid JSON: nested too deeply"]


def hostile_atom(body: bytes) -> bytes:
    """Give the second entry of the canned Atom page a huge version and the third a path id."""
    entries = body.split(b"<entry>")
    assert len(entries) == 4
    entries[2] = entries[2].replace(b"2603.12271v2</id>", b"2603.12271v" + b"9" * 5000 + b"</id>")
    start = entries[3].index(b"<id>") + 4
    end = entries[3].index(b"</id>")
    entries[3] = entries[3][:start] + b"http://arxiv.org/abs/../../dev/mailbox" + entries[3][end:]
    return b"<entry>".join(entries)


def test_hostile_arxiv_api_entries_are_rejected_alone(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(hostile_atom(fixture("api_page1.xml"))), Reply(fixture("api_page2.xml")))
    source = arxiv_source(
        db=db,
        settings=settings,
        categories=["cs.CL", "cs.AI"],
        since=dt.date(2026, 3, 12),
        until=dt.date(2026, 3, 20),
        clock=clock,
        page_size=3,
    )
    summary = run_ingest(db, source)
    assert [r.location.rsplit(" ", 1)[1] for r in summary.rejected] == ["2", "3"]
    assert summary.imported == 4


def hostile_oai(body: bytes) -> bytes:
    """Give the first record a version of 5,000 digits in an arXivRaw-like id of the header."""
    return body.replace(b"oai:arXiv.org:2603.12270", b"oai:arXiv.org:2603.12270v" + b"9" * 5000, 1)


def test_hostile_oai_records_are_rejected_alone(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    page1 = fixture("oai_page1.xml")
    assert b"oai:arXiv.org:2603.12270" in page1
    server.serve(Reply(hostile_oai(page1)), Reply(fixture("oai_page2.xml")))
    summary = run_ingest(
        db,
        oai_source(
            db=db,
            settings=settings,
            set_spec="cs",
            from_=dt.date(2026, 3, 12),
            until=dt.date(2026, 3, 20),
            clock=clock,
        ),
    )
    assert len(summary.rejected) == 1 and summary.rejected[0].location.endswith("record 1")
    assert summary.imported == 4


def test_oai_stops_when_the_server_repeats_its_resumption_token(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    page1 = fixture("oai_page1.xml")
    server.route(lambda _: Reply(page1))  # the same page, and so the same token, for ever
    summary = run_ingest(
        db,
        oai_source(
            db=db,
            settings=settings,
            set_spec="cs",
            from_=dt.date(2026, 3, 12),
            until=dt.date(2026, 3, 20),
            clock=clock,
        ),
    )
    assert len(server.requests) == 2
    assert [r.reason for r in summary.rejected] == [
        "stopped: the server sent resumptionToken '7013571|1001' again, so the list would never end"
    ]
    assert summary.imported == 3


def test_an_over_long_line_is_never_held_whole(db: Database, tmp_path: Path) -> None:
    good = sample_records(2)
    path = tmp_path / "long.jsonl"
    with path.open("wb") as f:
        f.write(json.dumps(good[0]).encode() + b"\n")
        f.write(b'{"title": "' + b"x" * (30 * MAX_LINE) + b'"}\n')
        f.write(json.dumps(good[1]).encode() + b"\n")
    tracemalloc.start()
    try:
        summary = run_ingest(db, SnapshotSource(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.imported == 2
    assert [(r.location, r.reason) for r in summary.rejected] == [
        (f"{path}:2", f"line longer than {MAX_LINE} bytes")
    ]
    assert peak < 6 * MAX_LINE  # not the 30 MB line


class RecordsSource:
    """A source yielding given items, as an outside plug-in might."""

    name = "plug-in"
    unit = "records"

    def __init__(self, items: list[SourceItem]) -> None:
        self.items = items

    def read(self) -> Iterator[SourceItem]:
        yield from self.items

    def progress(self) -> tuple[float, float | None]:
        return 0.0, None


def test_run_ingest_rejects_what_a_source_lets_through_and_keeps_the_batch(
    db: Database,
) -> None:
    def paper(paper_id: str, **changes: Any) -> PaperRecord:
        return PaperRecord(**{"paper_id": paper_id, "title": "T", "abstract": "A", **changes})

    day = dt.date(2026, 3, 16)
    items: list[SourceItem] = [
        paper("2603.00001"),
        paper("2603.00002", version=2**70),
        paper("2603.00003", title="bad \ud800"),
        paper("../../dev/mailbox"),
        paper("2603.00004"),
        Featuring("2603.00004", day, source="plug-in", upvotes=2**64),
        # Passes every check but fails in the store (no such paper): the batch is stored
        # again row by row and only this featuring is rejected.
        Featuring("2603.09999", day, source="plug-in"),
        Featuring("2603.00001", day, source="plug-in"),
    ]
    summary = run_ingest(db, RecordsSource(items))
    assert (summary.imported, summary.featured) == (2, 1)
    assert [r.location for r in summary.rejected] == [
        "plug-in: paper '2603.00002'",
        "plug-in: paper '2603.00003'",
        "plug-in: paper '../../dev/mailbox'",
        "plug-in: paper '2603.00004'",
        "plug-in: paper '2603.09999'",
    ]
    with db.read() as conn:
        assert get_paper(conn, "2603.00001") is not None
        assert get_paper(conn, "2603.00004") is not None


def test_a_crash_exits_70_not_1(tmp_path: Path) -> None:
    """An unexpected exception is a bug: it must not pass for "some records were rejected"."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "paperfeed.db").write_bytes(b"this is not a SQLite database" * 100)
    snapshot = write_jsonl(tmp_path / "a.jsonl", sample_records(2))
    result = subprocess.run(
        [sys.executable, "-m", "paperfeed", "ingest", "snapshot", str(snapshot)],
        capture_output=True,
        text=True,
        env={"PAPERFEED_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", **_pythonpath()},
        timeout=120,
        check=False,
    )
    assert result.returncode == 70, result.stderr[-2000:]
    assert "Traceback" in result.stderr


def _pythonpath() -> dict[str, str]:
    import os

    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


@pytest.mark.parametrize("line_end", [b"\n", b""])
def test_a_line_of_exactly_the_limit_is_read(db: Database, tmp_path: Path, line_end: bytes) -> None:
    record = sample_records(1)[0]
    text = json.dumps(record).encode()
    padded = text[:-1] + b" " * (MAX_LINE - len(text)) + b"}"
    assert len(padded) == MAX_LINE
    path = tmp_path / "edge.jsonl"
    path.write_bytes(padded + line_end)
    summary = run_ingest(db, SnapshotSource(path))
    assert (summary.imported, summary.rejected) == (1, [])


@pytest.mark.slow
def test_a_snapshot_with_hostile_lines_throughout_imports_every_good_paper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The must-show of #9, scaled down: real papers, a hostile line every 200 lines, one run."""
    from typer.testing import CliRunner

    from paperfeed.cli import app
    from paperfeed.hub import Hub
    from paperfeed.settings import Settings as HubSettings

    good = sample_records(2_027)
    hostile = [line for _, line in hostile_lines(good[0])]
    path = tmp_path / "hostile.jsonl.gz"
    expected: list[int] = []
    with gzip.open(path, "wb") as f:
        number = 0
        for i, record in enumerate(good):
            if i and i % 200 == 0:
                number += 1
                f.write(hostile[(i // 200) % len(hostile)] + b"\n")
                expected.append(number)
            number += 1
            f.write(json.dumps(record).encode() + b"\n")
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    errors = tmp_path / "errors.tsv"
    result = CliRunner().invoke(app, ["ingest", "snapshot", str(path), "--errors", str(errors)])
    assert result.exit_code == 1, result.stderr
    assert f"2,027 imported, 0 updated, 0 unchanged, {len(expected)} rejected" in result.stdout
    listed = [line.split("\t")[0] for line in errors.read_text(encoding="utf-8").splitlines()]
    assert listed == [f"{path}:{n}" for n in expected]
    hub = Hub.from_settings(HubSettings(data_dir=tmp_path / "data", semantic_search=False))
    try:
        assert hub.search_index.keyword.count() == 2_027  # searchable, nothing to rebuild
    finally:
        hub.close()
