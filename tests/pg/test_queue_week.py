"""A week of the daily loop on PostgreSQL, through the Procrastinate engine: three worker
processes share the queue while the test plays the clock (a fake week, 2026-03-15 to
2026-03-21) and the fake arXiv serves the bundled sample's listings (their first_seen days).

Wednesday is a holiday (no listing: "nothing yet" until the fetch gives up), Tuesday's fetch
meets 503s first, and on Thursday the worker that embeds is killed with kill -9 in the middle:
its job goes back in the queue. At the end every announced paper is stored once with its day
and a vector, each listing day has the policy's picks, and every subscriber got each daily
digest exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from procrastinate import App

from paperfeed.db import Database
from paperfeed.db.digests import Preferences, add_subscribers_bulk
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import list_runs
from paperfeed.db.mailbox import list_messages
from paperfeed.db.queue_schema import created_objects, schema_sql
from paperfeed.hub import Hub
from paperfeed.loop.queue import STALLED_TASK, build_app, defer_due
from paperfeed.loop.status import loop_status
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer
from tests.loop.conftest import make_settings
from tests.loop.fake_arxiv import listing_feed
from tests.loop.week import (
    WeekArxiv,
    check_mails,
    check_papers,
    spawn,
    stop,
    week_listing,
    worker_env,
)
from tests.search.fakes import FakeEmbedder

pytestmark = pytest.mark.slow

CATEGORIES = ["cs.CL", "cs.LG"]
LISTING_DAYS = [dt.date(2026, 3, d) for d in (16, 17, 18, 19, 20)]  # Monday to Friday
HOLIDAY = dt.date(2026, 3, 18)
FLAKY = dt.date(2026, 3, 17)
KILL_DAY = dt.date(2026, 3, 19)
SUBSCRIBERS = [f"reader{n}@example.org" for n in range(7)]
QUEUE_TABLES = created_objects(schema_sql())["TABLE"]


@pytest.fixture
def arxiv() -> Iterator[tuple[ScriptedServer, WeekArxiv]]:
    server = ScriptedServer(FakeClock())
    fake = WeekArxiv(listing_feed, LISTING_DAYS[0], [HOLIDAY])
    server.route(fake)
    yield server, fake
    server.close()


@pytest.fixture
def hub(db: Database, postgres_url: str, arxiv: tuple[ScriptedServer, WeekArxiv], tmp_path: Path):
    server, _fake = arxiv
    settings = make_settings(
        tmp_path / "tester",
        server.url,
        database_url=postgres_url,
        arxiv_categories=CATEGORIES,
        arxiv_request_interval_s=0.0,
        http_retries=3,
        auto_feature="top:3",
        digest_recipients_per_job=3,
        queue_heartbeat_s=0.5,
        queue_stalled_after_s=3.0,
    )
    built = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    yield built
    built.search_index.keyword.close()
    with db.write() as conn:
        for table in reversed(QUEUE_TABLES):
            conn.exec_driver_sql(f"DELETE FROM {table}")


def start_worker(hub: Hub, marks: Path, n: int) -> subprocess.Popen[bytes]:
    settings = hub.settings
    env = worker_env(
        settings,
        marks.parent / f"worker{n}",  # a machine of its own
        PAPERFEED_DIGEST_RECIPIENTS_PER_JOB=str(settings.digest_recipients_per_job),
        PAPERFEED_QUEUE_HEARTBEAT_S=str(settings.queue_heartbeat_s),
        PAPERFEED_QUEUE_STALLED_AFTER_S=str(settings.queue_stalled_after_s),
    )
    return spawn("tests.pg.queue_worker", marks, env, marks.parent / f"worker{n}.log")


def busy_jobs(app: App) -> int:
    return sum(
        1
        for status in ("todo", "doing")
        for job in app.job_manager.list_jobs(status=status)
        if job.task_name != STALLED_TASK
    )


def run_until_quiet(
    app: App, hub: Hub, now: dt.datetime, *, on_wait: object = None, timeout: float = 120.0
) -> None:
    """Defer what is due at `now`, wait until the workers emptied the queue; again until
    nothing more is due."""
    deadline = time.monotonic() + timeout
    while True:
        queued = defer_due(app, hub, now=now)
        while busy_jobs(app):
            if callable(on_wait):
                on_wait()
            assert time.monotonic() < deadline, f"the queue did not empty at {now}"
            time.sleep(0.2)
        if not queued:
            return


def test_a_week_on_postgresql_with_three_workers_and_one_killed(
    hub: Hub, arxiv: tuple[ScriptedServer, WeekArxiv], tmp_path: Path
) -> None:
    _server, fake = arxiv
    with hub.db.write() as conn:
        rows = [(email, Preferences()) for email in SUBSCRIBERS]
        add_subscribers_bulk(conn, rows, now=dt.datetime(2026, 3, 1), confirmed=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    workers = [start_worker(hub, marks, n) for n in range(3)]
    killed: list[int] = []

    def kill_the_embedder() -> None:
        if killed:
            return
        for mark in marks.glob("embedding-*"):
            pid = int(mark.name.split("-")[1])
            os.kill(pid, signal.SIGKILL)  # in the middle of embedding (it sleeps in embed)
            killed.append(pid)

    app = build_app(hub, tick=False, requeue=False)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.glob("ready-*"))) < 3:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        with app.open():
            for day in LISTING_DAYS:
                fake.day = day
                busy = Reply(b"busy", status=503, headers={"Retry-After": "0"})
                fake.faults = [busy, busy] if day == FLAKY else []
                for mark in marks.glob("embedding-*"):
                    mark.unlink()
                fire = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)  # 20:00 EDT
                on_wait = kill_the_embedder if day == KILL_DAY else None
                run_until_quiet(app, hub, fire, on_wait=on_wait)
                run_until_quiet(app, hub, fire + dt.timedelta(hours=8))  # the digest
                run_until_quiet(app, hub, fire + dt.timedelta(hours=11))  # a holiday given up
            saturday = dt.datetime(2026, 3, 21, 8, 0, tzinfo=dt.UTC)
            run_until_quiet(app, hub, saturday)
        queue = loop_status(hub, now=saturday).queue  # what `paperfeed status` shows
        assert queue is not None
        assert (queue["workers"], queue["failed"]) == (2, 0)  # the killed one is not counted
    finally:
        stop(workers)

    assert len(killed) == 1
    assert workers[[w.pid for w in workers].index(killed[0])].returncode == -signal.SIGKILL

    announced = [day for day in LISTING_DAYS if day != HOLIDAY]
    with hub.db.read() as conn:
        check_papers(conn, week_listing(CATEGORIES, announced))
        runs = {(r.job, r.period): r for r in list_runs(conn, limit=200)}
        for day in announced:
            assert len(papers_for_day(conn, day)) == 3  # top:3 on every listing day
        assert papers_for_day(conn, HOLIDAY) == []
        mails = list_messages(conn, limit=1000)

    for day in announced:
        for job in ("fetch", "embed", "feature"):
            assert runs[(job, day.isoformat())].state == "done"
    assert runs[("fetch", HOLIDAY.isoformat())].state == "retry"  # given up, no empty day
    assert runs[("embed", KILL_DAY.isoformat())].attempt == 2  # the killed run, then again
    for day in range(16, 22):
        assert runs[("digest", f"2026-03-{day}")].state == "done"
    check_mails(  # one per feed day, once
        [(to, m.subject) for m in mails for to in m.recipients], SUBSCRIBERS, len(announced)
    )
