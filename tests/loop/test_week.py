"""A week (and a bit) of the daily loop on SQLite: one `paperfeed worker` process (the in-process
engine) on a clock the test plays, through the week of tests/loop/week.py (Sunday 2025-12-21 to
Thursday 2026-01-01: seven real announcement days of the corpus, a weekend, two holidays, a
flaky listing, the SMTP server down, the worker killed with kill -9 while embedding and a new
one taking over). At the end every announced paper is stored once with its day, its kind on each
listing and a vector, and is found by search; the feature policy picked what it should each day;
every reader got each daily digest once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperfeed.db import Database
from paperfeed.db.digests import Preferences, add_subscribers_bulk
from paperfeed.db.jobs import get_run
from paperfeed.hub import Hub
from tests.digest.conftest import FaultHandler, SmtpServer
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.conftest import make_settings
from tests.loop.week import (
    CATEGORIES,
    CORPUS,
    HOLIDAYS,
    LISTING_DAYS,
    MAIL_FROM,
    PASS_TIMEOUT_S,
    POLICIES,
    READERS,
    SMTP_DOWN,
    START,
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


class Worker:
    """`python -m tests.loop.week_worker`: started, played on the clock file, killed (the
    week's `Driver` on SQLite)."""

    def __init__(self, marks: Path, env: dict[str, str], hub: Hub) -> None:
        self.marks = marks
        self.env = env
        self.hub = hub
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = self.marks.parent / f"worker{len(self.processes)}.log"
        process = spawn("tests.loop.week_worker", self.marks, self.env, log)
        self.processes.append(process)
        return process

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def set_time(self, moment: dt.datetime) -> None:
        partial = self.marks / ".now"
        partial.write_text(moment.isoformat())
        partial.replace(self.marks / "now")

    def wait_for(self, what: Callable[[], bool], message: str) -> None:
        deadline = time.monotonic() + PASS_TIMEOUT_S
        while not what():
            assert self.current.poll() is None, f"the worker exited: {self.log()}"
            assert time.monotonic() < deadline, f"{message}: {self.log()}"
            time.sleep(0.02)

    def passed(self, moment: dt.datetime) -> bool:
        done = self.marks / "passed"
        return done.exists() and done.read_text() == moment.isoformat()

    def advance(self, moment: dt.datetime) -> None:
        """Set the clock to `moment` and wait until the worker made its pass there."""
        self.set_time(moment)
        self.wait_for(lambda: self.passed(moment), f"no pass at {moment}")

    def kill_while_embedding(self, day: dt.date) -> None:
        """Play the announcement of `day` with the embedder held, kill the worker with kill -9
        while the day's embed run is `running`, and start another worker at the same time."""
        hold = self.marks / "hold"
        hold.touch()
        for mark in self.marks.glob("embedding-*"):
            mark.unlink()
        self.set_time(fire(day))
        victim = self.current
        mark = self.marks / f"embedding-{victim.pid}"
        self.wait_for(mark.exists, "the worker did not embed")
        with self.hub.db.read() as conn:
            run = get_run(conn, job="embed", period=day.isoformat())
        assert run is not None and run.state == "running" and run.attempt == 1
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        hold.unlink()
        self.start()  # the lock file went with the killed process
        self.wait_for(lambda: self.passed(fire(day)), "the new worker made no pass")

    def log(self) -> str:
        return (self.marks.parent / f"worker{len(self.processes) - 1}.log").read_text()[-3000:]

    def stop(self) -> None:
        stop(self.processes, timeout=10)


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


@pytest.mark.parametrize("policy", POLICIES)
def test_a_week_on_sqlite_with_a_holiday_faults_and_a_worker_killed_while_embedding(
    policy: str,
    arxiv: tuple[ScriptedServer, WeekArxiv],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    server, fake = arxiv
    settings = make_settings(
        tmp_path,
        server.url,
        arxiv_categories=CATEGORIES,
        arxiv_request_interval_s=0.0,
        http_retries=1,
        http_timeout_s=1.0,
        auto_feature=policy,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        mail_from=MAIL_FROM,
    )
    settings.data_dir.mkdir(parents=True)
    db = Database(settings.resolved_database_url)
    db.migrate()
    hub = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    with db.write() as conn:
        rows = [(email, Preferences()) for email in READERS]
        add_subscribers_bulk(conn, rows, now=dt.datetime(2025, 12, 1), confirmed=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    worker = Worker(marks, worker_env(settings, settings.data_dir), hub)
    worker.set_time(START)
    worker.start()
    try:
        worker.wait_for(lambda: (marks / "passed").exists(), "the worker did not start")
        liked = play_week(worker, hub, fake, smtp)
    finally:
        worker.stop()

    killed = worker.processes[0]
    assert killed.returncode == -signal.SIGKILL and len(worker.processes) == 2
    with db.read() as conn:
        smtp_down = get_run(conn, job="digest", period=SMTP_DOWN.isoformat())
    assert smtp_down is not None and smtp_down.counts is not None  # in-process: sent in the run
    assert [(i["status"], i["sent"]) for i in smtp_down.counts["issues"]] == [("sending", 0)]
    mails = [(str(m["To"]), str(m["Subject"])) for m in smtp.handler.messages()]
    check_week(hub, liked, mails)
    hub.close()
