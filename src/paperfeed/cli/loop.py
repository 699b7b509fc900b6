"""`paperfeed worker` and `paperfeed status`: run the daily loop, and show how it stands.

Thin commands over paperfeed.loop (docs/daily-loop.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from paperfeed.cli._console import err, make_hub, out
from paperfeed.db.jobs import list_runs
from paperfeed.hub import Hub

if TYPE_CHECKING:
    from paperfeed.loop.worker import Pass

# The loop's modules are imported by the commands that run them: they bring the digest and the
# recommender (scipy), which `paperfeed --help`, `search` and every other command's start
# should not pay (~0.4 s).

# sysexits.h's EX_TEMPFAIL: another worker holds the store; try again later (cron).
EXIT_BUSY = 75


def register(app: typer.Typer) -> None:
    """Add the daily loop's commands to the main app."""
    app.command()(worker)
    app.command()(status)


def _print_pass(result: Pass) -> None:
    for o in result.outcomes:
        detail = json.dumps(o.counts) if o.counts is not None else (o.error or "")
        colour = {"done": "green", "retry": "yellow"}.get(o.state, "red")
        out.print(
            f"{o.job} {o.period}: [{colour}]{o.state}[/] (attempt {o.attempt}) {detail}",
            highlight=False,
        )


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now, then exit (for cron and tests).")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="Longest sleep between two passes, in seconds (SQLite).")
    ] = 300.0,
    concurrency: Annotated[
        int,
        typer.Option(min=1, help="Jobs this worker runs at a time (PostgreSQL; SQLite runs one)."),
    ] = 1,
) -> None:
    """Run the daily loop: fetch arXiv's listing, embed, feature, send digests, on schedule.

    SQLite: one worker per store (a lock file beside the search indexes) runs the jobs
    in-process and sleeps until the next due job. PostgreSQL: the jobs go through a
    Procrastinate queue in the store; run workers on as many machines as you like. Exit codes:
    0 done (with --once: every due job done or waiting for arXiv); 1 (--once) a job failed;
    75 another worker runs on this SQLite store.
    """
    from paperfeed.loop.worker import SystemClock, WorkerBusy, run_worker

    hub = make_hub()
    if not hub.db.is_sqlite:
        _queue_worker(hub, once=once, concurrency=concurrency)
        return
    if concurrency > 1:
        err.print("[yellow]note:[/] --concurrency applies to PostgreSQL; SQLite runs one job")
    failed: list[str] = []

    def on_pass(result: Pass) -> None:
        _print_pass(result)
        failed.extend(o.job for o in result.outcomes if o.state == "failed")

    try:
        run_worker(
            hub,
            clock=SystemClock(),
            once=once,
            max_sleep=dt.timedelta(seconds=interval),
            on_pass=on_pass,
        )
    except WorkerBusy as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_BUSY) from None
    finally:
        hub.close()
    raise typer.Exit(1 if failed else 0)


def _queue_worker(hub: Hub, *, once: bool, concurrency: int) -> None:
    """The PostgreSQL engine: a Procrastinate worker (with --once: queue what is due now, run
    the queue until it is empty, report)."""
    from paperfeed.loop.queue import build_app, defer_due, run_queue_until_empty, run_queue_worker
    from paperfeed.loop.worker import Outcome, Pass, SystemClock

    now = SystemClock().now()
    try:
        if not once:
            # Procrastinate and the jobs say what they run (one line per job) on stderr.
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
            run_queue_worker(hub, concurrency=concurrency)
            return
        app = build_app(hub, tick=False, requeue=False)
        with app.open():
            queued = defer_due(app, hub, now=now)
        out.print(f"queued: {', '.join(queued) or 'nothing due'}", highlight=False)
        run_queue_until_empty(hub, concurrency=concurrency)
        with hub.db.read() as conn:
            runs = [r for r in list_runs(conn) if r.started_at >= now.replace(tzinfo=None)]
    finally:
        hub.close()
    _print_pass(
        Pass([Outcome(r.job, r.period, r.state, r.attempt, r.counts, r.error) for r in runs])
    )
    raise typer.Exit(1 if any(r.state == "failed" for r in runs) else 0)


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Show the daily loop: each job's last run (how long it took) and next, the lag behind
    arXiv, papers without vectors, and whether store, indexes and schedule are healthy (exit
    code 1 when not). The daily-once jobs (stars, hf_mirror) are listed where they are on."""
    from paperfeed.loop.status import duration_text, loop_status
    from paperfeed.loop.worker import SystemClock

    hub = make_hub()
    try:
        found = loop_status(hub, now=SystemClock().now())
    finally:
        hub.close()
    if as_json:
        out.print_json(json.dumps(found.as_json(), default=str))
        raise typer.Exit(0 if found.healthy else 1)
    table = Table(
        "job", "period", "state", "attempt", "started", "finished", "took", "next", "note"
    )
    for j in found.jobs:
        last = j.last
        note = "LATE" if j.late else ""
        if last is not None and last.error:
            note = f"{note} {last.error}".strip()
        table.add_row(
            j.job,
            last.period if last else (j.period or "(no categories)"),
            last.state if last else "",
            str(last.attempt) if last else "",
            _when(last.started_at.replace(tzinfo=dt.UTC)) if last else "",
            _when(last.finished_at.replace(tzinfo=dt.UTC)) if last and last.finished_at else "",
            duration_text(last) if last else "",
            _when(j.next_at),
            note,
        )
    out.print(table)
    lag = found.lag_days
    out.print(
        f"latest announcement stored: {found.latest_announcement or 'none'}"
        + (f" (expected {found.expected_announcement}; lag {lag} days)" if lag is not None else "")
    )
    if found.papers_without_vectors is not None:
        out.print(f"papers without vectors: {found.papers_without_vectors:,}")
    if found.queue is not None:
        q = found.queue
        out.print(
            f"queue: {q['workers']} workers alive, {q['waiting']} jobs waiting, "
            f"{q['running']} running, {q['failed']} failed"
        )
    verdict = "[green]healthy[/]" if found.healthy else "[red]unhealthy[/]"
    out.print(
        f"{verdict}: store {'ok' if found.store_ok else 'DOWN'}, "
        f"indexes {'ok' if found.indexes_ok else 'STALE'}, "
        f"schedule {'ok' if found.schedule_ok else 'STALE'}"
    )
    for problem in found.problems:
        err.print(f"[yellow]{problem}[/]")
    raise typer.Exit(0 if found.healthy else 1)
