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

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def make_hub(*, migrate: bool = True) -> Hub:
    """Build the hub from the environment's settings."""
    return Hub.from_settings(Settings(), migrate=migrate)


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
