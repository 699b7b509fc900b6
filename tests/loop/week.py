"""What the week tests share (tests/loop/test_week.py on SQLite, tests/pg/test_queue_week.py on
PostgreSQL): the week itself (its days, faults and readers), a fake arXiv that serves the day
the test says (nothing new on a holiday) with faults on request, an embedder that marks (and can
hold) each embedding so the test knows whom to kill with kill -9 in the middle, the environment
of a worker process, the play of the week through an engine's `Driver`, and the checks made at
the end of it.

The week, Sunday 2025-12-21 to Thursday 2026-01-01: seven real announcement days of the corpus
(../shared/data/arxiv_daily/, by first_seen; a few papers a day): Monday 22 to Thursday 25
December, Monday 29, Tuesday 30 and Thursday 1 January. There are no listings on Friday 26 and
Wednesday 31 (holidays: the corpus has no paper first seen then) nor at the weekend. Faults: on
Tuesday 23 the SMTP server is down at digest time (it comes back later); on Wednesday 24 the
listing answers a 503 then times out (the fetch fails, and succeeds on its retry half an hour
later); on Monday 29 the worker embedding the day is killed with kill -9 in the middle (it is
held there), and another worker takes over.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from paperfeed.db.announcements import announced_on
from paperfeed.db.digests import get_issue, list_issues
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import get_run, list_runs
from paperfeed.db.papers import get_paper
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.db.vectors import get_vector
from paperfeed.hub import Hub
from paperfeed.ingest.fake_arxiv import corpus_records, day_listing, listing_feed
from paperfeed.search.hybrid import search
from paperfeed.search.index import contract_of
from paperfeed.settings import Settings
from tests.ingest.conftest import Received, Reply
from tests.search.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "data" / "arxiv_daily" / "arxiv_daily.jsonl.gz"
# The listing's announce types as stored (db.announcements kinds).
KINDS = {"new": "new", "cross": "cross-list", "replace": "replacement"}

CATEGORIES = ["astro-ph.CO", "astro-ph.GA"]
PER_DAY = 24  # papers a day taken from the corpus (its first by id), to keep the week quick
D = dt.date
LISTING_DAYS = [D(2025, 12, 22), D(2025, 12, 23), D(2025, 12, 24), D(2025, 12, 25)]
LISTING_DAYS += [D(2025, 12, 29), D(2025, 12, 30), D(2026, 1, 1)]
HOLIDAYS = [D(2025, 12, 26), D(2025, 12, 31)]
WEEKDAYS = sorted(LISTING_DAYS + HOLIDAYS)  # the days the schedule expects a listing
WEEKEND = [D(2025, 12, 27), D(2025, 12, 28)]
START = dt.datetime(2025, 12, 21, 12, 0, tzinfo=dt.UTC)  # a Sunday, before the first listing
SMTP_DOWN = D(2025, 12, 23)
FLAKY = D(2025, 12, 24)
KILL_DAY = D(2025, 12, 29)
READERS = [f"reader{n}@example.org" for n in range(5)]
TOP = 3
POLICIES = [f"top:{TOP}", "all"]
PASS_TIMEOUT_S = 30.0
MAIL_FROM = "Paper Digest <digest@papers.example.org>"


@cache
def week_records() -> tuple[dict[str, Any], ...]:
    """The corpus records of the week's listing days (PER_DAY a day, in CATEGORIES)."""
    return corpus_records(CORPUS, LISTING_DAYS, categories=CATEGORIES, per_day=PER_DAY)


def week_feed(category: str, day: dt.date) -> bytes:
    """The fake arXiv's listing of `category` on `day`, from the week's records."""
    return listing_feed(category, day, records=week_records())


def fire(day: dt.date) -> dt.datetime:
    """The announcement of `day`'s listing: 20:00 New York time the evening before (EST)."""
    return dt.datetime.combine(day, dt.time(1, 0), tzinfo=dt.UTC)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


class WeekArxiv:
    """The listing of the day the test sets (on a holiday: the listing of the day before, so
    "nothing yet"), after the scripted faults, one per request."""

    def __init__(
        self, feed: Callable[[str, dt.date], bytes], day: dt.date, holidays: Iterable[dt.date]
    ) -> None:
        self.feed = feed
        self.day = day
        self.holidays = set(holidays)
        self.faults: list[Reply] = []

    def __call__(self, received: Received) -> Reply:
        if self.faults:
            return self.faults.pop(0)
        category = received.path.rsplit("/", 1)[-1]
        served = self.day
        while served in self.holidays:
            served -= dt.timedelta(days=1)
        return Reply(self.feed(category, served))


class MarkingEmbedder(FakeEmbedder):
    """The FakeEmbedder (same vectors), marking each embedding with a file `embedding-PID` in
    `marks`, then sleeping `delay_s`, and waiting while a file `hold` is in `marks` (the test
    kills the process there: caught in the middle of embedding, deterministically)."""

    def __init__(self, marks: Path, *, delay_s: float = 0.0) -> None:
        super().__init__()
        self.marks = marks
        self.delay_s = delay_s

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        (self.marks / f"embedding-{os.getpid()}").write_text(str(len(texts)))
        time.sleep(self.delay_s)
        while (self.marks / "hold").exists():
            time.sleep(0.05)
        return super().embed(texts, batch_size=batch_size, progress=progress)


def worker_env(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker process with the test hub's settings (PAPERFEED_*)."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT),
        "PAPERFEED_DATABASE_URL": settings.resolved_database_url,
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_ARXIV_CATEGORIES": ",".join(settings.arxiv_categories),
        "PAPERFEED_ARXIV_LISTING_URL": settings.arxiv_listing_url,
        "PAPERFEED_ARXIV_REQUEST_INTERVAL_S": "0",
        "PAPERFEED_HTTP_RETRIES": str(settings.http_retries),
        "PAPERFEED_HTTP_TIMEOUT_S": str(settings.http_timeout_s),
        "PAPERFEED_SEMANTIC_SEARCH": "false",
        "PAPERFEED_AUTO_FEATURE": settings.auto_feature,
        "PAPERFEED_PUBLIC_URL": settings.public_url,
        "PAPERFEED_DIGEST_TIME": settings.digest_time,
        "PAPERFEED_DIGEST_TIMEZONE": settings.digest_timezone,
        **smtp_env(settings),
        **extra,
    }


def smtp_env(settings: Settings) -> dict[str, str]:
    """The SMTP settings of `settings` as PAPERFEED_* variables (none: the dev mailbox)."""
    if settings.smtp_host is None:
        return {}
    return {
        "PAPERFEED_SMTP_HOST": settings.smtp_host,
        "PAPERFEED_SMTP_PORT": str(settings.smtp_port),
        "PAPERFEED_SMTP_TLS": settings.smtp_tls,
        "PAPERFEED_MAIL_FROM": settings.mail_from,
    }


def spawn(module: str, marks: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m module MARKS` from the repository root, its output in `log`."""
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", module, str(marks)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(processes: Iterable[subprocess.Popen[bytes]], *, timeout: float = 30.0) -> None:
    """SIGTERM each process still running, wait for all (kill one that does not end)."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def assert_closest(
    conn: Connection, picks: set[str], candidates: set[str], liked: Sequence[str], n: int
) -> None:
    """`picks` are the `n` candidates closest to the centroid of the liked papers' vectors."""
    contract = contract_of(FakeEmbedder())
    vectors = {p: get_vector(conn, paper_id=p, contract=contract) for p in {*liked, *candidates}}
    centroid = np.mean(np.stack([vectors[p] for p in liked]), axis=0)  # type: ignore[misc]
    score = {p: float(np.dot(vectors[p], centroid)) for p in candidates}  # type: ignore[arg-type]
    assert len(picks) == n and picks <= candidates
    assert min(score[p] for p in picks) >= max(score[p] for p in candidates - picks) - 1e-6


def week_listing(
    categories: Sequence[str],
    days: Iterable[dt.date],
    records: Sequence[dict[str, Any]] | None = None,
) -> dict[dt.date, set[tuple[str, str, str]]]:
    """What the fake arXiv lists each day: (category, paper id, stored kind) lines."""
    return {
        day: {
            (category, record["id"], KINDS[announce])
            for category in categories
            for record, announce in day_listing(category, day, records=records)
        }
        for day in days
    }


def first_days(listing: Mapping[dt.date, set[tuple[str, str, str]]]) -> dict[str, dt.date]:
    """Each paper's announcement day: the first day it was listed new or cross-listed."""
    first: dict[str, dt.date] = {}
    for day in sorted(listing):
        for _category, paper_id, kind in listing[day]:
            if kind != "replacement":
                first.setdefault(paper_id, day)
    return first


def check_papers(
    conn: Connection, listing: Mapping[dt.date, set[tuple[str, str, str]]]
) -> dict[str, dt.date]:
    """Every listed paper is stored once, with its announcement day and a vector, and each day's
    stored listing lines (category, paper, kind) are the ones served; returns the papers."""
    first = first_days(listing)
    contract = contract_of(FakeEmbedder())
    for day, lines in listing.items():
        assert lines, f"nothing listed on {day}"
        stored = {(a.category, a.paper_id, a.kind) for a in announced_on(conn, day)}
        assert stored == lines, f"the listing of {day} is not what arXiv announced"
    every = {paper_id for lines in listing.values() for _c, paper_id, _k in lines}
    for paper_id in every:
        paper = get_paper(conn, paper_id)
        assert paper is not None, paper_id
        if paper_id in first:
            assert paper.record.announced == first[paper_id], paper_id
        assert get_vector(conn, paper_id=paper_id, contract=contract) is not None, paper_id
    count = conn.exec_driver_sql("SELECT count(*) FROM papers").scalar()
    assert count == len(every)  # a replacement updates its paper, never adds one
    return first


def check_mails(mails: Iterable[tuple[str, str]], readers: Sequence[str], days: int) -> None:
    """Each reader got `days` digests (recipient, subject), and none twice."""
    sent = Counter(mails)
    assert set(sent.values()) == {1}, [m for m, n in sent.items() if n > 1]
    assert Counter(reader for reader, _subject in sent) == dict.fromkeys(readers, days)


class Driver(Protocol):
    """How a week test moves an engine along the fake clock."""

    def advance(self, moment: dt.datetime) -> None:
        """Set the clock to `moment` and wait until the engine ran what is due there."""

    def kill_while_embedding(self, day: dt.date) -> None:
        """Play the announcement of `day` with the embedder held; once the day's `embed` run
        is `running` (attempt 1), kill the worker embedding it with kill -9, release the
        embedder, and wait until another worker ran the day (the embedding again)."""


class SmtpSink(Protocol):
    """The test's SMTP server (tests/digest/conftest.py: SmtpServer)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def new_on(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {a.paper_id for a in announced_on(conn, day, kinds=("new", "cross-list"))}


def featured(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {item.paper.paper_id for item in papers_for_day(conn, day)}


def like_some(hub: Hub, day: dt.date) -> list[str]:
    """A member upvotes three of `day`'s new papers (not the policy's picks)."""
    liked = sorted(new_on(hub, day) - featured(hub, day))[:3]
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "member@example.org")
        for paper_id in liked:
            set_upvote(conn, user.user_id, paper_id, on=True, now=at(day, 3).replace(tzinfo=None))
    return liked


def play_week(driver: Driver, hub: Hub, arxiv: WeekArxiv, smtp: SmtpSink) -> list[str]:
    """Play the week on `driver`: each weekday's announcement (with its faults), a retry half an
    hour later, the digest at 08:00 and a last look at 12:00 (a holiday given up), the weekend's
    digests, then passes until every issue is delivered. Returns the papers a member upvoted
    after the first day (what `top:N` then follows)."""
    liked: list[str] = []
    for day in WEEKDAYS:
        if day == KILL_DAY:
            for weekend_day in WEEKEND:
                driver.advance(at(weekend_day, 8))
        arxiv.day = day
        if day == FLAKY:  # a 503, then a timeout: the client's one retry is spent
            arxiv.faults = [Reply(b"busy", status=503, headers={"Retry-After": "0"})]
            arxiv.faults.append(Reply(b"", delay_s=3.0))
        if day == KILL_DAY:
            driver.kill_while_embedding(day)
        else:
            driver.advance(fire(day))
        if day == FLAKY:
            with hub.db.read() as conn:
                failed = get_run(conn, job="fetch", period=day.isoformat())
            assert failed is not None and failed.state == "failed", failed
            arxiv.faults = [Reply(b"busy", status=503, headers={"Retry-After": "0"})]
        driver.advance(fire(day) + dt.timedelta(minutes=30))  # a retry, if one is due
        if day == LISTING_DAYS[0] and hub.settings.auto_feature.startswith("top:"):
            liked = like_some(hub, day)
        if day == SMTP_DOWN:
            smtp.stop()
        driver.advance(at(day, 8))  # the digest (it waits on a holiday)
        if day == SMTP_DOWN:
            with hub.db.read() as conn:  # opened, nothing sent: left to a later pass
                issue = get_issue(conn, kind="daily", period=day)
            assert issue is not None and issue.status == "sending", issue
            smtp.start()
        driver.advance(at(day, 12))  # a holiday given up: its digest goes (no daily issue)
    finish_deliveries(driver, hub, at(LISTING_DAYS[-1], 13))
    return liked


def finish_deliveries(driver: Driver, hub: Hub, start: dt.datetime) -> None:
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
        driver.advance(moment)


def check_week(hub: Hub, liked: Sequence[str], mails: Iterable[tuple[str, str]]) -> None:
    """The end of the week, on either engine: every announced paper stored once with its day,
    its kind on each listing and a vector, and found by search; every job of every listing day
    done, the holidays given up with no empty day, the flaky fetch done on its retry and the
    killed embedding on a second attempt; the feature policy's picks; each reader's digests
    (recipient, subject) once each."""
    listing = week_listing(CATEGORIES, LISTING_DAYS, week_records())
    with hub.db.read() as conn:
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
    for day in WEEKDAYS + WEEKEND:
        assert runs[("digest", day.isoformat())].state == "done", day

    policy = hub.settings.auto_feature
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
    check_mails(mails, READERS, len(LISTING_DAYS))


def check_searchable(hub: Hub, listing: Mapping[dt.date, set[tuple[str, str, str]]]) -> None:
    """A search for each day's first new paper's title finds it (the store's search index,
    brought up to date from the store as every web process and worker does)."""
    hub.search_index.ensure_fresh(force=True)
    for day, lines in listing.items():
        paper_id = min(p for _c, p, kind in lines if kind == "new")
        with hub.db.read() as conn:
            stored = get_paper(conn, paper_id)
        assert stored is not None
        found = search(hub.search_index, hub.embedder, stored.record.title, limit=5)
        assert paper_id in [hit.paper.paper_id for hit in found.hits], (day, paper_id)
