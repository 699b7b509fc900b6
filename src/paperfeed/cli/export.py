"""`paperfeed export`: a paper, a collection, a search or a day's feed as BibTeX or CSL-JSON,
the same entries as the pages' Cite links and `/api/export` (community/export.py)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from paperfeed.cli._console import EXIT_NOT_FOUND, EXIT_USAGE, err, make_hub
from paperfeed.community.collections import NoSuchCollection
from paperfeed.community.export import (
    MAX_SEARCH_LIMIT,
    SEARCH_LIMIT,
    NothingToExport,
    SearchQuery,
    export_papers,
    render_export,
)
from paperfeed.community.papers import NoSuchPaper
from paperfeed.periods import BadPeriod, Period, parse_day
from paperfeed.search.hybrid import QueryTooLong, checked_query


class FormatName(StrEnum):
    bibtex = "bibtex"
    csljson = "csljson"


def register(app: typer.Typer) -> None:
    """Add the export command to the main app."""
    app.command("export")(export_command)


def export_command(
    paper: Annotated[
        str | None, typer.Option(help="One paper: an arXiv id (a version is ignored).")
    ] = None,
    collection: Annotated[
        int | None,
        typer.Option(min=1, help="A collection, by the number in its URL (private ones too)."),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="A search: its best matches, in order.")
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(help="A day's feed (YYYY-MM-DD), all of it, most upvoted first."),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="Only papers of this arXiv category (--query or --day).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_SEARCH_LIMIT, help="How many matches --query exports.")
    ] = SEARCH_LIMIT,
    fmt: Annotated[
        FormatName,
        typer.Option("--format", "-f", help="bibtex (a .bib file) or csljson (a CSL-JSON array)."),
    ] = FormatName.bibtex,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write to FILE instead of stdout."),
    ] = None,
) -> None:
    """Export a paper, a collection, a search or a day's feed as BibTeX or CSL-JSON.

    Name exactly one of --paper, --collection, --query or --day. Keys are unique in the file
    (vaswani2017attention, then vaswani2017attentiona, …); arXiv papers are @misc entries with
    eprint, archivePrefix and primaryClass. Exit 4 when the paper or collection is not there.
    """
    try:
        search = None
        if query is not None:
            search = SearchQuery(
                query=checked_query(query),
                categories=[category] if category else None,
                limit=limit,
            )
        period = Period("day", parse_day(day)) if day is not None else None
    except (QueryTooLong, BadPeriod) as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    hub = make_hub()
    try:
        chosen = export_papers(
            db=hub.db,
            search_index=hub.search_index if search is not None else None,
            embedder=hub.embedder,
            paper_id=paper,
            collection_id=collection,
            query=search,
            period=period,
            category=category if period is not None else None,
            any_collection=True,  # whoever runs the command owns the store
            embed_timeout_s=hub.settings.embed_timeout_s,
        )
    except NothingToExport as exc:
        err.print(f"[red]error:[/] {escape(str(exc))} (--paper, --collection, --query or --day)")
        raise typer.Exit(EXIT_USAGE) from None
    except NoSuchPaper:
        err.print(f"[red]error:[/] there is no paper {escape(repr(paper))} in this hub")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except NoSuchCollection:
        err.print(f"[red]error:[/] there is no collection {collection} in this hub")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    finally:
        hub.close()
    text = render_export(chosen.papers, fmt.value, chosen.notes)
    count = len(chosen.papers)
    if output is None:
        sys.stdout.write(text)
        err.print(f"{count:,} paper{'s' if count != 1 else ''} exported")
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"{count:,} paper{'s' if count != 1 else ''} written to {output}")
