"""The loop's status: last and next runs, lag, papers without vectors, and a stale schedule
(a job due longer than the grace period that no worker touched) made unhealthy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperfeed.db.jobs import finish_run, start_run
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


def test_the_daily_once_jobs_are_listed_where_they_are_on(make_hub: Any, hub: Hub) -> None:
    assert [j.job for j in loop_status(hub, now=DIGEST_TIME).jobs] == [
        "fetch",
        "embed",
        "feature",
        "digest",
    ]  # stars off (github_stars_per_run 0), no mirror
    # No worker runs here (the mirror would ask huggingface.co): the runs are written as a
    # worker would. No categories, and yesterday's digest is done: only the daily jobs count.
    both = make_hub(github_stars_per_run=10, hf_mirror=True, arxiv_categories=[])
    with both.db.write() as conn:  # the mirror ran yesterday; today's has not run yet
        start_run(conn, job="digest", period="2026-03-16", now=dt.datetime(2026, 3, 16, 8, 0))
        finish_run(
            conn, job="digest", period="2026-03-16", state="done", now=dt.datetime(2026, 3, 16, 8)
        )
        start_run(conn, job="hf_mirror", period="2026-03-16", now=dt.datetime(2026, 3, 16, 0, 2))
        finish_run(
            conn,
            job="hf_mirror",
            period="2026-03-16",
            state="done",
            now=dt.datetime(2026, 3, 16, 0, 3, 30),
            counts={"imported": 4},
        )
    quarter_past = dt.datetime(2026, 3, 17, 0, 15, tzinfo=dt.UTC)
    found = loop_status(both, now=quarter_past)
    daily = {j.job: j for j in found.jobs[4:]}
    assert list(daily) == ["stars", "hf_mirror"]
    midnight = dt.datetime(2026, 3, 17, 0, 0, tzinfo=dt.UTC)
    # No repository to count: stars next look at 00:00 UTC tomorrow, never late.
    assert daily["stars"].last is None and daily["stars"].period == "2026-03-17"
    assert daily["stars"].next_at == midnight + dt.timedelta(days=1)
    # The mirror's last run is yesterday's; today's is due since 00:00 UTC.
    mirror = daily["hf_mirror"]
    assert mirror.last is not None and mirror.last.period == "2026-03-16"
    assert mirror.next_at == midnight and not mirror.late and found.schedule_ok
    body = found.as_json()["jobs"][5]
    assert body["job"] == "hf_mirror" and body["next_at"] == "2026-03-17T00:00:00+00:00"
    assert body["last"]["period"] == "2026-03-16" and body["last"]["duration_s"] == 90.0
    # No worker touched it for longer than the grace (60 min): the schedule is stale.
    stale = loop_status(both, now=midnight + dt.timedelta(minutes=61))
    assert [j.job for j in stale.jobs if j.late] == ["hf_mirror"]
    assert any("hf_mirror 2026-03-17 is overdue" in p for p in stale.problems)
    with both.db.write() as conn:
        start_run(conn, job="hf_mirror", period="2026-03-17", now=midnight.replace(tzinfo=None))
        finish_run(
            conn,
            job="hf_mirror",
            period="2026-03-17",
            state="failed",
            now=midnight.replace(tzinfo=None),
            error="ConnectError: down",
            next_attempt_at=dt.datetime(2026, 3, 17, 0, 30),
        )
    retrying = loop_status(both, now=midnight + dt.timedelta(minutes=61))
    mirror = retrying.jobs[5]
    assert mirror.last is not None and mirror.last.state == "failed"
    assert mirror.next_at == dt.datetime(2026, 3, 17, 0, 30, tzinfo=dt.UTC) and not mirror.late
    assert not loop_status(both, now=midnight + dt.timedelta(minutes=91)).schedule_ok
