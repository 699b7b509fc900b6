"""The OAI-PMH source end to end: resumptionToken paging, deletions, errors and crash-resume."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.db.papers import count_papers, get_paper
from paperfeed.db.state import load_state
from paperfeed.ingest._http import FetchError
from paperfeed.ingest.base import Checkpoint, run_ingest
from paperfeed.ingest.oai_pmh import oai_source, split_authors
from paperfeed.ingest.snapshot import sample_path
from paperfeed.models import PaperRecord, PaperStatus, clean_text
from paperfeed.settings import Settings
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer, fixture

KEY = "cs/arXiv"
TOKEN = "7013571|1001"
LIST = {
    "verb": "ListRecords",
    "metadataPrefix": "arXiv",
    "from": "2026-03-12",
    "until": "2026-03-20",
    "set": "cs",
}
ALL_IDS = ["2603.12270", "2603.12271", "2603.12272", "2603.12382", "2603.12500"]


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
    set_spec: str | None = "cs",
    from_: dt.date | None = dt.date(2026, 3, 12),
    until: dt.date | None = dt.date(2026, 3, 20),
    prefix: str = "arXiv",
    feature: bool = False,
) -> Any:
    return oai_source(
        db=db,
        settings=settings,
        set_spec=set_spec,
        from_=from_,
        until=until,
        metadata_prefix=prefix,
        feature=feature,
        clock=clock,
    )


def state(db: Database, key: str = KEY) -> dict[str, Any] | None:
    with db.read() as conn:
        return load_state(conn, source="oai-pmh", key=key)


def stored(db: Database, paper_id: str) -> PaperRecord:
    with db.read() as conn:
        paper = get_paper(conn, paper_id, include_hidden=True)
    assert paper is not None
    return paper.record


def stored_ids(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(r[0] for r in conn.exec_driver_sql("SELECT paper_id FROM papers"))


def test_list_records_pages_through_the_resumption_token(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert (summary.imported, summary.rejected) == (5, [])
    first, second = server.requests
    assert first.path == "/oai2"
    assert first.params == LIST
    # A resumptionToken is an exclusive argument: nothing else goes with it.
    assert second.params == {"verb": "ListRecords", "resumptionToken": TOKEN}
    assert second.at - first.at == 3.0
    with db.read() as conn:
        counts = count_papers(conn)
    assert (counts.papers, counts.hidden) == (4, 1)
    assert state(db) == {"high_water": "2026-03-17"}


def test_the_arxiv_format_is_read(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    paper, real = stored(db, "2603.12271"), sample("2603.12271")
    assert paper.title == clean_text(real["title"])
    assert paper.abstract == clean_text(real["abstract"])
    assert paper.authors == tuple(real["authors"])  # forenames + keyname, in order
    assert paper.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert paper.primary_category == "cs.CL"
    assert paper.submitted == dt.datetime(2026, 3, 12)
    assert paper.updated == dt.datetime(2026, 3, 13)
    assert paper.version is None  # the arXiv format has no version numbers, and there is a v2
    assert paper.doi == "10.48550/arXiv.2603.12271"
    assert paper.journal_ref == "Findings of ACL 2026"
    assert paper.license == "http://creativecommons.org/licenses/by/4.0/"
    assert stored(db, "2603.12270").version == 1  # no <updated>: only v1 exists


def test_the_arxivraw_format_is_read(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_raw.xml")))
    summary = run_ingest(
        db, source(db, settings, clock, set_spec="physics:astro-ph", prefix="arXivRaw")
    )
    assert summary.imported == 2
    assert server.requests[0].params["metadataPrefix"] == "arXivRaw"
    assert server.requests[0].params["set"] == "physics:astro-ph"
    paper, real = stored(db, "2603.12322"), sample("2603.12322")
    assert paper.title == clean_text(real["title"])
    assert paper.authors == tuple(real["authors"])  # split from "A, B, C and D"
    assert paper.version == 2
    assert paper.submitted == dt.datetime(2026, 3, 12, 18, 30)
    assert paper.updated == dt.datetime(2026, 3, 16, 9, 41, 27)
    assert paper.categories == ("astro-ph.GA", "astro-ph.CO")
    assert paper.comment == real["comment"]
    assert "<" in stored(db, "2603.12379").abstract
    assert state(db, "physics:astro-ph/arXivRaw") == {"high_water": "2026-03-17"}


def test_a_deleted_record_for_an_unknown_id_is_stored_hidden(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    deleted = stored(db, "2603.12500")
    assert (deleted.status, deleted.title, deleted.abstract) == (PaperStatus.DELETED, "", "")
    with db.read() as conn:
        assert get_paper(conn, "2603.12500") is None


def test_a_deleted_record_hides_a_known_paper_and_keeps_its_text(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    deletion = fixture("oai_page2.xml").replace(b"2603.12500", b"2603.12270")
    server.serve(Reply(deletion))
    run_ingest(db, source(db, settings, clock, from_=None, until=None))
    paper = stored(db, "2603.12270")
    assert paper.status is PaperStatus.DELETED
    assert paper.title == clean_text(sample("2603.12270")["title"])


def test_feature_adds_each_paper_on_its_v1_day(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock, feature=True))
    assert summary.featured == 4  # the deleted record is not featured


def test_progress_follows_the_resumption_token(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    oai = source(db, settings, clock)
    assert (oai.name, oai.unit) == ("oai-pmh", "records")
    seen = [oai.progress() for item in oai.read() if isinstance(item, Checkpoint)]
    assert seen == [(3.0, 5.0), (5.0, 5.0)]


def test_a_second_run_starts_from_the_stored_high_water_date(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(fixture("oai_page2.xml")))
    run_ingest(db, source(db, settings, clock))
    server.serve(Reply(fixture("oai_no_records.xml")))
    summary = run_ingest(db, source(db, settings, clock, from_=None, until=None))
    assert server.requests[-1].params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": "2026-03-17",
        "set": "cs",
    }
    # noRecordsMatch is an empty result, not an error; the mark stays.
    assert (summary.imported, summary.rejected) == (0, [])
    assert state(db) == {"high_water": "2026-03-17"}


def test_a_first_run_without_from_harvests_the_whole_set(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_no_records.xml")))
    summary = run_ingest(db, source(db, settings, clock, from_=None, until=None))
    assert server.requests[0].params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs",
    }
    assert summary.rejected == []
    assert state(db) is None


def test_a_crash_after_page_one_resumes_from_the_stored_token(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    pages = iter([Reply(fixture("oai_page1.xml"))])
    server.route(lambda _: next(pages, Reply(b"down", status=500)))
    with pytest.raises(FetchError):
        run_ingest(db, source(db, settings, clock))
    assert stored_ids(db) == ["2603.12270", "2603.12271", "2603.12382"]
    assert state(db) == {
        "token": TOKEN,
        "from": "2026-03-12",
        "until": "2026-03-20",
        "set": "cs",
        "prefix": "arXiv",
        "high_water": "2026-03-16",
    }
    pages = iter([Reply(fixture("oai_page2.xml"))])
    requests_before = len(server.requests)
    summary = run_ingest(db, source(db, settings, clock, from_=None, until=None))
    assert server.requests[requests_before].params == {
        "verb": "ListRecords",
        "resumptionToken": TOKEN,
    }
    assert (summary.imported, summary.updated, summary.unchanged) == (2, 0, 0)
    assert stored_ids(db) == ALL_IDS  # every record exactly once
    assert state(db) == {"high_water": "2026-03-17"}


def test_a_crash_inside_the_process_after_the_first_checkpoint_resumes_too(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    class Crash(Exception):
        pass

    class CrashAfterFirstPage:
        def __init__(self, inner: Any) -> None:
            self.inner, self.name, self.unit = inner, inner.name, inner.unit

        def progress(self) -> tuple[float, float | None]:
            return self.inner.progress()  # type: ignore[no-any-return]

        def read(self) -> Any:
            for item in self.inner.read():
                yield item
                if isinstance(item, Checkpoint):
                    raise Crash

    server.serve(Reply(fixture("oai_page1.xml")))
    with pytest.raises(Crash):
        run_ingest(db, CrashAfterFirstPage(source(db, settings, clock)))
    assert (state(db) or {})["token"] == TOKEN
    server.serve(Reply(fixture("oai_page2.xml")))
    run_ingest(db, source(db, settings, clock))  # the same window given again resumes too
    assert server.requests[-1].params == {"verb": "ListRecords", "resumptionToken": TOKEN}
    assert stored_ids(db) == ALL_IDS


def test_an_expired_token_falls_back_to_the_stored_window(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(b"<OAI-PMH"))
    run_ingest(db, source(db, settings, clock))
    assert (state(db) or {})["token"] == TOKEN
    server.serve(
        Reply(fixture("oai_bad_token.xml")),
        Reply(fixture("oai_page1.xml")),
        Reply(fixture("oai_page2.xml")),
    )
    summary = run_ingest(db, source(db, settings, clock, from_=None, until=None))
    params = [r.params for r in server.requests[2:]]
    assert params == [
        {"verb": "ListRecords", "resumptionToken": TOKEN},
        LIST,
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]
    assert (summary.imported, summary.unchanged, summary.rejected) == (2, 3, [])
    assert stored_ids(db) == ALL_IDS


def test_a_different_window_starts_afresh_instead_of_resuming(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_page1.xml")), Reply(b"garbage"))
    run_ingest(db, source(db, settings, clock))
    server.serve(Reply(fixture("oai_no_records.xml")))
    run_ingest(db, source(db, settings, clock, from_=dt.date(2026, 3, 17)))
    assert server.requests[-1].params == {**LIST, "from": "2026-03-17"}


def test_other_oai_errors_are_reported_and_end_the_run(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("oai_bad_argument.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    [rejected] = summary.rejected
    assert rejected.reason == "OAI-PMH error badArgument: Illegal argument(s): from"
    assert rejected.location.startswith(settings.oai_pmh_url + "?verb=ListRecords")
    assert len(server.requests) == 1


def test_503_with_retry_after_is_honoured(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(
        Reply(b"Retry later", status=503, headers={"Retry-After": "7"}),
        Reply(fixture("oai_page1.xml")),
        Reply(b"", status=503, headers={"Retry-After": "30"}),
        Reply(fixture("oai_page2.xml")),
    )
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 5
    assert clock.sleeps == [7.0, 3.0, 30.0]


def test_a_connection_dropped_mid_page_is_fetched_again(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    page = fixture("oai_page2.xml")
    server.serve(
        Reply(fixture("oai_page1.xml")), Reply(page, cut_after=len(page) // 3), Reply(page)
    )
    summary = run_ingest(db, source(db, settings, clock))
    assert (summary.imported, summary.rejected) == (5, [])


@pytest.mark.timeout(10)
@pytest.mark.parametrize("payload", ["xxe.xml", "billion_laughs.xml"])
def test_unsafe_xml_is_refused_and_nothing_imported_from_it(
    payload: str, db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture(payload)))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 0
    [rejected] = summary.rejected
    assert rejected.reason.startswith("refused unsafe XML: the page declares a DTD")
    assert stored_ids(db) == []


def test_a_bad_record_is_rejected_and_the_rest_of_the_page_imported(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    page = fixture("oai_page1.xml").replace(
        b"<identifier>oai:arXiv.org:2603.12271</identifier>", b"<identifier>nonsense</identifier>"
    )
    server.serve(Reply(page), Reply(fixture("oai_page2.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert summary.imported == 4
    [rejected] = summary.rejected
    assert rejected.location.endswith("record 2")
    assert rejected.reason == "not an arXiv identifier: 'nonsense'"


def test_a_page_that_is_not_oai_pmh_is_rejected(
    db: Database, settings: Settings, server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(fixture("api_page1.xml")))
    summary = run_ingest(db, source(db, settings, clock))
    assert "expected an <OAI-PMH> response" in summary.rejected[0].reason


def test_sets_and_formats_are_checked(db: Database, settings: Settings) -> None:
    for kwargs in ({"set_spec": "cs&verb=Identify"}, {"metadata_prefix": "oai_dc"}):
        with pytest.raises(ValueError):
            oai_source(
                db=db,
                settings=settings,
                **{"set_spec": "cs", "from_": None, "until": None, **kwargs},  # type: ignore[arg-type]
            )


def test_split_authors_drops_affiliations_and_their_commas() -> None:
    assert split_authors("C. Bal\\'azs, E. L. Berger (ANL, Chicago), and C.-P. Yuan") == (
        "C. Bal\\'azs",
        "E. L. Berger",
        "C.-P. Yuan",
    )
    assert split_authors("A. Smith and B. Jones") == ("A. Smith", "B. Jones")
