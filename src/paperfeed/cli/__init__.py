"""The `paperfeed` command line (Typer + Rich): thin commands over the hub's functions.

Exit codes (cli/_console.py): 0 success; 1 finished, but some records were rejected; 2 bad
usage, input that cannot be read, or a server that cannot start as asked (a busy port); 3 a
network source could not be reached; 4 not found (no such paper, subscriber, user or issue);
70 an unexpected error (a bug).
"""

from __future__ import annotations

import sys
import traceback

import typer

from paperfeed.cli import authors as _authors
from paperfeed.cli import dev as _dev
from paperfeed.cli import digest as _digest
from paperfeed.cli import export as _export
from paperfeed.cli import ingest as _ingest
from paperfeed.cli import library as _library
from paperfeed.cli import loop as _loop
from paperfeed.cli import mcp as _mcp
from paperfeed.cli import migrate_store as _migrate_store
from paperfeed.cli import notifications as _notifications
from paperfeed.cli import search as _search
from paperfeed.cli import store as _store
from paperfeed.cli import trending as _trending
from paperfeed.cli import users as _users
from paperfeed.cli import web as _web

app = typer.Typer(
    name="paperfeed",
    help=(
        "paperfeed: a self-hostable research-paper hub (daily feed, trending, search, digests).\n\n"
        "Settings come from PAPERFEED_* environment variables (see docs/settings.md); "
        "the store is PAPERFEED_DATABASE_URL, by default a SQLite file in PAPERFEED_DATA_DIR.\n\n"
        "Exit codes: 0 success; 1 done, but some records were rejected; 2 bad usage, "
        "unreadable input or a busy port; 3 a network source could not be reached; 4 not "
        "found (no such paper, subscriber, user or issue); 70 an unexpected error (a bug: the "
        "traceback is on stderr)."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Plain Click help: Rich markup would eat "[default: …]" in help texts and Typer's Rich
    # panels print a "<bool>" type beside every flag. Every group below does the same.
    rich_markup_mode=None,
    context_settings={"show_default": True},
    pretty_exceptions_enable=False,
)
_store.register(app)
_migrate_store.register(app)
app.add_typer(_ingest.app, name="ingest")
app.add_typer(_store.papers_app, name="papers")
_search.register(app)
_trending.register(app)
_web.register(app)
app.add_typer(_users.app, name="users")
app.add_typer(_library.app, name="library")
app.add_typer(_authors.app, name="authors")
app.add_typer(_notifications.app, name="notifications")
_digest.register(app)
_export.register(app)
_loop.register(app)
app.command("mcp")(_mcp.mcp_command)
app.add_typer(_dev.app, name="dev")


# sysexits.h's EX_SOFTWARE: an uncaught exception would exit 1, which means "done, but some
# records were rejected", so a crash could pass for a partly successful import.
EXIT_BUG = 70


def main() -> None:
    """Run the command line; an unexpected exception exits EXIT_BUG with its traceback."""
    try:
        app()
    except Exception:
        traceback.print_exc()
        print("paperfeed: unexpected error (a bug); exit code 70", file=sys.stderr)
        sys.exit(EXIT_BUG)
