"""What the week tests share (tests/loop/test_week.py on SQLite, tests/pg/test_queue_week.py on
PostgreSQL): a fake arXiv that serves the day the test says (nothing new on a holiday) with
faults on request, an embedder that marks (and can hold) each embedding so the test knows whom
to kill with kill -9 in the middle, the environment of a worker process, and the checks made at
the end of the week."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from paperfeed.db.announcements import announced_on
from paperfeed.db.papers import get_paper
from paperfeed.db.vectors import get_vector
from paperfeed.search.index import contract_of
from paperfeed.settings import Settings
from tests.ingest.conftest import Received, Reply
from tests.loop.fake_arxiv import day_listing
from tests.search.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "data" / "arxiv_daily" / "arxiv_daily.jsonl.gz"
# The listing's announce types as stored (db.announcements kinds).
KINDS = {"new": "new", "cross": "cross-list", "replace": "replacement"}


def corpus_days(
    path: Path, days: Iterable[dt.date], *, categories: Sequence[str], per_day: int
) -> tuple[dict[str, Any], ...]:
    """The corpus records first seen on `days` that list one of `categories`, at most `per_day`
    of each day (the first by id). The corpus is sorted by first_seen: reading stops after
    the last day."""
    wanted = {day.isoformat() for day in days}
    last = max(wanted)
    kept: Counter[str] = Counter()
    found = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            seen = record["first_seen"]
            if seen > last:
                break
            if seen not in wanted or kept[seen] >= per_day:
                continue
            if set(record["categories"] or []) & set(categories):
                kept[seen] += 1
                found.append(record)
    return tuple(found)


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
        **extra,
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
