"""`paperfeed index | search | similar`: build the search indexes and query them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from paperfeed.cli._console import EXIT_NOT_FOUND, EXIT_USAGE, err, make_hub, out
from paperfeed.hub import Hub
from paperfeed.search.hybrid import MAX_LIMIT, QueryTooLong, SearchHit, checked_query


def register(app: typer.Typer) -> None:
    """Add the search commands to the main app."""
    app.command()(index)
    app.command()(search)
    app.command()(similar)


def _hub(device: str | None = None) -> Hub:
    hub = make_hub()
    if device is not None and hub.settings.embedder_device != device:
        from paperfeed.search.embedder import default_embedder

        hub.embedder = default_embedder(
            cache_dir=hub.settings.data_dir / "models",
            device="cuda" if device == "cuda" else "cpu",
            model=hub.settings.embedding_model,
        )
    return hub


def index(
    device: Annotated[
        str, typer.Option(help="Where to embed: cpu (int8 ONNX) or cuda (fp16).")
    ] = "cpu",
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Rebuild the keyword and vector indexes from scratch; re-embed vectors of "
            "another embedding model.",
        ),
    ] = False,
) -> None:
    """Embed papers that have no current vector, then bring the search indexes (and the author
    names of the author pages) up to date.

    Papers get their keyphrases when they are embedded; papers embedded without them (the
    shipped sample vectors, an older keyphrase method) get them here too.

    Incremental and resumable: papers whose title and abstract did not change keep their
    vectors, and an interrupted run continues where it stopped.
    """
    from paperfeed.search.index import contract_of
    from paperfeed.search.indexer import (
        OtherModelVectors,
        check_one_model,
        embed_papers,
        keyphrase_papers,
        load_sample_vectors,
        pending_count,
    )

    if device not in ("cpu", "cuda"):
        err.print("[red]error:[/] --device must be cpu or cuda")
        raise typer.Exit(2)
    try:
        hub = _hub(device)
    except RuntimeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if hub.embedder is not None:
        contract = contract_of(hub.embedder)
        if not rebuild:
            try:
                check_one_model(hub.db, contract)
            except OtherModelVectors as exc:
                err.print(f"error: {exc}", markup=False)
                raise typer.Exit(EXIT_USAGE) from None
        shipped = load_sample_vectors(db=hub.db, contract=contract)
        if shipped:
            err.print(f"{shipped:,} precomputed sample vectors loaded")
        total = pending_count(db=hub.db, contract=contract)
        with Progress(
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("embed", total=total, rate="")

            def advance(n: int) -> None:
                progress.advance(task, n)
                elapsed = progress.tasks[0].elapsed or 0
                done = progress.tasks[0].completed
                if elapsed:
                    progress.update(task, rate=f"{done / elapsed:,.0f} papers/s")

            report = embed_papers(
                hub.db, hub.embedder, progress=advance, replace_other_models=rebuild
            )
        out.print(f"{report.embedded:,} papers embedded, {report.unchanged:,} unchanged")
        with err.status("keyphrases of papers embedded earlier"):
            extra = keyphrase_papers(hub.db, hub.embedder)
        if extra:
            out.print(f"keyphrases found for {extra:,} papers embedded earlier")
    else:
        err.print("semantic search is off (PAPERFEED_SEMANTIC_SEARCH=false): keyword index only")
    search_index = hub.search_index
    if rebuild:
        search_index.rebuild()
    else:
        search_index.ensure_fresh(force=True)
    search_index.save()
    from paperfeed.community.authors import refresh_index

    # Author pages group names from their own table; filled here, not by the first visitor.
    with err.status("indexing author names"):
        refresh_index(hub.db)
    status = search_index.status()
    if hub.embedder is None:
        # The notes compare stored vectors with no model at all: every paper would "lack a
        # vector" although some have one (#9). Vectors are simply not used while it is off.
        out.print(f"keyword index: {status.keyword_documents:,} papers; vector index: off")
        return
    out.print(
        f"keyword index: {status.keyword_documents:,} papers; "
        f"vector index: {status.vectors_current:,} vectors"
    )
    for note in status.notes:
        err.print(f"[yellow]{note}[/]")


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    paper = hit.paper
    return {
        "id": paper.paper_id,
        "title": paper.title,
        "score": round(hit.score, 6),
        "authors": list(paper.authors or ()),
        "categories": list(paper.categories or ()),
        "published": paper.announced.isoformat() if paper.announced else None,
        "keyword_rank": hit.keyword_rank,
        "vector_rank": hit.vector_rank,
        "pinned": hit.pinned,
    }


def _print_hits(hits: list[SearchHit], *, offset: int = 0) -> None:
    for number, hit in enumerate(hits, start=offset + 1):
        paper = hit.paper
        authors = ", ".join((paper.authors or ())[:3]) + (
            " et al." if paper.authors and len(paper.authors) > 3 else ""
        )
        out.print(f"[bold]{number:>3}. {paper.title}[/]", markup=True, highlight=False)
        day = paper.announced.isoformat() if paper.announced else ""
        cats = " ".join((paper.categories or ())[:3])
        out.print(f"     {paper.paper_id}  {day}  {cats}  {authors}", markup=False)


Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many results (at most 1,000).")]
DateOpt = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", show_default=False)
]


def search(
    query: Annotated[str, typer.Argument(help="Words, a phrase, an arXiv id or URL, or a title.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    limit: Limit = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results.")] = 0,
    since: DateOpt = None,
    until: DateOpt = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Keep papers in this category.")
    ] = None,
) -> None:
    """Search titles, abstracts and authors (keyword + semantic, fused by score).

    An arXiv id or URL answers that paper alone; words that match no paper answer nothing.
    """
    from paperfeed.search.hybrid import search as run_search

    try:
        query = checked_query(query)
    except QueryTooLong as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    hub = make_hub()
    results = run_search(
        hub.search_index,
        hub.embedder,
        query,
        since=since.date() if since else None,
        until=until.date() if until else None,
        categories=category or None,
        limit=limit,
        offset=offset,
        embed_timeout_s=max(hub.settings.embed_timeout_s, 30.0),
    )
    for notice in results.notices:
        err.print(f"[yellow]{notice}[/]")
    if results.paper_id is not None:
        err.print(f"similar papers: paperfeed similar {results.paper_id}", markup=False)
    if as_json:
        print(json.dumps([_hit_json(hit) for hit in results.hits], ensure_ascii=False))
        return
    if not results.hits:
        out.print("no papers found")
        return
    _print_hits(results.hits, offset=offset)


def similar(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (with or without version) or URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    limit: Limit = 10,
    since: DateOpt = None,
) -> None:
    """List the papers most similar to one paper (its stored vector and its own key terms).

    Vector neighbours and keyword neighbours fused; no model call.
    """
    from paperfeed.search.similar import PaperNotFound, similar_papers

    hub = make_hub()
    try:
        hits = similar_papers(
            hub.search_index, paper_id, limit=limit, since=since.date() if since else None
        )
    except PaperNotFound as exc:
        err.print(f"[red]error:[/] no paper {exc.args[0]!r} in the store")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    if as_json:
        print(json.dumps([_hit_json(hit) for hit in hits], ensure_ascii=False))
        return
    _print_hits(hits)
