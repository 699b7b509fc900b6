"""How the daily loop stands: each job's last and next run, the lag behind arXiv, papers
without vectors, and whether the store, the indexes and the schedule are healthy.

The four announcement jobs come first (their current periods), then the daily-once jobs where
they are on: `stars` (when `github_stars_per_run` > 0) and `hf_mirror` (when `hf_mirror`), due
each UTC day at 00:00 (stars only while a repository's count is stale).

What `paperfeed status` prints and `/healthz` answers. A schedule is stale when a job was due
more than `schedule_grace_minutes` ago and no worker has touched it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from paperfeed.db.announcements import latest_announcement_day
from paperfeed.db.jobs import JobRun, get_run, latest_runs
from paperfeed.db.migrate import current_revision, head_revision
from paperfeed.db.queue_schema import queue_counts
from paperfeed.db.vectors import count_vectors
from paperfeed.digest.service import DigestParts
from paperfeed.loop.jobs import stars_due
from paperfeed.loop.schedule import DIGEST, EMBED, FETCH, HF_MIRROR, JOBS, STARS, Schedule
from paperfeed.loop.worker import feed_day_open
from paperfeed.search.index import contract_of


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One job: its current period's run, its next scheduled time, and whether it is late."""

    job: str
    period: str | None
    last: JobRun | None
    next_at: dt.datetime | None
    late: bool


@dataclass
class LoopStatus:
    """Everything `paperfeed status` and `/healthz` report."""

    now: dt.datetime
    jobs: list[JobStatus]
    latest_announcement: dt.date | None
    expected_announcement: dt.date | None
    papers_without_vectors: int | None
    store_ok: bool
    indexes_ok: bool
    schedule_ok: bool
    problems: list[str] = field(default_factory=list)
    queue: dict[str, int] | None = None  # PostgreSQL: workers alive, jobs waiting/running/failed

    @property
    def lag_days(self) -> int | None:
        """Listing days between the latest stored and the latest announced (calendar days)."""
        if self.expected_announcement is None:
            return None
        if self.latest_announcement is None:
            return None
        return max(0, (self.expected_announcement - self.latest_announcement).days)

    @property
    def healthy(self) -> bool:
        return self.store_ok and self.indexes_ok and self.schedule_ok

    def as_json(self) -> dict[str, Any]:
        """JSON-ready data: what `paperfeed status --json` prints and `/healthz` answers."""
        return {
            "healthy": self.healthy,
            "store": self.store_ok,
            "indexes": self.indexes_ok,
            "schedule": self.schedule_ok,
            "latest_announcement": _iso(self.latest_announcement),
            "expected_announcement": _iso(self.expected_announcement),
            "lag_days": self.lag_days,
            "papers_without_vectors": self.papers_without_vectors,
            "jobs": [
                {
                    "job": j.job,
                    "period": j.period,
                    "late": j.late,
                    "next_at": _iso(j.next_at.astimezone(dt.UTC)) if j.next_at else None,
                    "last": _run_json(j.last) if j.last else None,
                }
                for j in self.jobs
            ],
            "problems": self.problems,
        } | ({"queue": self.queue} if self.queue is not None else {})


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def duration_text(run: JobRun) -> str:
    """How long a run took, for people: `0.42 s`, `12.3 s`, `4 min 05 s`, `2 h 03 min`."""
    took = run.duration
    if took is None:
        return ""
    seconds = took.total_seconds()
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _run_json(run: JobRun) -> dict[str, Any]:
    duration = run.duration
    return {
        "period": run.period,
        "state": run.state,
        "attempt": run.attempt,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_s": round(duration.total_seconds(), 3) if duration is not None else None,
        "next_attempt_at": _iso(run.next_attempt_at),
        "counts": run.counts,
        "error": run.error,
    }


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def _late(
    run: JobRun | None, *, due_at: dt.datetime, now: dt.datetime, grace: dt.timedelta
) -> bool:
    """Due more than `grace` ago and not touched since: never started, or a retry left waiting."""
    if run is None:
        return now > due_at + grace
    if run.state in ("retry", "failed") and run.next_attempt_at is not None:
        return now > _utc(run.next_attempt_at) + grace
    return False


def loop_status(parts: DigestParts, *, now: dt.datetime) -> LoopStatus:
    """Look at the store, the indexes and the job runs as of `now` (aware)."""
    settings = parts.settings
    schedule = Schedule.from_settings(settings)
    problems: list[str] = []
    try:
        with parts.db.read() as conn:
            conn.execute(text("SELECT 1"))
        store_ok = current_revision(parts.db) == head_revision(parts.db)
        if not store_ok:
            problems.append("store: migrations pending (run `paperfeed migrate`)")
    except Exception as exc:  # the store is down: nothing else can be read
        return LoopStatus(now, [], None, None, None, False, False, False, [f"store: {exc}"])
    fires = schedule.next_fires(now)
    day, fire = schedule.fetch_period(now)
    digest_day, digest_fire = schedule.digest_period(now)
    fetching = bool(settings.arxiv_categories)
    jobs: list[JobStatus] = []
    with parts.db.read() as conn:
        runs = {
            job: get_run(conn, job=job, period=(digest_day if job == DIGEST else day).isoformat())
            for job in JOBS
        }
        latest = latest_announcement_day(conn)
        missing = (
            count_vectors(conn, contract=contract_of(parts.embedder)).missing
            if parts.embedder is not None
            else None
        )
    for job in JOBS:
        run = runs[job]
        late = False
        if job == DIGEST:
            if not feed_day_open(parts, schedule=schedule, day=digest_day, now=now):
                late = _late(run, due_at=digest_fire, now=now, grace=schedule.grace)
            jobs.append(JobStatus(job, digest_day.isoformat(), run, fires[job], late))
            continue
        if not fetching:
            jobs.append(JobStatus(job, None, None, None, False))
            continue
        if job == FETCH:
            if schedule.still_looking(fire, now):
                late = _late(run, due_at=fire, now=now, grace=schedule.grace)
        else:
            before = runs[FETCH if job == EMBED else EMBED]
            if before is not None and before.done and before.finished_at is not None:
                late = _late(run, due_at=_utc(before.finished_at), now=now, grace=schedule.grace)
        jobs.append(JobStatus(job, day.isoformat(), run, fires[job], late))
    jobs += _daily_jobs(parts, now=now, grace=schedule.grace)
    for status in jobs:
        if status.late:
            problems.append(f"schedule: {status.job} {status.period} is overdue (no worker?)")
    indexes_ok = True
    try:
        index = parts.search_index.status()
        if index.reindex_needed or index.keyword_documents < index.papers:
            indexes_ok = False
            problems.append(
                f"indexes: {index.keyword_documents:,} of {index.papers:,} papers indexed"
                + ("; reindex needed" if index.reindex_needed else "")
            )
    except Exception as exc:
        indexes_ok = False
        problems.append(f"indexes: {type(exc).__name__}: {exc}")
    return LoopStatus(
        now=now,
        jobs=jobs,
        latest_announcement=latest,
        expected_announcement=day if fetching else None,
        papers_without_vectors=missing,
        store_ok=store_ok,
        indexes_ok=indexes_ok,
        schedule_ok=not any(s.late for s in jobs),
        problems=problems,
        queue=_queue(parts),
    )


def _daily_jobs(parts: DigestParts, *, now: dt.datetime, grace: dt.timedelta) -> list[JobStatus]:
    """The daily-once jobs that are on: today's (UTC) period, the job's latest run (today's, or
    an earlier day's when none ran today), and when it is next due: now (since 00:00 UTC) when
    it has work today and has not run, its retry time after a retry or failure, else 00:00 UTC
    tomorrow. Late like the others when due longer than `grace` with no worker touching it:
    the mirror from 00:00 UTC, either after a retry or failure left waiting."""
    settings = parts.settings
    wanted = [
        job
        for job, on in ((STARS, settings.github_stars_per_run > 0), (HF_MIRROR, settings.hf_mirror))
        if on
    ]
    if not wanted:
        return []
    day = now.astimezone(dt.UTC).date()
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    tomorrow = midnight + dt.timedelta(days=1)
    with parts.db.read() as conn:
        today = {job: get_run(conn, job=job, period=day.isoformat()) for job in wanted}
        latest = latest_runs(conn)
    found = []
    for job in wanted:
        run = today[job]
        next_at, late = tomorrow, False
        if run is None:
            if job == HF_MIRROR:
                next_at, late = midnight, _late(None, due_at=midnight, now=now, grace=grace)
            elif stars_due(parts, now=now):
                # A count goes stale, or a paper brings a new repository, at any time of day:
                # when it became due is unknown, so only a retry left waiting makes it late.
                next_at = midnight
        elif run.state in ("retry", "failed") and run.next_attempt_at is not None:
            next_at = _utc(run.next_attempt_at)
            late = _late(run, due_at=midnight, now=now, grace=grace)
        found.append(JobStatus(job, day.isoformat(), run or latest.get(job), next_at, late))
    return found


def _queue(parts: DigestParts) -> dict[str, int] | None:
    """The PostgreSQL engine's queue, or None (SQLite: the jobs run in-process)."""
    if parts.db.is_sqlite:
        return None
    with parts.db.read() as conn:
        return queue_counts(conn, alive_within_s=parts.settings.queue_stalled_after_s)
