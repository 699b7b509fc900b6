"""The daily loop's job runs in the store: one row per job and period, updated on each attempt.

States: running (an attempt started; a crash leaves it so, and the next pass runs it again),
done, retry (nothing to do yet: look again at next_attempt_at), failed (an error; retried later).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from paperfeed.db.schema import job_runs

STATES = ("running", "done", "retry", "failed")


@dataclass(frozen=True, slots=True)
class JobRun:
    """The latest attempt at one job for one period (times are naive UTC)."""

    job: str
    period: str
    state: str
    attempt: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    counts: dict[str, Any] | None
    error: str | None

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def duration(self) -> dt.timedelta | None:
        """How long the latest attempt took (None while it runs)."""
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


def _run(row: Any) -> JobRun:
    return JobRun(
        job=row.job,
        period=row.period,
        state=row.state,
        attempt=row.attempt,
        started_at=row.started_at,
        finished_at=row.finished_at,
        next_attempt_at=row.next_attempt_at,
        counts=dict(row.counts) if row.counts is not None else None,
        error=row.error,
    )


def get_run(conn: Connection, *, job: str, period: str) -> JobRun | None:
    """The run of `job` for `period`, or None if it never started."""
    row = conn.execute(
        select(job_runs).where(job_runs.c.job == job, job_runs.c.period == period)
    ).first()
    return _run(row) if row is not None else None


def start_run(conn: Connection, *, job: str, period: str, now: dt.datetime) -> int:
    """Mark an attempt started (attempt + 1) in the caller's transaction; return its number."""
    found = get_run(conn, job=job, period=period)
    fields = {
        "state": "running",
        "started_at": now,
        "finished_at": None,
        "next_attempt_at": None,
        "error": None,
    }
    if found is None:
        conn.execute(job_runs.insert().values(job=job, period=period, attempt=1, **fields))
        return 1
    conn.execute(
        job_runs.update()
        .where(job_runs.c.job == job, job_runs.c.period == period)
        .values(attempt=found.attempt + 1, **fields)
    )
    return found.attempt + 1


def finish_run(
    conn: Connection,
    *,
    job: str,
    period: str,
    state: str,
    now: dt.datetime,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
    next_attempt_at: dt.datetime | None = None,
) -> None:
    """Record how the latest attempt ended: done (with counts), retry or failed (with error)."""
    if state not in STATES or state == "running":
        raise ValueError(f"a run ends done, retry or failed, not {state!r}")
    conn.execute(
        job_runs.update()
        .where(job_runs.c.job == job, job_runs.c.period == period)
        .values(
            state=state,
            finished_at=now,
            counts=counts,
            error=error,
            next_attempt_at=next_attempt_at,
        )
    )


def latest_runs(conn: Connection) -> dict[str, JobRun]:
    """Each job's most recent run (by period, then start)."""
    newest = (
        select(job_runs.c.job, func.max(job_runs.c.period).label("period"))
        .group_by(job_runs.c.job)
        .subquery()
    )
    rows = conn.execute(
        select(job_runs).join(
            newest, (job_runs.c.job == newest.c.job) & (job_runs.c.period == newest.c.period)
        )
    )
    return {row.job: _run(row) for row in rows}


def list_runs(
    conn: Connection,
    *,
    job: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[JobRun]:
    """Recent runs, the latest started first (optionally of one job, or in one state)."""
    query = select(job_runs).order_by(
        job_runs.c.started_at.desc(), job_runs.c.period.desc(), job_runs.c.job
    )
    if job is not None:
        query = query.where(job_runs.c.job == job)
    if state is not None:
        query = query.where(job_runs.c.state == state)
    return [_run(row) for row in conn.execute(query.limit(limit).offset(offset))]


def count_runs(conn: Connection, *, job: str | None = None, state: str | None = None) -> int:
    """How many runs `list_runs` would page through."""
    query = select(func.count()).select_from(job_runs)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    if state is not None:
        query = query.where(job_runs.c.state == state)
    return int(conn.scalar(query) or 0)
