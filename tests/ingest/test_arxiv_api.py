"""The arXiv API source end to end: a real local server, a real store, a fake clock."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import sys
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.db.papers import get_paper
from paperfeed.db.state import load_state
from paperfeed.ingest._http import FetchError, PoliteClient
from paperfeed.ingest.arxiv_api import ArxivApiSource, arxiv_source, search_query
from paperfeed.ingest.base import Checkpoint, run_ingest
from paperfeed.ingest.snapshot import sample_path
from paperfeed.models import PaperStatus, clean_text
from paperfeed.settings import Settings
from tests.ingest.conftest import FIXTURES, FakeClock, Reply, ScriptedServer, fixture

KEY = "cs.AI,cs.CL"
WINDOW = "(cat:cs.AI OR cat:cs.CL) AND lastUpdatedDate:[202603120000 TO 202603202359]"
PAGE_IDS = ["2603.12270", "2603.12271", "2603.12273", "2603.12382", "2603.12500", "2603.12272"]


def sample(paper_id: str) -> dict[str, Any]:
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["id"] == paper_id:
                return dict(record)
    raise KeyError(paper_id)


def source(
    db: Database,
    settings: Settings,
    clock: FakeClock,
    *,
    since: dt.date | None = dt.date(2026, 3, 12),
    until: dt.date | None = dt.date(2026, 3, 20),
    feature: bool = False,
) -> Any:
    return arxiv_source(
        db=db,
        settings=settings,
        categories=["cs.CL", "cs.AI"],
        since=since,
        until=until,
        feature=feature,
        clock=clock,
        page_size=3,
    )


def state(db: Database) -> dict[str, Any] | None:
    with db.read() as conn:
        return load_state(conn, source="arxiv-api", key=KEY)


def stored_ids(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(r[0] for r in conn.exec_driver_sql("SELECT paper_id FROM papers"))


def test_pages_are_imported_end_to_end(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert (summary.imported, summary.rejected) == (6, [])
    assert stored_ids(db) == sorted(PAGE_IDS)
    first, second = server.requests
    assert first.path == "/api/query"
    assert first.params == {
        "search_query": WINDOW,
        "start": "0",
        "max_results": "3",
        "sortBy": "lastUpdatedDate",
        "sortOrder": "ascending",
    }
    assert second.params["start"] == "3"
    assert second.at - first.at == 3.0  # arXiv's one request per 3 s, on the fake clock
    assert state(db) == {"high_water": "2026-03-14T20:07:31"}


def test_entries_are_read_from_the_atom_wire_format(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    with db.read() as conn:
        stored = get_paper(conn, "2603.12271")
        cross_listed = get_paper(conn, "2603.12382")
    assert stored is not None and cross_listed is not None
    paper, real = stored.record, sample("2603.12271")
    assert paper.title == clean_text(real["title"])  # the fixture wraps it at 80 columns
    assert paper.abstract == clean_text(real["abstract"])
    assert paper.authors == tuple(real["authors"])
    assert paper.version == 2
    assert paper.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert paper.primary_category == "cs.CL"
    assert paper.submitted == dt.datetime(2026, 3, 12, 18, 0, 5)  # -04:00 read as UTC
    assert paper.updated == dt.datetime(2026, 3, 13, 9, 12, 44)
    assert paper.doi == "10.48550/arXiv.2603.12271"
    assert paper.journal_ref == "Findings of ACL 2026"
    assert paper.status is PaperStatus.ACTIVE
    assert cross_listed.record.primary_category == "cs.CV"
    assert cross_listed.record.comment == sample("2603.12382")["comment"]
    assert "&" in cross_listed.record.abstract


def test_progress_counts_records_against_total_results(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_page2.xml")))
    arxiv = source(db, settings, clock)
    assert (arxiv.name, arxiv.unit, arxiv.progress()) == ("arxiv-api", "records", (0.0, None))
    seen = []
    for item in arxiv.read():
        if isinstance(item, Checkpoint):
            seen.append(arxiv.progress())
    assert seen == [(3.0, 6.0), (6.0, 6.0)]


def test_feature_adds_each_paper_on_its_v1_day(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock, feature=True))
    assert summary.featured == 6
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT day, count(*) FROM feed_entries WHERE source = 'arxiv-api' GROUP BY day"
        ).all()
    assert sorted((str(day), n) for day, n in rows) == [("2026-03-12", 3), ("2026-03-13", 3)]


def test_a_second_run_starts_from_the_stored_high_water_mark(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    server.serve(Reply(fixture("api_incremental.xml")))
    summary = run_ingest(db, source(db, settings, clock, since=None, until=dt.date(2026, 3, 22)))
    query = server.requests[-1].params["search_query"]
    assert query == "(cat:cs.AI OR cat:cs.CL) AND lastUpdatedDate:[202603142007 TO 202603222359]"
    assert server.requests[-1].params["start"] == "0"
    assert (summary.imported, summary.updated) == (1, 1)
    with db.read() as conn:
        withdrawn = get_paper(conn, "2603.12270", include_hidden=True)
        assert get_paper(conn, "2603.12270") is None  # withdrawn papers are hidden
    assert withdrawn is not None
    assert (withdrawn.record.version, withdrawn.record.status) == (2, PaperStatus.WITHDRAWN)
    assert state(db) == {"high_water": "2026-03-16T10:20:00"}


def test_a_first_run_without_since_fetches_the_last_week(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_incremental.xml")))
    run_ingest(db, source(db, settings, clock, since=None, until=dt.date(2026, 3, 20)))
    assert (
        "lastUpdatedDate:[202603130000 TO 202603202359]"
        in (server.requests[0].params["search_query"])
    )


def test_a_malformed_page_is_rejected_and_the_next_run_resumes_there(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    broken = fixture("api_page2.xml")[:700]
    server.serve(Reply(fixture("api_page1.xml")), Reply(broken))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 3
    [rejected] = summary.rejected
    assert "start=3" in rejected.location
    assert rejected.reason.startswith("malformed XML")
    assert len(server.requests) == 2  # a malformed page is not fetched again in this run
    assert state(db) == {
        "high_water": "2026-03-13T11:30:00",
        "window": {"from": "202603120000", "to": "202603202359"},
        "start": 3,
    }
    server.serve(Reply(fixture("api_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock, since=None, until=None))
    resumed = server.requests[-1].params
    assert (resumed["search_query"], resumed["start"]) == (WINDOW, "3")
    assert (summary.imported, summary.rejected) == (3, [])
    assert stored_ids(db) == sorted(PAGE_IDS)
    assert state(db) == {"high_water": "2026-03-14T20:07:31"}


def test_the_same_window_given_again_resumes_at_the_stored_page(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")), Reply(b"<feed"))
    run_ingest(db, source(db, settings, clock))
    server.serve(Reply(fixture("api_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    assert server.requests[-1].params["start"] == "3"


def test_a_bad_entry_is_rejected_and_the_rest_of_the_page_imported(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_bad_entry.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 2
    [rejected] = summary.rejected
    assert rejected.location.endswith("entry 2")
    assert rejected.reason == "not an arXiv id: 'http://arxiv.org/abs/not-an-id'"
    assert stored_ids(db) == ["2603.12270", "2603.12273"]


@pytest.mark.timeout(10)
def test_a_billion_laughs_page_is_refused_and_nothing_imported(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("billion_laughs.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 0
    [rejected] = summary.rejected
    assert "refused unsafe XML" in rejected.reason and "<!DOCTYPE lolz>" in rejected.reason
    assert stored_ids(db) == []
    assert state(db) is None


def test_an_external_entity_page_is_refused(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    xxe = fixture("xxe.xml").replace(b"OAI-PMH", b"feed")
    server.serve(Reply(fixture("api_page1.xml")), Reply(xxe))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 3  # page 1 only
    assert "refused unsafe XML" in summary.rejected[0].reason
    assert "passwd" not in json.dumps(state(db))


def test_an_api_error_entry_is_reported_without_retrying(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_error.xml"), status=400))
    summary = run_ingest(db, source(db, settings, clock))
    [rejected] = summary.rejected
    assert rejected.location.startswith(settings.arxiv_api_url + "?search_query=")
    assert rejected.reason == "arXiv API error: max_results must be an integer"
    assert len(server.requests) == 1


def test_503_with_retry_after_mid_run_waits_and_continues(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(
        Reply(fixture("api_page1.xml")),
        Reply(b"", status=503, headers={"Retry-After": "20"}),
        Reply(fixture("api_page2.xml")),
    )
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 6
    assert clock.sleeps == [3.0, 20.0]


def test_a_connection_dropped_mid_page_is_fetched_again(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    page = fixture("api_page1.xml")
    server.serve(
        Reply(page, cut_after=len(page) // 2), Reply(page), Reply(fixture("api_page2.xml"))
    )
    summary = run_ingest(db, source(db, settings, clock))
    assert (summary.imported, summary.rejected) == (6, [])
    assert [r.params["start"] for r in server.requests] == ["0", "0", "3"]


def test_a_network_failure_raises_and_keeps_the_pages_before_it(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    pages = iter([Reply(fixture("api_page1.xml"))])
    server.route(lambda _: next(pages, Reply(b"down", status=502)))
    with pytest.raises(FetchError, match="gave up after 4 attempts"):
        run_ingest(db, source(db, settings, clock))
    assert stored_ids(db) == ["2603.12270", "2603.12271", "2603.12273"]
    assert (state(db) or {})["start"] == 3
    assert clock.sleeps == [3.0, 4.0, 8.0, 16.0]


def test_an_empty_page_in_the_middle_is_asked_for_again(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    empty = fixture("api_page2.xml").split(b"  <entry>")[0] + b"</feed>\n"
    server.serve(Reply(fixture("api_page1.xml")), Reply(empty), Reply(fixture("api_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 6
    assert [r.params["start"] for r in server.requests] == ["0", "3", "3"]


def test_empty_pages_that_persist_stop_the_run_for_the_next_one(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    empty = fixture("api_page2.xml").split(b"  <entry>")[0] + b"</feed>\n"
    server.serve(Reply(fixture("api_page1.xml")), *[Reply(empty)] * 3)
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 3
    assert "empty page at start=3 although totalResults=6" in summary.rejected[0].reason
    assert (state(db) or {})["start"] == 3


def test_results_past_arxivs_cap_continue_with_a_query_from_the_high_water_mark(
    db: Database, server: ScriptedServer, clock: FakeClock
) -> None:
    arxiv = ArxivApiSource(
        http=PoliteClient(min_interval_s=3.0, timeout_s=5.0, retries=0, clock=clock),
        url=server.url + "/api/query",
        categories=("cs.AI", "cs.CL"),
        key=KEY,
        begin="202603120000",
        end="202603202359",
        page_size=3,
        max_start=5,
    )
    server.serve(Reply(fixture("api_page1.xml")), Reply(fixture("api_incremental.xml")))
    summary = run_ingest(db, arxiv)
    assert summary.imported == 4
    assert server.requests[1].params["search_query"] == (
        "(cat:cs.AI OR cat:cs.CL) AND lastUpdatedDate:[202603131130 TO 202603202359]"
    )
    assert server.requests[1].params["start"] == "0"


def test_categories_are_checked_before_they_reach_the_query(
    db: Database, settings: Settings
) -> None:
    for bad in (["cs.CL) OR all:x"], [], ["cs.CL", "cat:cs.AI"]):
        with pytest.raises(ValueError):
            arxiv_source(db=db, settings=settings, categories=bad, since=None, until=None)


def test_search_query_sorts_nothing_and_quotes_nothing() -> None:
    assert search_query(("hep-th",), begin="202601010000", end="202601012359") == (
        "(cat:hep-th) AND lastUpdatedDate:[202601010000 TO 202601012359]"
    )


def test_the_canned_pages_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("build_fixtures", FIXTURES / "build_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_fixtures"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["build_fixtures"]
    for name, content in module.build().items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == content, (
            f"{name} is stale: run .venv/bin/python tests/fixtures/arxiv/build_fixtures.py"
        )
