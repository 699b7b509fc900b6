"""`paperfeed library import|show`: a reader's imported library (BibTeX or CSL-JSON), which
steers their For you picks (docs/for-you.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from paperfeed.cli._console import EXIT_NOT_FOUND, err, make_hub, out
from paperfeed.db.library import StoredEntry
from paperfeed.db.users import User, get_user_by_email
from paperfeed.hub import Hub

app = typer.Typer(
    help="A reader's imported library (BibTeX, CSL-JSON or RIS), which steers their For you picks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ReaderOption = Annotated[
    str, typer.Option("--reader", help="The reader's email address (they signed in once).")
]


def _reader(hub: Hub, email: str) -> User:
    with hub.db.read() as conn:
        user = get_user_by_email(conn, email)
    if user is None:
        err.print(f"No user {escape(email)}: they appear after their first sign-in.")
        raise typer.Exit(EXIT_NOT_FOUND)
    return user


def _lines(entries: list[StoredEntry]) -> None:
    """One line per entry: position, key, fate (with the paper or the reason) and title."""
    for e in entries:
        if e.status == "matched":
            fate = f"matched {e.paper_id} (by {e.matched_by})"
        elif e.status == "embedded":
            fate = "embedded"
        else:
            fate = f"skipped: {e.note}"
        title = f" \u201c{e.title[:100]}\u201d" if e.title else ""
        out.print(
            f"{e.position:>4}  {escape(e.key)}  {escape(fate)}{escape(title)}", soft_wrap=True
        )


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="A BibTeX (.bib), CSL-JSON (.json) or RIS (.ris) file.", show_default=False
        ),
    ],
    reader: ReaderOption,
) -> None:
    """Import FILE as the reader's library (replacing theirs): entries are matched to papers
    here by arXiv id, DOI or title; the others with an abstract are embedded. A malformed file
    is refused whole (exit 2) with each problem's line."""
    # Imported here: the recommender brings scipy (~0.5 s), which no other command's start,
    # nor `paperfeed --help`, should pay.
    from paperfeed.recommend.library import MAX_FILE_BYTES, LibraryFileError, import_library

    hub = make_hub()
    try:
        user = _reader(hub, reader)
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise LibraryFileError(
                    [f"the file has {file.stat().st_size:,} bytes; at most {MAX_FILE_BYTES:,}"]
                )
            data = file.read_bytes()
        except OSError as exc:
            err.print(f"Cannot read {escape(str(file))}: {escape(exc.strerror or str(exc))}")
            raise typer.Exit(2) from None
        try:
            report = import_library(
                db=hub.db,
                search_index=hub.search_index,
                embedder=hub.embedder,
                user_id=user.user_id,
                data=data,
                source=file.name,
            )
        except LibraryFileError as exc:
            err.print(escape(str(exc)))
            err.print("Nothing was imported.")
            raise typer.Exit(2) from None
    finally:
        hub.close()
    if report.skipped:
        _lines(report.skipped)
    out.print(
        f"{escape(file.name)} ({report.file_format}) for {escape(user.email)}: {report.summary()}."
    )


@app.command("show")
def show_command(reader: ReaderOption) -> None:
    """Show the reader's library: each entry, matched, embedded or skipped (with why)."""
    from paperfeed.recommend.library import show_library

    hub = make_hub()
    try:
        user = _reader(hub, reader)
        info, entries = show_library(db=hub.db, user_id=user.user_id)
    finally:
        hub.close()
    if info is None:
        err.print(f"{escape(user.email)} has imported no library.")
        return
    _lines(entries)
    counts = ", ".join(f"{n} {status}" for status, n in info.counts.items())
    out.print(
        f"{escape(info.source)} ({info.file_format}), imported "
        f"{info.imported_at:%Y-%m-%d %H:%M} UTC: {counts}."
    )
