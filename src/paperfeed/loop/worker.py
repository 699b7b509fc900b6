"""The in-process worker: run what is due now, record each run, sleep until the next due job.

One worker per store, guarded by a file lock (freed by the OS even after kill -9). Each job is
idempotent per period: a run recorded done is never repeated; a crash leaves it `running`, and
the next pass runs it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from paperfeed.db.digests import list_issues
from paperfeed.db.jobs import JobRun, finish_run, get_run, start_run
from paperfeed.db.vectors import count_vectors
from paperfeed.digest.service import DigestParts, send_issue
from paperfeed.ingest._http import Clock as PoliteClock
from paperfeed.ingest.arxiv_listing import Clock as HttpClock
from paperfeed.ingest.github_stars import ALLOWED_GITHUB_HOSTS
from paperfeed.loop.jobs import (
    NotYet,
    delivery_policy,
    embed_new,
    feature_day,
    fetch_day,
    keyphrase_pending,
    keyphrases_pending,
    mirror_hf_daily,
    notify_due,
    refresh_stars,
    send_digests,
    send_notifications,
    stars_due,
)
from paperfeed.loop.schedule import (
    DIGEST,
    EMBED,
    FEATURE,
    FETCH,
    HF_MIRROR,
    NOTIFY,
    STARS,
    Schedule,
    notify_slot,
)
from paperfeed.search.index import contract_of

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=6)


class Clock(Protocol):
    """Where the worker reads the time (aware) and sleeps; tests pass a fake one."""

    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class WorkerBusy(RuntimeError):
    """Another worker holds this store's lock."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of one job did."""

    job: str
    period: str
    state: str
    attempt: int
    counts: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Pass:
    """What one pass of the worker ran."""

    outcomes: list[Outcome] = field(default_factory=list)


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


@contextmanager
def worker_lock(path: Path) -> Iterator[None]:
    """Hold the store's worker lock; raise WorkerBusy at once if another worker has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise WorkerBusy(f"another paperfeed worker runs on this store (lock {path})") from None
    try:
        yield
    finally:
        lock.release()


def is_due(run: JobRun | None, now: dt.datetime) -> bool:
    """Whether a job's period should run now: never run, left running by a crash, or retry due."""
    if run is None or run.state == "running":
        return True
    if run.state == "done":
        return False
    return run.next_attempt_at is None or run.next_attempt_at <= _naive(now)


class PassClock:
    """A pass's clock: `now` (the worker's clock, fake in tests) decides what is due, and a
    monotonic clock moves it on while the pass runs, so a run's start and end are when it
    really started and ended on the worker's clock and its duration is real on a fake clock
    too. Retry times are counted from `now`, so the schedule stays deterministic."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._started = time.monotonic()

    def at(self) -> dt.datetime:
        """`now` plus the time that has really passed since this clock was made."""
        return self.now + dt.timedelta(seconds=time.monotonic() - self._started)


def run_job(
    parts: DigestParts,
    *,
    job: str,
    period: dt.date,
    now: dt.datetime,
    schedule: Schedule,
    action: Callable[[], dict[str, Any]],
    clock: PassClock | None = None,
) -> Outcome:
    """Run one job for one period and record the attempt: done, retry (NotYet) or failed.

    The run's start and end come from `clock` (a pass's clock: `now` moved on by the time
    really spent since the pass began); its retry time from `now`."""
    clock = clock or PassClock(now)
    key = period.isoformat()
    with parts.db.write() as conn:
        attempt = start_run(conn, job=job, period=key, now=_naive(clock.at()))
    state, counts, error, retry_at = "done", None, None, None
    try:
        counts = action()
    except NotYet as exc:
        state, error = "retry", str(exc)
        retry_at = _naive(now + schedule.fetch_retry)
    except Exception as exc:
        log.exception("%s %s failed (attempt %d)", job, key, attempt)
        state, error = "failed", f"{type(exc).__name__}: {exc}"
        retry_at = _naive(now + min(schedule.fetch_retry * 2 ** (attempt - 1), MAX_BACKOFF))
    with parts.db.write() as conn:
        finish_run(
            conn,
            job=job,
            period=key,
            state=state,
            now=_naive(clock.at()),
            counts=counts,
            error=error,
            next_attempt_at=retry_at,
        )
    log.info("%s %s: %s %s", job, key, state, counts or error or "")
    return Outcome(job, key, state, attempt, counts, error)


def feed_day_open(
    parts: DigestParts, *, schedule: Schedule, day: dt.date, now: dt.datetime
) -> bool:
    """Whether `day`'s listing is still being fetched, embedded or featured (digests wait)."""
    if not parts.settings.arxiv_categories:
        return False
    fetch_day_, fire = schedule.fetch_period(now)
    if fetch_day_ != day or not schedule.still_looking(fire, now):
        return False
    with parts.db.read() as conn:
        run = get_run(conn, job=FEATURE, period=day.isoformat())
    return run is None or not run.done


def run_due(
    parts: DigestParts,
    *,
    now: dt.datetime,
    schedule: Schedule | None = None,
    http_clock: HttpClock | None = None,
    stars_clock: PoliteClock | None = None,
    stars_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
    hf_clock: PoliteClock | None = None,
) -> Pass:
    """Run every job due at `now`, in order: fetch → embed → feature (the listing day), then
    the digests of the digest day once that day's feed is closed, then the stars of the
    GitHub repositories due and the Hugging Face mirror when it is on (each once a UTC day),
    then notification mail (once a slot of `notify_mail_every_minutes`, when any waits)."""
    schedule = schedule or Schedule.from_settings(parts.settings)
    done = Pass()
    clock = PassClock(now)

    def run(job: str, period: dt.date, action: Callable[[], dict[str, Any]]) -> bool:
        with parts.db.read() as conn:
            found = get_run(conn, job=job, period=period.isoformat())
        if found is not None and found.done:
            return True
        if not is_due(found, now):
            return False
        outcome = run_job(
            parts, job=job, period=period, now=now, schedule=schedule, action=action, clock=clock
        )
        done.outcomes.append(outcome)
        return outcome.state == "done"

    if parts.settings.arxiv_categories:
        day, fire = schedule.fetch_period(now)
        with parts.db.read() as conn:
            fetched = get_run(conn, job=FETCH, period=day.isoformat())
        fetch_ok = fetched is not None and fetched.done
        if not fetch_ok and schedule.still_looking(fire, now):
            fetch_ok = run(FETCH, day, lambda: fetch_day(parts, day=day, http_clock=http_clock))
        if fetch_ok and run(EMBED, day, lambda: embed_new(parts)):
            run(FEATURE, day, lambda: feature_day(parts, day=day, now=now))
    digest_day, _fire = schedule.digest_period(now)
    if not feed_day_open(parts, schedule=schedule, day=digest_day, now=now):
        run(DIGEST, digest_day, lambda: send_digests(parts, day=digest_day))
    utc_day = now.astimezone(dt.UTC).date()
    if stars_due(parts, now=now):
        run(
            STARS,
            utc_day,
            lambda: refresh_stars(
                parts, now=now, http_clock=stars_clock, allowed_hosts=stars_hosts
            ),
        )
    if parts.settings.hf_mirror:
        run(HF_MIRROR, utc_day, lambda: mirror_hf_daily(parts, day=utc_day, http_clock=hf_clock))
    if notify_due(parts, now=now):
        slot = notify_slot(now, parts.settings.notify_mail_every_minutes)
        run(NOTIFY, slot, lambda: send_notifications(parts, now=now))
    _finish_open_issues(parts)
    _embed_stragglers(parts)
    if keyphrases_pending(parts):  # after the digest: keyphrases are not on the day's path
        keyphrase_pending(parts)
    return done


def _embed_stragglers(parts: DigestParts) -> None:
    """Embed papers that arrived between listings (a member's submission), so they are
    searchable by the next pass rather than the next announcement."""
    if parts.embedder is None:
        return
    with parts.db.read() as conn:
        missing = count_vectors(conn, contract=contract_of(parts.embedder)).missing
    if missing:
        log.info("embedding %d papers without a vector", missing)
        embed_new(parts)


def _finish_open_issues(parts: DigestParts) -> None:
    """Deliver what is left of unfinished issues (deferred mails whose retry time came)."""
    with parts.db.read() as conn:
        unfinished = list_issues(conn, status=("building", "sending"), limit=50)
    for issue in unfinished:
        send_issue(
            parts, kind=issue.kind, period=issue.period, policy=delivery_policy(parts.settings)
        )


def next_wake(
    parts: DigestParts, *, now: dt.datetime, schedule: Schedule, max_sleep: dt.timedelta
) -> dt.datetime:
    """When the worker should look again: the next scheduled job, a retry, or `max_sleep`."""
    candidates = [now + max_sleep, *schedule.next_fires(now).values()]
    day, fire = schedule.fetch_period(now)
    digest_day, _ = schedule.digest_period(now)
    jobs = [(EMBED, day), (FEATURE, day), (DIGEST, digest_day)]
    if schedule.still_looking(fire, now):  # a day given up (a holiday) is retried no more
        jobs.append((FETCH, day))
    with parts.db.read() as conn:
        for job, period in jobs:
            run = get_run(conn, job=job, period=period.isoformat())
            if run is None or run.done or run.next_attempt_at is None:
                continue
            retry_at = run.next_attempt_at.replace(tzinfo=dt.UTC)
            if retry_at > now:
                candidates.append(retry_at)
    return max(now, min(c.astimezone(dt.UTC) for c in candidates))


def run_worker(
    parts: DigestParts,
    *,
    clock: Clock,
    once: bool = False,
    max_sleep: dt.timedelta = dt.timedelta(minutes=5),
    http_clock: HttpClock | None = None,
    on_pass: Callable[[Pass], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Hold the store's lock and run the schedule: once (`once`), or until `keep_going` says no."""
    schedule = Schedule.from_settings(parts.settings)
    with worker_lock(parts.settings.worker_lock_path):
        while True:
            result = run_due(parts, now=clock.now(), schedule=schedule, http_clock=http_clock)
            if on_pass is not None:
                on_pass(result)
            if once or not keep_going():
                return
            now = clock.now()
            wake = next_wake(parts, now=now, schedule=schedule, max_sleep=max_sleep)
            clock.sleep(max(1.0, (wake - now).total_seconds()))


class SystemClock:
    """The real clock: aware UTC now, `time.sleep`."""

    def now(self) -> dt.datetime:
        """Return the current time, aware, in UTC."""
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        """Call `time.sleep`."""
        time.sleep(seconds)
