"""`paperfeed dev`: tools for trying paperfeed without the outside world.

`paperfeed dev fake-arxiv` serves arXiv-shaped listing feeds on 127.0.0.1 from real records
(paperfeed.ingest.fake_arxiv, the same feeds the tests serve), dated as the listing the
worker's schedule expects now, so `paperfeed worker` fetches a day (docs/daily-loop.md,
"Try the loop on the demo").
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from paperfeed.cli._console import EXIT_USAGE, err
from paperfeed.ingest.fake_arxiv import corpus_records, day_listing, make_server, sample_records
from paperfeed.loop.schedule import Schedule
from paperfeed.settings import Settings

app = typer.Typer(
    help="Tools for trying paperfeed on one machine (a fake arXiv for the daily loop).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SAMPLE_DAY = dt.date(2026, 3, 17)


@app.command("fake-arxiv")
def fake_arxiv(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8001,
    day: Annotated[
        dt.datetime,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The corpus day (first_seen) whose papers every listing holds.",
            show_default=SAMPLE_DAY.isoformat(),
        ),
    ] = dt.datetime.combine(SAMPLE_DAY, dt.time()),
    records_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A daily-listing file (JSONL, gzip or plain; e.g. "
            "../shared/data/arxiv_daily/arxiv_daily.jsonl.gz). Default: the bundled sample "
            "(2026-03-16 .. 2026-03-20).",
            show_default=False,
        ),
    ] = None,
    per_day: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="At most this many papers of the day (the first by id) listing one of "
            "PAPERFEED_ARXIV_CATEGORIES. Default: all.",
            show_default=False,
        ),
    ] = None,
    as_is: Annotated[
        bool,
        typer.Option(
            "--as-is",
            help="Date each listing DAY itself, instead of the listing day the schedule "
            "expects now.",
        ),
    ] = False,
) -> None:
    """Serve a fake arXiv listing feed (GET /atom/{category}) on 127.0.0.1, until Ctrl-C.

    Each category's listing holds the day's real papers of that category (new submissions,
    cross-lists, and three replacements of the day before), dated as the listing the daily
    loop's schedule (PAPERFEED_ANNOUNCE_*) expects now. Point the worker at it with
    PAPERFEED_ARXIV_LISTING_URL=http://127.0.0.1:PORT/atom/{category}.
    """
    settings = Settings()
    listing_day = day.date()
    categories = settings.arxiv_categories or None
    if records_file is None:
        records: tuple[dict[str, Any], ...] = sample_records()
        if per_day is not None:
            records = _first(records, listing_day, categories, per_day)
    else:
        if not records_file.is_file():
            err.print(f"[red]error:[/] {records_file} is not a file")
            raise typer.Exit(EXIT_USAGE)
        before = listing_day - dt.timedelta(days=7)  # the day before's replacements
        days = [before + dt.timedelta(days=n) for n in range(8)]
        records = corpus_records(records_file, days, categories=categories)
        if per_day is not None:
            records = _first(records, listing_day, categories, per_day)
    listed = {
        record["id"]
        for category in categories or []
        for record, _kind in day_listing(category, listing_day, records=records)
    }
    if not any(r["first_seen"] == listing_day.isoformat() for r in records):
        err.print(f"[red]error:[/] no paper was first seen on {listing_day}")
        raise typer.Exit(EXIT_USAGE)
    schedule = Schedule.from_settings(settings)

    def dated() -> dt.date | None:
        if as_is:
            return None
        expected, _fire = schedule.fetch_period(dt.datetime.now(dt.UTC))
        return expected

    try:
        server = make_server(port=port, day=listing_day, dated=dated, records=records)
    except OSError as exc:
        err.print(f"[red]error:[/] cannot listen on 127.0.0.1:{port}: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    shown = f", {len(listed)} papers listed in {', '.join(categories)}" if categories else ""
    err.print(
        f"fake arXiv: the listing of {listing_day}{shown}, dated {dated() or listing_day}, "
        f"at http://127.0.0.1:{server.server_port}/atom/{{category}}",
        highlight=False,
        soft_wrap=True,  # one line, whatever the terminal's width: scripts read the port
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _first(
    records: tuple[dict[str, Any], ...],
    day: dt.date,
    categories: list[str] | None,
    count: int,
) -> tuple[dict[str, Any], ...]:
    """`records` with at most `count` of `day`'s papers (the first by id) listing a category."""
    wanted = set(categories or [])
    today = sorted(
        (
            r
            for r in records
            if r["first_seen"] == day.isoformat()
            and (not wanted or wanted & set(r["categories"] or []))
        ),
        key=lambda r: r["id"],
    )
    kept = {r["id"] for r in today[:count]}
    return tuple(r for r in records if r["first_seen"] != day.isoformat() or r["id"] in kept)
