"""Consoles and the progress bar shared by the commands: results to stdout, the rest to stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from paperfeed.hub import Hub
from paperfeed.settings import Settings

# Exit codes, documented in the main help, docs/cli.md and the README. 70 (a bug) is in __init__.
EXIT_REJECTED = 1  # done, but some records were rejected
EXIT_USAGE = 2  # bad usage, unreadable input, or a server that cannot start as asked
EXIT_UNREACHABLE = 3  # a network source could not be reached
EXIT_NOT_FOUND = 4  # no such paper, subscriber, user or issue

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def make_hub(*, migrate: bool = True, settings: Settings | None = None) -> Hub:
    """Build the hub from `settings`, by default the environment's."""
    return Hub.from_settings(settings or Settings(), migrate=migrate)


class _PapersRate(ProgressColumn):
    """Papers per second, from the `papers` field the ingest loop keeps up to date."""

    def render(self, task: Task) -> Text:
        papers = task.fields.get("papers", 0)
        elapsed = task.elapsed or 0.0
        rate = papers / elapsed if elapsed > 0 else 0.0
        return Text(f"{papers:,} papers · {rate:,.0f}/s", style="progress.data.speed")


@contextmanager
def progress_bar(unit: str) -> Iterator[Progress]:
    """A progress bar with count, rate and ETA, drawn on stderr."""
    count: ProgressColumn = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        count,
        _PapersRate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as progress:
        yield progress
