"""The loop's status: last and next runs, lag, papers without vectors, and a stale schedule
(a job due longer than the grace period that no worker touched) made unhealthy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperfeed.hub import Hub
from paperfeed.loop.status import loop_status
from paperfeed.loop.worker import run_due
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.conftest import ANNOUNCED, TUESDAY, FakeArxiv

DIGEST_TIME = dt.datetime(2026, 3, 17, 8, 0, tzinfo=dt.UTC)


def test_after_a_full_day_everything_is_healthy(hub: Hub, http_clock: FakeClock) -> None:
    run_due(hub, now=DIGEST_TIME, http_clock=http_clock)
    found = loop_status(hub, now=DIGEST_TIME + dt.timedelta(hours=3))
    assert found.healthy, found.problems
    assert [(j.job, j.period, j.last.state if j.last else None) for j in found.jobs] == [
        ("fetch", "2026-03-17", "done"),
        ("embed", "2026-03-17", "done"),
        ("feature", "2026-03-17", "done"),
        ("digest", "2026-03-17", "done"),
    ]
    nexts = {j.job: j.next_at for j in found.jobs}
    assert nexts["fetch"] is not None
    assert nexts["fetch"].astimezone(dt.UTC) == dt.datetime(2026, 3, 18, 0, 0, tzinfo=dt.UTC)
    assert nexts["digest"] is not None
    assert nexts["digest"].astimezone(dt.UTC) == dt.datetime(2026, 3, 18, 8, 0, tzinfo=dt.UTC)
    assert found.latest_announcement == TUESDAY and found.lag_days == 0
    assert found.papers_without_vectors == 0
    body = found.as_json()
    assert body["healthy"] is True and body["jobs"][0]["last"]["counts"]["new"] > 50


def test_a_due_job_no_worker_touched_makes_the_schedule_stale(make_hub: Any) -> None:
    hub = make_hub(digest_time="00:20")  # Tuesday's digest waits for Tuesday's listing
    on_time = loop_status(hub, now=ANNOUNCED + dt.timedelta(minutes=30))
    assert on_time.schedule_ok
    stale = loop_status(hub, now=ANNOUNCED + dt.timedelta(minutes=61))
    assert not stale.schedule_ok and not stale.healthy
    assert stale.store_ok and stale.indexes_ok
    assert [j.job for j in stale.jobs if j.late] == ["fetch"]
    assert any("fetch 2026-03-17 is overdue" in p for p in stale.problems)


def test_a_retry_waiting_for_arxiv_is_not_stale_but_a_forgotten_one_is(
    hub: Hub, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = dt.date(2026, 3, 16)  # late listing
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert loop_status(hub, now=ANNOUNCED + dt.timedelta(minutes=80)).schedule_ok
    forgotten = loop_status(hub, now=ANNOUNCED + dt.timedelta(minutes=95))  # retry at 30 + 60
    assert not forgotten.schedule_ok
    # Past the give-up time it is a holiday, not a stale schedule (the digest ran meanwhile).
    holiday = ANNOUNCED + dt.timedelta(hours=11)
    run_due(hub, now=holiday, http_clock=http_clock)
    found = loop_status(hub, now=holiday)
    assert found.schedule_ok, found.problems
    assert found.lag_days is None  # nothing stored at all yet


def test_the_lag_counts_days_behind_the_latest_announcement(
    make_hub: Any, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = dt.date(2026, 3, 16)
    hub = make_hub()
    run_due(hub, now=dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC), http_clock=http_clock)
    found = loop_status(hub, now=dt.datetime(2026, 3, 18, 12, 0, tzinfo=dt.UTC))
    assert found.latest_announcement == dt.date(2026, 3, 16)
    assert found.expected_announcement == dt.date(2026, 3, 18)
    assert found.lag_days == 2
