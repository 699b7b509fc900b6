"""`paperfeed authors index|show`: the index of author names (filled lazily by the first author
page otherwise) and one author's page in the terminal (docs/authors.md)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape

from paperfeed.cli._console import EXIT_NOT_FOUND, err, make_hub, out
from paperfeed.community.authors import NoSuchAuthor, author_page, refresh_index

app = typer.Typer(
    help="Author pages: index the names of the store's papers, show one author.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("index")
def index_command() -> None:
    """Bring the index of author names up to the papers (run it after a big import, so the
    first author page does not wait for it)."""
    hub = make_hub()
    try:
        start = time.perf_counter()
        count = refresh_index(hub.db)
        out.print(f"{count:,} papers read in {time.perf_counter() - start:.1f} s")
    finally:
        hub.close()


@app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(help="The author's key, e.g. vaswani-ashish.")],
) -> None:
    """An author's name, papers (newest first), co-authors and categories."""
    hub = make_hub()
    try:
        try:
            page = author_page(db=hub.db, key=key, page_size=20)
        except NoSuchAuthor:
            err.print(f"No paper here has the author {escape(key)}.")
            raise typer.Exit(EXIT_NOT_FOUND) from None
        out.print(f"{escape(page.name)} · {page.total:,} papers · {page.followers} followers")
        for paper in page.papers:
            day = paper.announced.isoformat() if paper.announced else "          "
            out.print(f"  {day}  {paper.paper_id}  {escape(paper.title)}")
        if page.coauthors:
            names = ", ".join(f"{c.name} ({c.count})" for c in page.coauthors[:10])
            out.print(f"Co-authors: {escape(names)}")
        if page.categories:
            out.print("Categories: " + ", ".join(f"{c} ({n})" for c, n in page.categories))
    finally:
        hub.close()
