"""`paperfeed ingest …`: load papers from the bundled sample, snapshots, arXiv and Hugging Face."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from paperfeed.cli._console import err, make_hub, out, progress_bar
from paperfeed.community.featuring import end_demo
from paperfeed.hub import Hub
from paperfeed.ingest.base import Source, run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.ingest.snapshot import SnapshotSource, sample_source
from paperfeed.models import ImportSummary

app = typer.Typer(
    help=(
        "Load papers into the store. Every run is an upsert: importing the same data twice "
        "changes nothing, a newer arXiv version replaces an older one, and an interrupted "
        "run is completed by running it again.\n\n"
        "Exit codes: 0 all records stored; 1 some records rejected (listed on stderr); "
        "2 the input cannot be read; 3 a network source could not be reached; "
        "70 an unexpected error (a bug)."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

MAX_LISTED = 20

DateOption = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], show_default=False)]


def run_source(
    hub: Hub, source: Source, *, label: str, errors: Path | None = None, demo: bool = False
) -> None:
    """Run one source with a progress bar, print the summary and exit with the right code.

    The keyword index is fed from the same batches as the store, so the papers are searchable
    when the command ends, without a rebuild. An import that features papers of its own ends
    the demo (`paperfeed init` loads the demo itself with `demo=True`).
    """
    with progress_bar(source.unit) as progress:
        task = progress.add_task(label, total=None, papers=0)

        def on_batch(summary: ImportSummary, src: Source) -> None:
            done, total = src.progress()
            papers = summary.imported + summary.updated + summary.unchanged
            progress.update(task, completed=done, total=total, papers=papers)

        with hub.search_index.import_indexing() as on_stored:
            summary = run_ingest(hub.db, source, on_batch=on_batch, on_stored=on_stored)
    report(summary, errors=errors)
    if summary.featured and not demo and end_demo(db=hub.db):
        out.print("the store is no longer the demo: home shows the latest featured day")
    if summary.imported or summary.updated:
        update_search(hub, indexed=on_stored is not None)
    if summary.rejected:
        raise typer.Exit(1)


def run_network_source(hub: Hub, source: Source, *, label: str, errors: Path | None) -> None:
    """Run a network source; when arXiv cannot be reached, say so and exit 3."""
    from paperfeed.ingest import FetchError

    try:
        run_source(hub, source, label=label, errors=errors)
    except FetchError as exc:
        err.print(f"[red]error:[/] {exc}\nWhat was fetched is stored; run again to continue.")
        raise typer.Exit(3) from None


def update_search(hub: Hub, *, indexed: bool) -> None:
    """Bring the search indexes up to date and say how many papers still need embedding.

    `indexed`: the keyword index already took the papers as they were stored.
    """
    from paperfeed.search.index import contract_of
    from paperfeed.search.indexer import load_sample_vectors, pending_count

    if not indexed:
        with err.status("updating the keyword index…"):
            hub.search_index.ensure_fresh(force=True)
    if hub.embedder is None:
        return
    load_sample_vectors(db=hub.db, contract=contract_of(hub.embedder))
    hub.search_index.refresh_vectors()
    pending = pending_count(db=hub.db, contract=contract_of(hub.embedder))
    if pending:
        err.print(
            f"{pending:,} papers have no vector yet: run `paperfeed index` for semantic search"
        )


def report(summary: ImportSummary, *, errors: Path | None) -> None:
    """Print rejected records to stderr (all of them to `errors`) and the summary to stdout."""
    for rejected in summary.rejected[:MAX_LISTED]:
        err.print(f"[red]rejected[/] {rejected.location}: {rejected.reason}", markup=True)
    if len(summary.rejected) > MAX_LISTED:
        more = len(summary.rejected) - MAX_LISTED
        hint = f" (all in {errors})" if errors else " (use --errors FILE to keep them all)"
        err.print(f"… and {more:,} more rejected{hint}")
    if errors is not None:
        errors.write_text(
            "".join(f"{r.location}\t{r.reason}\n" for r in summary.rejected), encoding="utf-8"
        )
    out.print(
        f"{summary.imported:,} imported, {summary.updated:,} updated, "
        f"{summary.unchanged:,} unchanged, {len(summary.rejected):,} rejected; "
        f"{summary.featured:,} newly featured"
    )


ErrorsOption = Annotated[
    Path | None,
    typer.Option("--errors", help="Write every rejected record (location, reason) to this file."),
]


FeatureOption = Annotated[
    bool,
    typer.Option(
        "--feature/--no-feature",
        help=(
            "Also feature every paper on its day (the announcement day; for arXiv and OAI-PMH "
            "the first version's day). Without it papers are only recorded, with their days, "
            "and the feed stays curated."
        ),
    ),
]


@app.command()
def sample(feature: FeatureOption = False) -> None:
    """Load the bundled sample: 2,027 real arXiv papers of one week (16-20 March 2026)."""
    hub = make_hub()
    run_source(hub, sample_source(feature=feature), label="sample")


@app.command()
def snapshot(
    path: Annotated[Path, typer.Argument(help="A .jsonl or .jsonl.gz file.", show_default=False)],
    feature: FeatureOption = False,
    errors: ErrorsOption = None,
) -> None:
    """Import a JSONL snapshot: the daily-listing format or the Kaggle/Cornell arXiv snapshot.

    Gzip or plain, streamed in constant memory. Ids that are not arXiv ids are kept as given,
    papers are recorded with their announcement days, and none is featured without --feature.
    """
    if not path.is_file():
        err.print(f"[red]error:[/] {path} is not a file")
        raise typer.Exit(2)
    hub = make_hub()
    run_source(
        hub, SnapshotSource(path, feature=feature, parallel=None), label=path.name, errors=errors
    )


@app.command("hf-daily")
def hf_daily(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="JSON array or JSONL (gzip or plain) of daily papers; or use --since.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Read the days from this one live from PAPERFEED_HF_API_URL's "
            "/api/daily_papers instead of a file.",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Last day with --since (default: today, UTC).",
            show_default=False,
        ),
    ] = None,
    errors: ErrorsOption = None,
) -> None:
    """Import Hugging Face daily papers: the papers, the day each was featured and its upvotes,
    and what Hugging Face says of each (submitter, AI summary and keywords, repository and
    project page).

    These are curated days, so each paper is featured on its day (with its upvote count).
    """
    if since is not None:
        from paperfeed.ingest.hf_daily import HfDailyApiSource

        if path is not None:
            err.print("[red]error:[/] give a file or --since, not both")
            raise typer.Exit(2)
        last = _day(until) or dt.datetime.now(dt.UTC).date()
        hub = make_hub()
        try:
            source = HfDailyApiSource(settings=hub.settings, since=since.date(), until=last)
        except ValueError as exc:
            err.print(f"[red]error:[/] PAPERFEED_HF_API_URL: {exc}")
            raise typer.Exit(2) from None
        run_network_source(hub, source, label="Hugging Face daily papers", errors=errors)
        return
    if path is None:
        err.print("[red]error:[/] give a file of daily papers, or --since DATE to read them live")
        raise typer.Exit(2)
    if not path.is_file():
        err.print(f"[red]error:[/] {path} is not a file")
        raise typer.Exit(2)
    hub = make_hub()
    run_source(hub, HfDailySource(path), label=path.name, errors=errors)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@app.command()
def arxiv(
    category: Annotated[
        list[str],
        typer.Option("--category", "-c", help="arXiv category, e.g. cs.CL; repeat for more."),
    ],
    since: DateOption = None,
    until: DateOption = None,
    feature: FeatureOption = False,
    errors: ErrorsOption = None,
) -> None:
    """Fetch papers from the arXiv API by category and last-updated date (one request per 3 s).

    Without --since it continues from the high-water mark the previous run stored (the first
    run fetches the last 7 days). New versions and withdrawals come in too.
    """
    from paperfeed.ingest.arxiv_api import arxiv_source

    hub = make_hub()
    source = arxiv_source(
        db=hub.db,
        settings=hub.settings,
        categories=category,
        since=_day(since),
        until=_day(until),
        feature=feature,
    )
    run_network_source(hub, source, label="arXiv API", errors=errors)


@app.command()
def oai(
    set_spec: Annotated[
        str | None, typer.Option("--set", help="OAI set, e.g. cs or physics:astro-ph.")
    ] = None,
    from_: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First datestamp.", show_default=False),
    ] = None,
    until: DateOption = None,
    prefix: Annotated[
        str, typer.Option("--prefix", help="metadataPrefix: arXiv or arXivRaw.")
    ] = "arXiv",
    feature: FeatureOption = False,
    errors: ErrorsOption = None,
) -> None:
    """Harvest arXiv's OAI-PMH interface (ListRecords), resuming from the stored token."""
    from paperfeed.ingest.oai_pmh import oai_source

    if prefix not in ("arXiv", "arXivRaw"):
        err.print("[red]error:[/] --prefix must be arXiv or arXivRaw")
        raise typer.Exit(2)
    hub = make_hub()
    source = oai_source(
        db=hub.db,
        settings=hub.settings,
        set_spec=set_spec,
        from_=_day(from_),
        until=_day(until),
        metadata_prefix=prefix,
        feature=feature,
    )
    run_network_source(hub, source, label="OAI-PMH", errors=errors)
