"""The PostgreSQL engine: the daily loop's jobs go through Procrastinate's job queue (its tables
come from migration m010), so any number of `paperfeed worker` processes, on any number of
machines, share them.

- **Deferring.** `defer_due` reads the croniter schedule at `now` and queues what is due, the
  same decisions as the in-process worker's `run_due`. Each (job, period) is queued under the
  queueing lock `job:period`, so a period's job waits in the queue once however many workers
  defer it, and under the lock `job`, so the same job never runs twice at a time. A periodic
  task (each minute, deferred once per minute whatever the number of workers) calls it.
- **Running.** A job records its run in `job_runs` as in-process (start, end, counts, error,
  attempt), skips a period already done (a copy queued while the first ran), and once done
  queues what follows it (fetch → embed → feature → digest) without waiting for the next tick.
- **Digest fan-out.** The digest job opens the day's issues (ledger rows written once) and
  queues one delivery job per `digest_recipients_per_job` recipients; they claim rows of the
  same ledger, so each mail goes out once whichever worker sends it.
- **Stalled jobs.** Each worker beats every `queue_heartbeat_s`; one silent for
  `queue_stalled_after_s` (killed with kill -9, its machine gone) is dead, and a periodic task
  puts the jobs it was running back in the queue. Jobs are idempotent per period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import os
import socket
from collections.abc import Collection
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

from paperfeed.db.digests import list_issues
from paperfeed.db.jobs import get_run
from paperfeed.db.queue_schema import QUEUE
from paperfeed.db.vectors import count_vectors
from paperfeed.digest.service import DigestParts, due_issues, open_issue_for, send_issue
from paperfeed.ingest.github_stars import ALLOWED_GITHUB_HOSTS
from paperfeed.loop.jobs import (
    delivery_policy,
    embed_new,
    feature_day,
    fetch_day,
    keyphrase_pending,
    keyphrases_pending,
    mirror_hf_daily,
    notify_due,
    refresh_stars,
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
)
from paperfeed.loop.worker import PassClock, feed_day_open, is_due, run_job
from paperfeed.search.index import contract_of

log = logging.getLogger(__name__)

RUN_TASK = "paperfeed.loop.run"
DELIVER_TASK = "paperfeed.loop.deliver"
VECTORS_TASK = "paperfeed.loop.embed_missing"
TICK_TASK = "paperfeed.loop.tick"
STALLED_TASK = "paperfeed.loop.requeue_stalled"
NOTIFY_TASK = "paperfeed.loop.notify"


def due_jobs(
    parts: DigestParts, *, now: dt.datetime, schedule: Schedule
) -> list[tuple[str, dt.date]]:
    """The (job, period) pairs due at `now`: the next step of the listing day's chain
    (fetch, then embed, then feature), the digest day's digest once its feed is closed, and the
    UTC day's stars (when repositories are due) and Hugging Face mirror (when it is on)."""
    due: list[tuple[str, dt.date]] = []
    with parts.db.read() as conn:
        if parts.settings.arxiv_categories:
            day, fire = schedule.fetch_period(now)
            for job in (FETCH, EMBED, FEATURE):
                run = get_run(conn, job=job, period=day.isoformat())
                if run is not None and run.done:
                    continue
                looking = job != FETCH or schedule.still_looking(fire, now)
                if looking and is_due(run, now):
                    due.append((job, day))
                break
        digest_day, _fire = schedule.digest_period(now)
        digest = get_run(conn, job=DIGEST, period=digest_day.isoformat())
        utc_day = now.astimezone(dt.UTC).date()
        mirror = get_run(conn, job=HF_MIRROR, period=utc_day.isoformat())
        stars = get_run(conn, job=STARS, period=utc_day.isoformat())
    if is_due(digest, now) and not feed_day_open(parts, schedule=schedule, day=digest_day, now=now):
        due.append((DIGEST, digest_day))
    if is_due(stars, now) and stars_due(parts, now=now):
        due.append((STARS, utc_day))
    if parts.settings.hf_mirror and is_due(mirror, now):
        due.append((HF_MIRROR, utc_day))
    return due


def _defer(app: App, task: str, *, lock: str | None, queueing_lock: str, **args: Any) -> bool:
    """Queue one job; False when its queueing lock says it already waits in the queue."""
    try:
        app.configure_task(task, queue=QUEUE, lock=lock, queueing_lock=queueing_lock).defer(**args)
    except AlreadyEnqueued:
        return False
    return True


def defer_due(
    app: App, parts: DigestParts, *, now: dt.datetime, schedule: Schedule | None = None
) -> list[str]:
    """Queue every job due at `now`, each period's job once; returns the queueing locks of the
    jobs it queued (what was queued already is left alone)."""
    schedule = schedule or Schedule.from_settings(parts.settings)
    queued = []
    # A period's job that runs right now is left to its worker (or, if that worker died, to
    # the stalled-job check): its `job_runs` row says running, which is not a reason to queue.
    running = {
        job.queueing_lock
        for job in app.job_manager.list_jobs(queue=QUEUE, status=Status.DOING.value)
    }
    due = due_jobs(parts, now=now, schedule=schedule)
    for job, period in due:
        key = f"{job}:{period.isoformat()}"
        if key not in running and _defer(
            app, RUN_TASK, lock=job, queueing_lock=key,
            job=job, period=period.isoformat(), now=now.isoformat(),
            queued_at=dt.datetime.now(dt.UTC).isoformat(),
        ):  # fmt: skip
            queued.append(key)
    queued += _defer_unfinished_issues(app, parts)
    # Notification mail: the ledger keeps each member to one mail per interval, so a tick
    # may queue it whenever mail waits; one runs at a time.
    if notify_due(parts, now=now) and _defer(
        app, NOTIFY_TASK, lock=NOTIFY, queueing_lock=NOTIFY_TASK, now=now.isoformat()
    ):
        queued.append(NOTIFY_TASK)
    if parts.embedder is not None and EMBED not in {job for job, _period in due}:
        with parts.db.read() as conn:
            missing = count_vectors(conn, contract=contract_of(parts.embedder)).missing
        # A member's submission between listings, and the keyphrases left after a day's
        # embedding: done by the next free worker.
        pending = missing or keyphrases_pending(parts)
        if pending and _defer(app, VECTORS_TASK, lock=EMBED, queueing_lock=VECTORS_TASK):
            queued.append(VECTORS_TASK)
    if queued:
        log.info("queued %s", ", ".join(queued))
    return queued


def _defer_delivery(app: App, *, kind: str, period: dt.date, parts_count: int) -> list[str]:
    queued = []
    for part in range(parts_count):
        key = f"deliver:{kind}:{period.isoformat()}:{part}"
        if _defer(
            app, DELIVER_TASK, lock=None, queueing_lock=key,
            kind=kind, period=period.isoformat(), part=part,
        ):  # fmt: skip
            queued.append(key)
    return queued


def _defer_unfinished_issues(app: App, parts: DigestParts) -> list[str]:
    """An issue left unfinished (deferred rows, a delivery job lost) gets a delivery job again,
    unless one waits or runs already."""
    with parts.db.read() as conn:
        unfinished = list_issues(conn, status=("building", "sending"), limit=50)
    if not unfinished:
        return []
    busy = {
        (job.task_kwargs.get("kind"), job.task_kwargs.get("period"))
        for status in (Status.TODO, Status.DOING)
        for job in app.job_manager.list_jobs(task=DELIVER_TASK, status=status.value)
    }
    queued = []
    for issue in unfinished:
        if (issue.kind, issue.period.isoformat()) not in busy:
            queued += _defer_delivery(app, kind=issue.kind, period=issue.period, parts_count=1)
    return queued


def queue_digests(app: App, parts: DigestParts, *, day: dt.date) -> dict[str, Any]:
    """The PostgreSQL digest job: open `day`'s issues and queue their delivery, one job per
    `digest_recipients_per_job` recipients."""
    per_job = parts.settings.digest_recipients_per_job
    issues = []
    for kind, period in due_issues(parts, today=day):
        issue, recipients = open_issue_for(parts, kind=kind, period=period)
        count = max(1, math.ceil(recipients / per_job))
        _defer_delivery(app, kind=kind, period=period, parts_count=count)
        issues.append(
            {
                "kind": issue.kind,
                "period": issue.period.isoformat(),
                "recipients": recipients,
                "delivery_jobs": count,
            }
        )
    return {"issues": issues}


def run_queued_job(
    app: App,
    parts: DigestParts,
    *,
    job: str,
    period: dt.date,
    now: dt.datetime,
    schedule: Schedule,
    stars_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
    waited: float = 0.0,
) -> dict[str, Any]:
    """Run one queued job for its period unless it is done (or its retry is not due yet),
    record it, and queue what follows it.

    `now` is the moment it was queued for (what is due is decided on it); `waited`, the real
    seconds it spent in the queue, moves its recorded start and end on from there."""
    with parts.db.read() as conn:
        found = get_run(conn, job=job, period=period.isoformat())
    if found is not None and not is_due(found, now):
        return {"skipped": found.state}
    actions = {
        FETCH: lambda: fetch_day(parts, day=period),
        EMBED: lambda: embed_new(parts),
        FEATURE: lambda: feature_day(parts, day=period, now=now),
        DIGEST: lambda: queue_digests(app, parts, day=period),
        HF_MIRROR: lambda: mirror_hf_daily(parts, day=period),
        STARS: lambda: refresh_stars(parts, now=now, allowed_hosts=stars_hosts),
    }
    clock = PassClock(now + dt.timedelta(seconds=max(0.0, waited)))
    outcome = run_job(
        parts,
        job=job,
        period=period,
        now=now,
        schedule=schedule,
        action=actions[job],
        clock=clock,
    )
    if outcome.state == "done":
        defer_due(app, parts, now=now, schedule=schedule)
    return {"state": outcome.state, "attempt": outcome.attempt}


async def requeue_stalled(app: App, *, stalled_after_s: float) -> list[int]:
    """Put the jobs of dead workers (no heartbeat for `stalled_after_s`) back in the queue.

    A job whose period was queued again meanwhile (its queueing lock is taken) is closed as
    failed instead: the copy in the queue runs it."""
    requeued = []
    manager = app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
        assert job.id is not None
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning("stalled job %s (%s): a copy is queued already", job.id, job.task_name)
            continue
        log.warning("stalled job %s (%s) queued again", job.id, job.task_name)
        requeued.append(job.id)
    return requeued


def _every(seconds: float) -> str:
    """A cron expression (with Procrastinate's seconds field) firing about every `seconds`."""
    step = min(59, max(1, round(seconds)))
    return f"* * * * * */{step}"


def build_app(
    parts: DigestParts,
    *,
    tick: bool = True,
    requeue: bool = True,
    stars_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
) -> App:
    """The Procrastinate app of this store, its tasks bound to `parts`.

    `tick=False` leaves the schedule's periodic deferral out (`--once`, and tests that drive
    `defer_due` on a fake clock); `requeue=False` leaves out the periodic stalled-job check;
    `stars_hosts` is the stars job's host allowlist (tests: a fake GitHub on loopback).
    """
    settings = parts.settings
    schedule = Schedule.from_settings(settings)
    app = App(connector=PsycopgConnector(conninfo=parts.db.conninfo()))
    policy = dataclasses.replace(
        delivery_policy(settings),
        processes=1,
        max_rows=settings.digest_recipients_per_job,
    )

    @app.task(name=RUN_TASK, queue=QUEUE)
    def run(job: str, period: str, now: str, queued_at: str | None = None) -> dict[str, Any]:
        waited = 0.0
        if queued_at is not None:  # real seconds in the queue (the workers' clocks, NTP)
            since = dt.datetime.fromisoformat(queued_at)
            waited = (dt.datetime.now(dt.UTC) - since).total_seconds()
        return run_queued_job(
            app,
            parts,
            job=job,
            period=dt.date.fromisoformat(period),
            now=dt.datetime.fromisoformat(now),
            schedule=schedule,
            stars_hosts=stars_hosts,
            waited=waited,
        )

    @app.task(name=DELIVER_TASK, queue=QUEUE)
    def deliver(kind: str, period: str, part: int) -> dict[str, int]:
        report = send_issue(parts, kind=kind, period=dt.date.fromisoformat(period), policy=policy)
        return {"part": part, "sent": report.sent, "deferred": report.deferred}

    @app.task(name=NOTIFY_TASK, queue=QUEUE)
    def notify(now: str) -> dict[str, Any]:
        return send_notifications(parts, now=dt.datetime.fromisoformat(now))

    @app.task(name=VECTORS_TASK, queue=QUEUE)
    def embed_missing() -> dict[str, Any]:
        return {**embed_new(parts), **keyphrase_pending(parts)}

    if requeue:

        @app.periodic(cron=_every(settings.queue_heartbeat_s), periodic_id="stalled")
        @app.task(name=STALLED_TASK, queue=QUEUE, queueing_lock=STALLED_TASK)
        async def stalled(timestamp: int) -> list[int]:
            return await requeue_stalled(app, stalled_after_s=settings.queue_stalled_after_s)

    if tick:

        @app.periodic(cron="* * * * *", periodic_id="schedule")
        @app.task(name=TICK_TASK, queue=QUEUE, queueing_lock=TICK_TASK)
        def schedule_tick(timestamp: int) -> list[str]:
            now = dt.datetime.fromtimestamp(timestamp, dt.UTC)
            return defer_due(app, parts, now=now, schedule=schedule)

    return app


def run_queue_worker(
    parts: DigestParts,
    *,
    concurrency: int = 1,
    tick: bool = True,
    requeue: bool = True,
    wait: bool = True,
    name: str | None = None,
    keep_jobs: bool = False,
    stars_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
) -> None:
    """Run one Procrastinate worker on this store's queue until stopped (SIGINT, SIGTERM; with
    `wait=False`, until it finds no job). `concurrency` jobs run at a time, in threads.
    Succeeded jobs leave the queue's tables unless `keep_jobs` (their history is `job_runs`)."""
    settings = parts.settings
    app = build_app(parts, tick=tick, requeue=requeue, stars_hosts=stars_hosts)
    app.run_worker(
        queues=[QUEUE],
        concurrency=concurrency,
        wait=wait,
        name=name or f"{socket.gethostname()}:{os.getpid()}",
        update_heartbeat_interval=settings.queue_heartbeat_s,
        stalled_worker_timeout=settings.queue_stalled_after_s,
        delete_jobs="never" if keep_jobs else "successful",
        fetch_job_polling_interval=min(5.0, settings.queue_heartbeat_s),
    )


def run_queue_until_empty(
    parts: DigestParts,
    *,
    concurrency: int = 1,
    keep_jobs: bool = False,
    stars_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
) -> None:
    """Run the queue's jobs here until none waits, those that jobs queue on the way included
    (`paperfeed worker --once`); no periodic task."""
    app = build_app(parts, tick=False, requeue=False)
    while True:
        run_queue_worker(
            parts,
            concurrency=concurrency,
            tick=False,
            requeue=False,
            wait=False,
            keep_jobs=keep_jobs,
            stars_hosts=stars_hosts,
        )
        with app.open():
            waiting = app.job_manager.list_jobs(queue=QUEUE, status=Status.TODO.value)
        if not waiting:
            return
