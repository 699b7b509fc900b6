"""`paperfeed migrate-store URL`: copy this store into another, SQLite to PostgreSQL or back."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from paperfeed.cli._console import EXIT_USAGE, err, out
from paperfeed.db import Database
from paperfeed.db.copy_store import BATCH_SIZE, StoreCopyError, copy_store, table_counts
from paperfeed.hub import Hub
from paperfeed.settings import Settings


def register(app: typer.Typer) -> None:
    """Add `migrate-store` to the main app."""
    app.command("migrate-store")(migrate_store)


def _open(url: str, settings: Settings) -> Database:
    try:
        make_url(url)
        return Database(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except (ArgumentError, ModuleNotFoundError) as exc:
        hint = " (PostgreSQL needs the postgres extra: pip install 'paperfeed[postgres]')"
        err.print(f"[red]error:[/] cannot open {url!r}: {exc}" + hint, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None


def migrate_store(
    target_url: Annotated[
        str,
        typer.Argument(
            help="SQLAlchemy URL of the new store, e.g. postgresql+psycopg://user@host/paperfeed "
            "or sqlite:////srv/paperfeed/paperfeed.db.",
            show_default=False,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Empty a target that already holds rows (they are lost)."),
    ] = False,
    index: Annotated[
        bool,
        typer.Option(
            "--index/--no-index",
            help="Build the target's search indexes from the copied rows (no re-embedding).",
        ),
    ] = True,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per INSERT.")] = BATCH_SIZE,
) -> None:
    """Copy this store (PAPERFEED_DATABASE_URL) into another: SQLite to PostgreSQL, or back.

    Every table is copied with its ids: papers and their vectors, members, sessions and API
    tokens, upvotes, comments, collections, subscribers, the digest ledger, job runs. The target
    is migrated first; one that holds rows is refused (exit 2) unless --force. The copy is one
    transaction on the target, so a failed copy leaves it as it was. Stop `paperfeed worker` and
    `serve` first: what they write during the copy is not in it. Then set
    PAPERFEED_DATABASE_URL to the target and start them again (docs/deploy.md).
    """
    settings = Settings()
    source = _open(settings.resolved_database_url, settings)
    target = _open(target_url, settings)
    shown = target.url.render_as_string(hide_password=True)
    try:
        source.migrate()
        target.migrate()
        counts = table_counts(source)
        started = time.perf_counter()
        with Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("rows", total=sum(counts.values()))

            def advance(name: str, rows: int) -> None:
                bar.update(task, advance=rows, description=name)

            report = copy_store(
                source=source, target=target, force=force, batch_size=batch_size, progress=advance
            )
        seconds = time.perf_counter() - started
    except StoreCopyError as exc:
        err.print(f"[red]error:[/] {exc}", soft_wrap=True)
        if not force and "not empty" in str(exc):
            err.print("copy onto it anyway, replacing its rows, with --force")
        raise typer.Exit(EXIT_USAGE) from None
    except OperationalError as exc:  # a server that cannot be reached, a file that cannot be opened
        err.print(f"[red]error:[/] cannot use the store: {exc.orig}", soft_wrap=True, markup=True)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        source.dispose()
        target.dispose()
    if report.emptied:
        out.print(f"emptied the target first: {sum(report.emptied.values()):,} rows")
    for name, rows in report.tables.items():
        if rows:
            out.print(f"{name:<20} {rows:>10,}")
    out.print(f"copied {report.rows:,} rows to {shown} in {seconds:,.1f} s")
    if index:
        _build_indexes(settings.model_copy(update={"database_url": target_url}))
    else:
        out.print("search indexes: not built; run `paperfeed index` on the new store")
    out.print(f"next: PAPERFEED_DATABASE_URL={shown} (restart serve and worker with it)")


def _build_indexes(settings: Settings) -> None:
    """The target's keyword and vector indexes, in its own search folder, from its rows."""
    hub = Hub.from_settings(settings, migrate=False)
    try:
        with err.status("building the search indexes of the new store…"):
            hub.search_index.rebuild()
            hub.search_index.save()
            status = hub.search_index.status()
    finally:
        hub.close()
    vectors = f"{status.vectors_current:,} vectors" if hub.embedder is not None else "off"
    out.print(
        f"search indexes in {settings.search_dir}: keyword {status.keyword_documents:,} papers, "
        f"vector {vectors}"
    )
