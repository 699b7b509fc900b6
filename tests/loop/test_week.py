"""A week (and a bit) of the daily loop on SQLite: one `paperfeed worker` process (the in-process
engine) on a clock the test plays, from Sunday 2025-12-21 to Thursday 2026-01-01. The fake arXiv
on 127.0.0.1 serves seven real announcement days of the corpus (../shared/data/arxiv_daily/, by
first_seen; a few papers a day): Monday 22 to Thursday 25 December, Monday 29, Tuesday 30 and
Thursday 1 January. There are no listings on Friday 26 and Wednesday 31 (holidays: the corpus
has no paper first seen then) nor at the weekend.

Faults: on Tuesday 23 the SMTP server is down at digest time (it comes back later); on
Wednesday 24 the listing answers a 503 then times out (the fetch fails, and succeeds on its
retry half an hour later); on Monday 29 the worker is killed with kill -9 in the middle of
embedding (it is held there), and a new worker takes over. At the end every announced paper is
stored once with its day, its kind on each listing and a vector, and is found by search; the
feature policy picked what it should each day; every reader got each daily digest once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.db import Database
from paperfeed.db.announcements import announced_on
from paperfeed.db.digests import Preferences, add_subscribers_bulk, list_issues
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import get_run, list_runs
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.search.hybrid import search
from tests.digest.conftest import FaultHandler, SmtpServer
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer
from tests.loop.conftest import make_settings
from tests.loop.fake_arxiv import listing_feed
from tests.loop.week import (
    CORPUS,
    WeekArxiv,
    assert_closest,
    check_mails,
    check_papers,
    corpus_days,
    spawn,
    stop,
    week_listing,
    worker_env,
)
from tests.search.fakes import FakeEmbedder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.exists(), reason=f"no corpus at {CORPUS}"),
]

CATEGORIES = ["astro-ph.CO", "astro-ph.GA"]
PER_DAY = 24  # papers a day taken from the corpus (its first by id), to keep the week quick
D = dt.date
LISTING_DAYS = [D(2025, 12, 22), D(2025, 12, 23), D(2025, 12, 24), D(2025, 12, 25)]
LISTING_DAYS += [D(2025, 12, 29), D(2025, 12, 30), D(2026, 1, 1)]
HOLIDAYS = [D(2025, 12, 26), D(2025, 12, 31)]
WEEKDAYS = sorted(LISTING_DAYS + HOLIDAYS)  # the days the schedule expects a listing
WEEKEND = [D(2025, 12, 27), D(2025, 12, 28)]
SMTP_DOWN = D(2025, 12, 23)
FLAKY = D(2025, 12, 24)
KILL_DAY = D(2025, 12, 29)
READERS = [f"reader{n}@example.org" for n in range(5)]
TOP = 3
PASS_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def records() -> tuple[dict[str, Any], ...]:
    return corpus_days(CORPUS, LISTING_DAYS, categories=CATEGORIES, per_day=PER_DAY)


class Worker:
    """`python -m tests.loop.week_worker`: started, played on the clock file, killed."""

    def __init__(self, marks: Path, env: dict[str, str]) -> None:
        self.marks = marks
        self.env = env
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
def arxiv(records: tuple[dict[str, Any], ...]) -> Iterator[tuple[ScriptedServer, WeekArxiv]]:
    server = ScriptedServer(FakeClock())
    fake = WeekArxiv(
        lambda category, day: listing_feed(category, day, records=records),
        LISTING_DAYS[0],
        HOLIDAYS,
    )
    server.route(fake)
    yield server, fake
    server.close()


def fire(day: dt.date) -> dt.datetime:
    """The announcement of `day`'s listing: 20:00 New York time the evening before (EST)."""
    return dt.datetime.combine(day, dt.time(1, 0), tzinfo=dt.UTC)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def new_on(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {a.paper_id for a in announced_on(conn, day, kinds=("new", "cross-list"))}


def featured(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {item.paper.paper_id for item in papers_for_day(conn, day)}


@pytest.mark.parametrize("policy", [f"top:{TOP}", "all"])
def test_a_week_on_sqlite_with_a_holiday_faults_and_a_worker_killed_while_embedding(
    policy: str,
    arxiv: tuple[ScriptedServer, WeekArxiv],
    smtp: SmtpServer,
    records: tuple[dict[str, Any], ...],
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
    env = worker_env(
        settings,
        settings.data_dir,
        PAPERFEED_SMTP_HOST="127.0.0.1",
        PAPERFEED_SMTP_PORT=str(smtp.port),
        PAPERFEED_SMTP_TLS="none",
        PAPERFEED_MAIL_FROM="Paper Digest <digest@papers.example.org>",
    )
    worker = Worker(marks, env)
    worker.set_time(at(D(2025, 12, 21), 12))
    worker.start()
    liked: list[str] = []
    try:
        worker.wait_for(lambda: (marks / "passed").exists(), "the worker did not start")
        for day in WEEKDAYS:
            if day == D(2025, 12, 29):
                for weekend_day in WEEKEND:
                    worker.advance(at(weekend_day, 8))
            fake.day = day
            if day == FLAKY:  # a 503, then a timeout: the client's one retry is spent
                fake.faults = [Reply(b"busy", status=503, headers={"Retry-After": "0"})]
                fake.faults.append(Reply(b"", delay_s=3.0))
            if day == KILL_DAY:
                kill_while_embedding(worker, hub, day)
            else:
                worker.advance(fire(day))
            if day == FLAKY:
                with db.read() as conn:
                    failed = get_run(conn, job="fetch", period=day.isoformat())
                assert failed is not None and failed.state == "failed"
                fake.faults = [Reply(b"busy", status=503, headers={"Retry-After": "0"})]
            worker.advance(fire(day) + dt.timedelta(minutes=30))  # a retry, if one is due
            if day == LISTING_DAYS[0] and policy.startswith("top:"):
                liked = like_some(hub, day)
            if day == SMTP_DOWN:
                smtp.stop()
            worker.advance(at(day, 8))  # the digest (it waits on a holiday)
            if day == SMTP_DOWN:
                smtp.start()
            worker.advance(at(day, 12))  # a holiday given up: its digest goes (no daily issue)
        finish_deliveries(worker, hub, at(D(2026, 1, 1), 13))
    finally:
        worker.stop()

    killed = worker.processes[0]
    assert killed.returncode == -signal.SIGKILL and len(worker.processes) == 2

    listing = week_listing(CATEGORIES, LISTING_DAYS, records)
    with db.read() as conn:
        check_papers(conn, listing)
        runs = {(r.job, r.period): r for r in list_runs(conn, limit=500)}
        assert not [a for day in HOLIDAYS for a in announced_on(conn, day)]
    for day in LISTING_DAYS:
        for job in ("fetch", "embed", "feature"):
            assert runs[(job, day.isoformat())].state == "done", (job, day)
    for day in HOLIDAYS:  # given up: no empty day, nothing embedded or featured
        assert runs[("fetch", day.isoformat())].state == "retry"
        assert ("embed", day.isoformat()) not in runs
        assert featured(hub, day) == set()
    assert runs[("fetch", FLAKY.isoformat())].attempt == 2
    assert runs[("embed", KILL_DAY.isoformat())].attempt == 2
    smtp_down = runs[("digest", SMTP_DOWN.isoformat())].counts
    assert smtp_down is not None  # the issue was opened, nothing could be sent: left to a pass
    assert [(i["status"], i["sent"]) for i in smtp_down["issues"]] == [("sending", 0)]
    for day in WEEKDAYS + WEEKEND:
        assert runs[("digest", day.isoformat())].state == "done", day

    for day in LISTING_DAYS:
        picks, new = featured(hub, day), new_on(hub, day)
        if policy == "all":
            assert picks == new
        elif day == LISTING_DAYS[0]:  # no member interest yet: the first in id order
            assert picks == set(sorted(new)[:TOP])
        else:
            with hub.db.read() as conn:
                assert_closest(conn, picks, new, liked, TOP)

    check_searchable(hub, listing)
    mails = [(str(m["To"]), str(m["Subject"])) for m in smtp.handler.messages()]
    check_mails(mails, READERS, len(LISTING_DAYS))
    hub.close()


def kill_while_embedding(worker: Worker, hub: Hub, day: dt.date) -> None:
    """Play the announcement of `day` with the embedder held, kill the worker with kill -9 while
    the day's embed run is `running`, and start another worker at the same time."""
    hold = worker.marks / "hold"
    hold.touch()
    for mark in worker.marks.glob("embedding-*"):
        mark.unlink()
    worker.set_time(fire(day))
    victim = worker.current
    mark = worker.marks / f"embedding-{victim.pid}"
    worker.wait_for(mark.exists, "the worker did not embed")
    with hub.db.read() as conn:
        run = get_run(conn, job="embed", period=day.isoformat())
    assert run is not None and run.state == "running" and run.attempt == 1
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    hold.unlink()
    worker.start()  # the lock file went with the killed process
    worker.wait_for(lambda: worker.passed(fire(day)), "the new worker made no pass")


def like_some(hub: Hub, day: dt.date) -> list[str]:
    """A member upvotes three of `day`'s new papers (not the policy's picks)."""
    liked = sorted(new_on(hub, day) - featured(hub, day))[:3]
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "member@example.org")
        for paper_id in liked:
            set_upvote(conn, user.user_id, paper_id, on=True, now=at(day, 3).replace(tzinfo=None))
    return liked


def finish_deliveries(worker: Worker, hub: Hub, start: dt.datetime) -> None:
    """Move the clock on until no issue is left unfinished (mails deferred while SMTP was
    down go out once their retry time, in real seconds, has come)."""
    moment = start
    deadline = time.monotonic() + PASS_TIMEOUT_S
    while True:
        with hub.db.read() as conn:
            if not list_issues(conn, status=("building", "sending")):
                return
        assert time.monotonic() < deadline, "deferred digests were never delivered"
        time.sleep(0.5)
        moment += dt.timedelta(minutes=5)
        worker.advance(moment)


def check_searchable(hub: Hub, listing: dict[dt.date, set[tuple[str, str, str]]]) -> None:
    """A search for each day's first new paper's title finds it (the worker's indexes)."""
    from paperfeed.db.papers import get_paper

    for day, lines in listing.items():
        paper_id = min(p for _c, p, kind in lines if kind == "new")
        with hub.db.read() as conn:
            stored = get_paper(conn, paper_id)
        assert stored is not None
        found = search(hub.search_index, hub.embedder, stored.record.title, limit=5)
        assert paper_id in [hit.paper.paper_id for hit in found.hits], (day, paper_id)
