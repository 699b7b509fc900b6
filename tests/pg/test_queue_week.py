"""The week of tests/loop/week.py on PostgreSQL, through the Procrastinate engine: three worker
processes share the queue while the test plays the fake clock (Sunday 2025-12-21 to Thursday
2026-01-01) and the fake arXiv serves seven real announcement days of the corpus (their
first_seen days), across a weekend and two holidays.

The same faults as on SQLite: a 503 then a timeout on Wednesday 24 (the fetch fails, its retry
half an hour later succeeds), the SMTP server down at Tuesday 23's digest time (the delivery
jobs defer the mails; a later delivery job sends them), and on Monday 29 the worker embedding
the day is killed with kill -9 in the middle: the others find it silent and queue its job again.
At the end the same checks: every announced paper stored once with its day, kind and vector,
and searchable; the policy's picks; every reader got each daily digest exactly once.
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
from paperfeed.db.jobs import get_run
from paperfeed.db.queue_schema import created_objects, schema_sql
from paperfeed.hub import Hub
from paperfeed.loop.queue import STALLED_TASK, build_app, defer_due
from paperfeed.loop.status import loop_status
from tests.digest.conftest import FaultHandler, SmtpServer
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.conftest import make_settings
from tests.loop.week import (
    CATEGORIES,
    CORPUS,
    HOLIDAYS,
    LISTING_DAYS,
    MAIL_FROM,
    POLICIES,
    READERS,
    WeekArxiv,
    check_week,
    fire,
    play_week,
    spawn,
    stop,
    week_feed,
    worker_env,
)
from tests.search.fakes import FakeEmbedder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.exists(), reason=f"no corpus at {CORPUS}"),
]

WORKERS = 3
QUEUE_TABLES = created_objects(schema_sql())["TABLE"]
QUIET_TIMEOUT_S = 60.0


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(FaultHandler())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def arxiv() -> Iterator[tuple[ScriptedServer, WeekArxiv]]:
    server = ScriptedServer(FakeClock())
    fake = WeekArxiv(week_feed, LISTING_DAYS[0], HOLIDAYS)
    server.route(fake)
    yield server, fake
    server.close()


@pytest.fixture(params=POLICIES)
def hub(
    request: pytest.FixtureRequest,
    db: Database,
    postgres_url: str,
    arxiv: tuple[ScriptedServer, WeekArxiv],
    smtp: SmtpServer,
    tmp_path: Path,
) -> Iterator[Hub]:
    server, _fake = arxiv
    settings = make_settings(
        tmp_path / "tester",
        server.url,
        database_url=postgres_url,
        arxiv_categories=CATEGORIES,
        arxiv_request_interval_s=0.0,
        http_retries=1,
        http_timeout_s=1.0,
        auto_feature=request.param,
        digest_recipients_per_job=3,  # two delivery jobs per issue
        queue_heartbeat_s=0.5,
        queue_stalled_after_s=3.0,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        mail_from=MAIL_FROM,
    )
    built = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    yield built
    built.search_index.keyword.close()
    with db.write() as conn:
        for table in reversed(QUEUE_TABLES):
            conn.exec_driver_sql(f"DELETE FROM {table}")


class Workers:
    """Three `paperfeed worker` processes on the queue (tests/pg/queue_worker.py), and the test's
    own deferral on the fake clock (the week's `Driver` on PostgreSQL)."""

    def __init__(self, hub: Hub, app: App, marks: Path) -> None:
        self.hub = hub
        self.app = app
        self.marks = marks
        self.processes: list[subprocess.Popen[bytes]] = []
        self.killed: list[int] = []

    def start(self, count: int) -> None:
        settings = self.hub.settings
        for n in range(count):
            env = worker_env(
                settings,
                self.marks.parent / f"worker{n}",  # a machine of its own
                PAPERFEED_DIGEST_RECIPIENTS_PER_JOB=str(settings.digest_recipients_per_job),
                PAPERFEED_QUEUE_HEARTBEAT_S=str(settings.queue_heartbeat_s),
                PAPERFEED_QUEUE_STALLED_AFTER_S=str(settings.queue_stalled_after_s),
            )
            log = self.marks.parent / f"worker{n}.log"
            self.processes.append(spawn("tests.pg.queue_worker", self.marks, env, log))
        deadline = time.monotonic() + 60
        while len(list(self.marks.glob("ready-*"))) < count:
            assert time.monotonic() < deadline, f"the workers did not start: {self.logs()}"
            time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(
            (self.marks.parent / f"worker{n}.log").read_text()[-2000:]
            for n in range(len(self.processes))
        )

    def busy(self) -> int:
        return sum(
            1
            for status in ("todo", "doing")
            for job in self.app.job_manager.list_jobs(status=status)
            if job.task_name != STALLED_TASK
        )

    def wait_until_quiet(self, moment: dt.datetime) -> None:
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        while self.busy():
            assert time.monotonic() < deadline, f"the queue did not empty at {moment}"
            time.sleep(0.05)

    def advance(self, moment: dt.datetime) -> None:
        """Defer what is due at `moment` and wait until the workers emptied the queue (jobs
        queue what follows them); again while that deferral queued more than deliveries (a
        delivery of mails whose retry time has not come is not a reason to look again)."""
        while True:
            queued = defer_due(self.app, self.hub, now=moment)
            self.wait_until_quiet(moment)
            if all(key.startswith("deliver:") for key in queued):
                return

    def kill_while_embedding(self, day: dt.date) -> None:
        hold = self.marks / "hold"
        hold.touch()
        for mark in self.marks.glob("embedding-*"):
            mark.unlink()
        defer_due(self.app, self.hub, now=fire(day))
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        while not (marks := list(self.marks.glob("embedding-*"))):
            assert time.monotonic() < deadline, f"no worker embedded: {self.logs()}"
            time.sleep(0.05)
        with self.hub.db.read() as conn:
            run = get_run(conn, job="embed", period=day.isoformat())
        assert run is not None and run.state == "running" and run.attempt == 1
        (victim,) = (int(mark.name.split("-")[1]) for mark in marks)
        os.kill(victim, signal.SIGKILL)
        self.killed.append(victim)
        hold.unlink()
        self.advance(fire(day))  # another worker's check finds it silent: its job runs again

    def stop(self) -> None:
        stop(self.processes)


def test_a_week_on_postgresql_with_three_workers_and_one_killed_while_embedding(
    hub: Hub, arxiv: tuple[ScriptedServer, WeekArxiv], smtp: SmtpServer, tmp_path: Path
) -> None:
    _server, fake = arxiv
    with hub.db.write() as conn:
        rows = [(email, Preferences()) for email in READERS]
        add_subscribers_bulk(conn, rows, now=dt.datetime(2025, 12, 1), confirmed=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    app = build_app(hub, tick=False, requeue=False)
    workers = Workers(hub, app, marks)
    try:
        workers.start(WORKERS)
        with app.open():
            liked = play_week(workers, hub, fake, smtp)
        end = fire(LISTING_DAYS[-1]) + dt.timedelta(hours=12)
        queue = loop_status(hub, now=end).queue  # what `paperfeed status` shows
        assert queue is not None
        assert (queue["workers"], queue["failed"]) == (WORKERS - 1, 0)  # not the killed one
    finally:
        workers.stop()

    (killed,) = workers.killed
    victim = next(p for p in workers.processes if p.pid == killed)
    assert victim.returncode == -signal.SIGKILL
    mails = [(str(m["To"]), str(m["Subject"])) for m in smtp.handler.messages()]
    check_week(hub, liked, mails)
