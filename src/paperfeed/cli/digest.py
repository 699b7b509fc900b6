"""`paperfeed digest send|status|resume|preview`, `paperfeed subscribers …`.

Thin commands over paperfeed.digest.service and paperfeed.db.digests (docs/digests.md).
Exit codes of `digest send|resume`: 0 every mail of the issue is final and none failed;
1 some failed, were left deferred, or the issue is paused.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import email
import email.policy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from paperfeed.addresses import InvalidAddress, is_address, normalize_address
from paperfeed.cli._console import EXIT_NOT_FOUND, err, make_hub, out
from paperfeed.db.digests import (
    Issue,
    Preferences,
    count_subscribers,
    get_issue,
    issue_counts,
    list_issues,
    list_subscribers,
)
from paperfeed.digest.deliver import resume_issue
from paperfeed.digest.policy import DeliveryReport, SystemClock
from paperfeed.digest.subscribers import (
    add_subscriber_now,
    import_subscribers,
    remove_subscriber_by_email,
)

digest_app = typer.Typer(
    help="Compose and send email digests.", no_args_is_help=True, rich_markup_mode=None
)
subscribers_app = typer.Typer(
    help="Manage digest subscribers.", no_args_is_help=True, rich_markup_mode=None
)


class Kind(StrEnum):
    daily = "daily"
    weekly = "weekly"


def register(app: typer.Typer) -> None:
    """Add the digest commands to the main app."""
    app.add_typer(digest_app, name="digest")
    app.add_typer(subscribers_app, name="subscribers")


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]error:[/] --date takes YYYY-MM-DD, not {value!r}")
        raise typer.Exit(2) from None


class _MailRate(ProgressColumn):
    """Mails handled per second (sent, deferred, failed or skipped)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} mails/s", style="progress.data.speed")


@contextmanager
def _delivery_progress() -> Iterator[tuple[Any, Any]]:
    """A progress bar over the issue's rows (on stderr), advanced by the engine's events."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _MailRate(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        state: dict[str, Any] = {"task": None}

        def on_issue(issue: Issue, total: int) -> None:
            state["task"] = progress.add_task(f"{issue.kind} digest {issue.period}", total=total)

        def on_event(_kind: str) -> None:
            if state["task"] is not None:
                progress.advance(state["task"])

        yield on_issue, on_event


def _summary(report: DeliveryReport) -> int:
    issue, counts = report.issue, report.counts
    out.print(
        f"{issue.kind} digest {issue.period}: {issue.status}; "
        f"this run sent {report.sent:,}, deferred {report.deferred:,} "
        f"({report.ambiguous:,} ambiguous), failed {report.failed:,}, skipped {report.skipped:,} "
        f"in {report.elapsed_s:,.1f} s"
    )
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(counts.by_state.items()))
    out.print(f"ledger: {counts.total:,} rows ({states or 'none'})")
    if issue.status == "paused":
        out.print(f"[yellow]paused:[/] {issue.paused_reason}")
    if report.connect_failures:
        err.print(f"[yellow]{report.connect_failures} failed connection attempts[/]")
    final = counts["sent"] + counts["skipped"] + counts["suppressed"]
    return 0 if issue.status == "done" and final == counts.total else 1


@digest_app.command("send")
def send(
    kind: Annotated[Kind, typer.Option(help="Which digest.")] = Kind.daily,
    date: Annotated[
        str | None,
        typer.Option(help="The day the digest is for, YYYY-MM-DD [default: newest featured day]."),
    ] = None,
) -> None:
    """Send the digest of a day: make the issue once, write its ledger, deliver what is left.

    Safe to run again, or at the same time elsewhere: each subscriber gets the issue once.
    """
    from paperfeed.digest.service import default_period, send_issue

    hub = make_hub()
    period = _parse_date(date) or default_period(hub, kind.value)
    with _delivery_progress() as (on_issue, on_event):
        report = send_issue(
            hub, kind=kind.value, period=period, progress=on_event, on_issue=on_issue
        )
    raise typer.Exit(_summary(report))


@digest_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    limit: Annotated[int, typer.Option(help="How many recent issues.")] = 10,
) -> None:
    """Show the latest issues and their ledgers (sent, deferred, failed …)."""
    hub = make_hub()
    with hub.db.read() as conn:
        issues = list_issues(conn, limit=limit)
        counts = {i.issue_id: issue_counts(conn, issue_id=i.issue_id) for i in issues}
        subs = count_subscribers(conn)
    if as_json:
        data = {
            "subscribers": subs,
            "issues": [
                dataclasses.asdict(i) | {"ledger": counts[i.issue_id].by_state} for i in issues
            ],
        }
        out.print_json(json.dumps(data, default=str))
        return
    out.print(
        "subscribers: " + (", ".join(f"{k} {v:,}" for k, v in sorted(subs.items())) or "none")
    )
    table = Table(
        "issue", "kind", "period", "status", "rows", "sent", "deferred", "failed", "other"
    )
    for issue in issues:
        c = counts[issue.issue_id]
        other = c.total - c["sent"] - c["deferred"] - c["failed"]
        table.add_row(
            str(issue.issue_id),
            issue.kind,
            str(issue.period),
            issue.status,
            f"{c.total:,}",
            f"{c['sent']:,}",
            f"{c['deferred']:,}",
            f"{c['failed']:,}",
            f"{other:,}",
        )
    out.print(table)
    for issue in issues:
        if issue.status == "paused":
            out.print(f"issue {issue.issue_id} paused: {issue.paused_reason}")


@digest_app.command("resume")
def resume(
    issue_id: Annotated[
        int | None, typer.Argument(help="The paused issue [default: every paused issue].")
    ] = None,
) -> None:
    """Resume paused issues and send what is left; mails already sent are not sent again."""
    from paperfeed.digest.service import deliver_open_issue

    hub = make_hub()
    with hub.db.read() as conn:
        if issue_id is not None:
            found = get_issue(conn, issue_id=issue_id)
            paused = [found] if found is not None and found.status == "paused" else []
        else:
            paused = list_issues(conn, status=("paused",), limit=100)
    if not paused:
        err.print("no paused issue" + (f" with id {issue_id}" if issue_id else ""))
        raise typer.Exit(EXIT_NOT_FOUND if issue_id is not None else 0)
    code = 0
    for issue in paused:
        resume_issue(hub.db, issue_id=issue.issue_id)
        with hub.db.read() as conn:
            fresh = get_issue(conn, issue_id=issue.issue_id)
        assert fresh is not None
        out.print(f"resumed issue {issue.issue_id} ({issue.kind} {issue.period})")
        with _delivery_progress() as (on_issue, on_event):
            report = deliver_open_issue(hub, fresh, progress=on_event, on_issue=on_issue)
        code = max(code, _summary(report))
    raise typer.Exit(code)


@digest_app.command("preview")
def preview(
    address: Annotated[str, typer.Argument(help="The subscriber's email address.")],
    kind: Annotated[Kind | None, typer.Option(help="Which digest [default: theirs].")] = None,
    date: Annotated[str | None, typer.Option(help="The day, YYYY-MM-DD.")] = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the whole message.")] = False,
) -> None:
    """Show the digest a subscriber would get (nothing is sent or recorded)."""
    from paperfeed.digest.service import preview as make_preview

    hub = make_hub()
    found = make_preview(
        hub, email=address, kind=kind.value if kind else None, period=_parse_date(date)
    )
    if found is None:
        err.print(f"[red]error:[/] {address} is not a subscriber")
        raise typer.Exit(EXIT_NOT_FOUND)
    _plan, data = found
    if raw:
        out.print(data.decode("utf-8", "replace"), markup=False)
        return
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    out.print(f"Subject: {message['Subject']}", markup=False)
    part = message.get_body(preferencelist=("html",) if html else ("plain",))
    assert part is not None
    out.print(part.get_content(), markup=False)


def _preferences(frequency: Kind, weekday: int) -> Preferences:
    try:
        return Preferences(frequency=frequency.value, weekday=weekday)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


@subscribers_app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="Email address.")],
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed", help="Mark it confirmed (only for addresses that already opted in)."
        ),
    ] = False,
    frequency: Annotated[Kind, typer.Option(help="daily or weekly.")] = Kind.daily,
    weekday: Annotated[int, typer.Option(help="Weekly digests: 0 Monday .. 6 Sunday.")] = 0,
) -> None:
    """Add a subscriber. Without --confirmed it gets no digest until it confirms."""
    if not is_address(address):
        err.print(f"[red]error:[/] {address!r} is not an email address")
        raise typer.Exit(2)
    hub = make_hub()
    subscriber, created = add_subscriber_now(
        db=hub.db,
        email=address,
        preferences=_preferences(frequency, weekday),
        confirmed=confirmed,
        now=SystemClock().now(),
    )
    verb = "added" if created else "already there:"
    out.print(f"{verb} {subscriber.email} ({subscriber.status}, {subscriber.frequency})")


@subscribers_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A file of addresses: one a line, or CSV.")],
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Mark every address confirmed (they opted in).")
    ] = False,
    frequency: Annotated[Kind, typer.Option(help="daily or weekly.")] = Kind.daily,
) -> None:
    """Import addresses (the first column of a CSV, or one a line); existing ones are kept."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    found: dict[str, None] = {}
    rejected = 0
    for row in csv.reader(text.splitlines()):
        if not row or not row[0].strip() or row[0].strip().lower() in ("email", "address"):
            continue
        try:
            found[normalize_address(row[0])] = None
        except InvalidAddress:
            rejected += 1
            err.print(f"skipped {row[0]!r}: not an email address")
    hub = make_hub()
    prefs = _preferences(frequency, 0)
    added = import_subscribers(
        db=hub.db, addresses=found, preferences=prefs, confirmed=confirmed, now=SystemClock().now()
    )
    out.print(
        f"{added:,} added, {len(found) - added:,} already there, {rejected:,} rejected"
        + ("" if confirmed else " (unconfirmed: they get no digest until they confirm)")
    )
    raise typer.Exit(1 if rejected else 0)


@subscribers_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """List subscribers and their preferences."""
    hub = make_hub()
    with hub.db.read() as conn:
        found = list_subscribers(conn)
    if as_json:
        rows = [{k: v for k, v in dataclasses.asdict(s).items() if k != "token"} for s in found]
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table("email", "status", "frequency", "top", "categories", "searches", "paused")
    for s in found:
        table.add_row(
            s.email,
            s.status,
            s.frequency + (f" (day {s.weekday})" if s.frequency == "weekly" else ""),
            str(s.top_n),
            " ".join(s.categories),
            "; ".join(s.searches),
            "yes" if s.paused else "",
        )
    out.print(table)
    out.print(f"{len(found):,} subscribers")


@subscribers_app.command("remove")
def remove(address: Annotated[str, typer.Argument(help="Email address.")]) -> None:
    """Delete a subscriber and its delivery history."""
    hub = make_hub()
    removed = remove_subscriber_by_email(db=hub.db, email=address)
    if removed is None:
        err.print(f"[red]error:[/] {address} is not a subscriber")
        raise typer.Exit(EXIT_NOT_FOUND)
    out.print(f"removed {removed}")
