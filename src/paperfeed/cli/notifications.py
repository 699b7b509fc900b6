"""`paperfeed notifications send|status`: mail members their notifications now (the worker
does it every pass), and see the notification mail ledger.

Exit codes of `send`: 0 nothing failed or was left deferred; 1 some mail failed or waits for
a retry.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from paperfeed.cli._console import make_hub, out
from paperfeed.community.notification_mail import send_notification_mails
from paperfeed.db.notifications import mail_counts

app = typer.Typer(
    help="Notification mail: replies, mentions and comments on members' papers, for members "
    "who turned it on.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("send")
def send_command() -> None:
    """Mail every member who asked for it their new notifications (at most one mail per
    member per PAPERFEED_NOTIFY_MAIL_EVERY_MINUTES, each notification at most once); exit 1
    if some mail failed or waits for a retry."""
    hub = make_hub()
    try:
        senders = hub.senders
        assert senders is not None  # Hub.from_settings always builds them
        run = send_notification_mails(db=hub.db, senders=senders, settings=hub.settings)
    finally:
        hub.close()
    counts = run.counts()
    out.print(", ".join(f"{name} {count}" for name, count in counts.items()))
    for error in run.errors:
        out.print(f"[yellow]{error}[/yellow]")
    if counts["failed"] or counts["deferred"]:
        raise typer.Exit(1)


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Show how many notification mails are in each state (sent, deferred, failed …)."""
    hub = make_hub()
    try:
        with hub.db.read() as conn:
            counts = mail_counts(conn)
    finally:
        hub.close()
    if as_json:
        out.print_json(json.dumps(counts))
        return
    table = Table("state", "mails")
    for state, count in sorted(counts.items()):
        table.add_row(state, str(count))
    out.print(table)
