"""`paperfeed init | migrate | stats | backup | papers show`: the store from the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from paperfeed.cli._console import EXIT_NOT_FOUND, err, make_hub, out
from paperfeed.db.feed import days_featured
from paperfeed.db.migrate import current_revision
from paperfeed.db.papers import count_papers, get_paper

papers_app = typer.Typer(
    help="Look at papers in the store.", no_args_is_help=True, rich_markup_mode=None
)


def _json_default(value: object) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def register(app: typer.Typer) -> None:
    """Add the store commands to the main app."""
    app.command()(init)
    app.command()(migrate)
    app.command()(stats)
    app.command()(backup)


def init(
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--no-sample",
            help=(
                "Load the bundled demo when the store has no papers. --no-sample on a store "
                "that holds the demo ends it (the papers stay; the demo notice goes)."
            ),
        ),
    ] = True,
) -> None:
    """Create the data folder and the database, apply migrations, load the bundled demo.

    The demo is 753 real Hugging Face daily papers featured on their days with their real
    upvotes (2023-11-30..2024-04-05), so feed, trending and digest show the same curated days
    as of 5 April 2024, plus a week of 2,027 real arXiv papers (16-20 March 2026), recorded
    and searchable but not featured. Pages say it is demo data until real data is featured.
    """
    from paperfeed.cli.ingest import run_source
    from paperfeed.community.featuring import end_demo, start_demo
    from paperfeed.ingest.hf_daily import HfDailySource
    from paperfeed.ingest.snapshot import sample_source

    hub = make_hub()
    with hub.db.read() as conn:
        counts = count_papers(conn)
    out.print(f"store: {hub.db.url.render_as_string(hide_password=True)}")
    prepare = getattr(hub.embedder, "prepare", None)
    if prepare is not None:
        with err.status("preparing the embedding model (first run only)…"):
            prepare()
    if sample and counts.papers == 0 and counts.hidden == 0:
        run_source(hub, sample_source(feature=False), label="arXiv sample", demo=True)
        history = Path(__file__).resolve().parents[1] / "data" / "hf_daily_papers.jsonl.gz"
        run_source(hub, HfDailySource(history), label="Hugging Face daily papers", demo=True)
        as_of = start_demo(db=hub.db)
        if as_of is not None:
            out.print(f"demo data as of {as_of}: real Hugging Face daily papers and upvotes")
        return
    out.print(f"{counts.papers:,} papers on {counts.featured_days:,} days; nothing to load")
    if not sample and end_demo(db=hub.db):
        out.print("the store is no longer the demo: home shows the latest featured day")


def migrate() -> None:
    """Apply database migrations (safe to run any time; it does nothing when up to date)."""
    hub = make_hub(migrate=False)
    before = current_revision(hub.db)
    hub.db.migrate()
    after = current_revision(hub.db)
    out.print(f"schema at {after}" + (f" (was {before})" if before != after else ", up to date"))


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Count papers and featured days."""
    hub = make_hub()
    with hub.db.read() as conn:
        counts = count_papers(conn)
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(counts), default=_json_default))
        return
    out.print(f"papers        {counts.papers:,}")
    out.print(f"hidden        {counts.hidden:,} (withdrawn or deleted)")
    out.print(f"featured days {counts.featured_days:,}")
    out.print(f"feed entries  {counts.feed_entries:,}")
    if counts.first_day and counts.last_day:
        out.print(f"feed range    {counts.first_day} … {counts.last_day}")


def backup(
    path: Annotated[Path, typer.Argument(help="New file to write.", show_default=False)],
) -> None:
    """Copy the live SQLite database to PATH (online: the hub may keep running)."""
    hub = make_hub(migrate=False)
    try:
        hub.db.backup(path)
    except (FileExistsError, NotImplementedError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    size = path.stat().st_size
    out.print(f"backed up to {path} ({size / 1e6:,.1f} MB)")


@papers_app.command("show")
def show(
    paper_id: Annotated[str, typer.Argument(help="arXiv id, with or without version, or URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Show one paper."""
    from paperfeed.models import parse_arxiv_id

    parsed = parse_arxiv_id(paper_id)
    key = parsed[0] if parsed else paper_id.strip()
    hub = make_hub()
    with hub.db.read() as conn:
        stored = get_paper(conn, key, include_hidden=True)
        days = days_featured(conn, key) if stored else []
    if stored is None:
        err.print(f"[red]error:[/] no paper {key!r} in the store")
        raise typer.Exit(EXIT_NOT_FOUND)
    record = stored.record
    if as_json:
        data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.init}
        data["featured_on"] = days
        out.print_json(json.dumps(data, default=_json_default))
        return
    out.print(f"[bold]{record.title}[/]", markup=True)
    out.print(f"{record.paper_id}" + (f"v{record.version}" if record.version else ""))
    if record.status.value != "active":
        out.print(f"[yellow]{record.status.value}: hidden from the feed[/]")
    if record.authors:
        out.print(", ".join(record.authors))
    if record.categories:
        out.print(" · ".join(record.categories))
    for label, value in (
        ("submitted", record.submitted),
        ("updated", record.updated),
        ("announced", record.announced),
        ("comment", record.comment),
        ("journal", record.journal_ref),
        ("doi", record.doi),
    ):
        if value:
            out.print(f"{label}: {value}")
    if days:
        out.print("featured: " + ", ".join(d.isoformat() for d in days))
    out.print()
    out.print(record.abstract)
