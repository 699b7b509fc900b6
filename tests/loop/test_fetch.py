"""The fetch job against a fake arXiv on 127.0.0.1: the day's listing stored with days and
kinds, once; a late listing, a holiday and a 503 retried; nothing featured by fetch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from paperfeed.db.announcements import announced_on
from paperfeed.db.jobs import get_run
from paperfeed.db.papers import get_paper
from paperfeed.db.schema import feed_entries, papers
from paperfeed.hub import Hub
from paperfeed.ingest.fake_arxiv import day_listing
from paperfeed.loop.worker import run_due
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer
from tests.loop.conftest import ANNOUNCED, TUESDAY, FakeArxiv

FETCH_ONLY: dict[str, Any] = {"auto_feature": "none"}


def test_fetch_stores_each_paper_with_its_announcement_day_and_kind(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    done = run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    fetch = done.outcomes[0]
    assert (fetch.job, fetch.period, fetch.state) == ("fetch", "2026-03-17", "done")
    expected = day_listing("cs.CL", TUESDAY)
    kinds = {"new": "new", "cross": "cross-list", "replace": "replacement"}
    with hub.db.read() as conn:
        listed = announced_on(conn, TUESDAY)
        assert {(a.paper_id, a.kind) for a in listed} == {(r["id"], kinds[k]) for r, k in expected}
        new_one = next(r for r, k in expected if k == "new")
        stored = get_paper(conn, new_one["id"])
        assert stored is not None and stored.record.announced == TUESDAY
        assert stored.record.title == new_one["title"]
        assert stored.record.authors == tuple(new_one["authors"])
        replaced = next(r for r, k in expected if k == "replace")
        again = get_paper(conn, replaced["id"])
        assert again is not None and again.record.version == 2
    assert fetch.counts is not None
    assert fetch.counts["new"] == sum(k == "new" for _, k in expected) > 50
    assert fetch.counts["cross-list"] == sum(k == "cross" for _, k in expected) > 10
    assert fetch.counts["replacement"] == 3


def test_fetch_features_nothing_by_itself(make_hub: Any, http_clock: FakeClock) -> None:
    hub = make_hub(**FETCH_ONLY)
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    with hub.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(feed_entries)) == 0
        assert conn.scalar(select(func.count()).select_from(papers)) > 50


def test_a_second_pass_fetches_nothing_again(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    server, _fake = arxiv
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    requests = len(server.requests)
    later = run_due(hub, now=ANNOUNCED + dt.timedelta(hours=1), http_clock=http_clock)
    assert [o.job for o in later.outcomes if o.job == "fetch"] == []
    assert len(server.requests) == requests
    with hub.db.read() as conn:
        run = get_run(conn, job="fetch", period="2026-03-17")
    assert run is not None and run.state == "done" and run.attempt == 1


def test_a_late_listing_means_look_again_later_and_no_empty_day(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = dt.date(2026, 3, 16)  # still Monday's listing: Tuesday's is late
    first = run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert [(o.job, o.state) for o in first.outcomes if o.job == "fetch"] == [("fetch", "retry")]
    assert "not out yet" in (first.outcomes[0].error or "")
    with hub.db.read() as conn:
        assert announced_on(conn, TUESDAY) == []
        assert conn.scalar(select(func.count()).select_from(papers)) == 0
    # Not again before the retry time ...
    assert (
        run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=10), http_clock=http_clock).outcomes == []
    )
    # ... an empty feed of the right day is no day either ...
    fake.day, fake.empty = TUESDAY, True
    second = run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=31), http_clock=http_clock)
    assert [(o.job, o.state) for o in second.outcomes if o.job == "fetch"] == [("fetch", "retry")]
    # ... and once the listing is out, the day is stored.
    fake.empty = False
    third = run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=62), http_clock=http_clock)
    outcome = third.outcomes[0]
    assert (outcome.job, outcome.state, outcome.attempt) == ("fetch", "done", 3)
    with hub.db.read() as conn:
        assert len(announced_on(conn, TUESDAY)) > 50


def test_a_holiday_is_given_up_without_recording_a_day(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = dt.date(2026, 3, 16)
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    late = run_due(hub, now=ANNOUNCED + dt.timedelta(hours=11), http_clock=http_clock)
    assert [o.job for o in late.outcomes if o.job == "fetch"] == []  # given up: no more asking
    with hub.db.read() as conn:
        run = get_run(conn, job="fetch", period="2026-03-17")
        assert run is not None and run.state == "retry"
        assert announced_on(conn, TUESDAY) == []


def test_a_503_with_retry_after_is_waited_out_politely(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    server, fake = arxiv
    fake.faults = [Reply(b"busy", status=503, headers={"Retry-After": "7"})]
    done = run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert done.outcomes[0].state == "done"
    assert len(server.requests) == 2
    assert http_clock.sleeps == [7.0]
    assert server.requests[0].headers["user-agent"].startswith("paperfeed/")


def test_arxiv_down_fails_the_run_and_it_is_retried_later(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.faults = [Reply(b"down", status=503)] * 3  # http_retries=2: three tries, all refused
    first = run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert first.outcomes[0].state == "failed"
    assert "FetchError" in (first.outcomes[0].error or "")
    again = run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=31), http_clock=http_clock)
    assert (again.outcomes[0].job, again.outcomes[0].state) == ("fetch", "done")
