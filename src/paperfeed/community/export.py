"""Which papers an export holds: one paper, a collection, a search or a period's feed, written
as BibTeX or CSL-JSON (`paperfeed.citations`). The pages, `/api/export` and `paperfeed export`
all call `export_papers` and `render_export`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from paperfeed.citations import bibtex, csl_json, unique
from paperfeed.community.collections import NoSuchCollection, visible_collection
from paperfeed.community.papers import active_paper
from paperfeed.db import collections as collection_store
from paperfeed.db.engine import Database
from paperfeed.db.feed import papers_for_period
from paperfeed.models import PaperRecord, parse_arxiv_id
from paperfeed.periods import Period
from paperfeed.search.hybrid import search

if TYPE_CHECKING:
    from paperfeed.search.embedder import Embedder
    from paperfeed.search.index import SearchIndex

ExportFormat = Literal["bibtex", "csljson"]
FORMATS: tuple[ExportFormat, ...] = ("bibtex", "csljson")
# What each format is served as, and the file suffix it is saved with.
MEDIA_TYPES: dict[ExportFormat, str] = {
    "bibtex": "application/x-bibtex; charset=utf-8",
    "csljson": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
SUFFIXES: dict[ExportFormat, str] = {"bibtex": ".bib", "csljson": ".json"}
SEARCH_LIMIT = 50  # a search exports its best matches, as its feeds list them
MAX_SEARCH_LIMIT = 200


class NothingToExport(ValueError):
    """The request names no list to export, or more than one."""


@dataclass(frozen=True, slots=True)
class Export:
    """The papers of one export, in the list's order, and a file name to save them under; a
    collection's also carries its notes by paper id (written as `annote`)."""

    papers: list[PaperRecord]
    name: str
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search as the search page runs it."""

    query: str
    since: dt.date | None = None
    until: dt.date | None = None
    categories: Sequence[str] | None = None
    limit: int = SEARCH_LIMIT


def export_papers(
    *,
    db: Database,
    search_index: SearchIndex | None = None,
    embedder: Embedder | None = None,
    paper_id: str | None = None,
    collection_id: int | None = None,
    query: SearchQuery | None = None,
    period: Period | None = None,
    category: str | None = None,
    user_id: int | None = None,
    any_collection: bool = False,
    embed_timeout_s: float = 2.0,
) -> Export:
    """The papers of exactly one list: a paper, a collection (public, the reader's own, or any
    with `any_collection`), a search, or a period's feed (only `category` if given; most
    upvoted first, as the feed page lists it).

    Raises `NothingToExport`, `NoSuchPaper` or `NoSuchCollection`.
    """
    chosen = [
        paper_id is not None,
        collection_id is not None,
        query is not None,
        period is not None,
    ]
    if sum(chosen) != 1:
        raise NothingToExport(
            "Name one list to export: a paper, a collection, a search query or a day."
        )
    if paper_id is not None:
        parsed = parse_arxiv_id(paper_id)
        record = active_paper(db=db, paper_id=parsed[0] if parsed else paper_id)
        return Export([record], _file_name(record.paper_id))
    if collection_id is not None:
        # Notes come with what the reader may see: a public collection, or their own.
        if not any_collection:
            visible_collection(db=db, collection_id=collection_id, user_id=user_id)
        with db.read() as conn:
            if any_collection and collection_store.get_collection(conn, collection_id) is None:
                raise NoSuchCollection(collection_id)
            collected = collection_store.collection_papers(conn, collection_id)
            notes = collection_store.item_notes(conn, collection_id)
        return Export(
            [paper for paper, _ in collected],
            f"collection-{collection_id}",
            {paper_id: n.note for paper_id, n in notes.items() if n.note},
        )
    if query is not None:
        if search_index is None or not query.query.strip():
            raise NothingToExport("Give a search query.")
        results = search(
            search_index,
            embedder,
            query.query,
            since=query.since,
            until=query.until,
            categories=query.categories,
            limit=query.limit,
            embed_timeout_s=embed_timeout_s,
        )
        return Export(unique(hit.paper for hit in results.hits), "search")
    assert period is not None
    with db.read() as conn:
        items = papers_for_period(conn, period.start, period.end, limit=-1, category=category)
    return Export(unique(item.paper for item in items), f"papers-{period.start.isoformat()}")


def render_export(
    papers: Sequence[PaperRecord], fmt: ExportFormat, notes: Mapping[str, str] | None = None
) -> str:
    """The text of an export: a BibTeX file, or a CSL-JSON array (`notes` by paper id become
    each entry's `annote`)."""
    if fmt == "bibtex":
        return bibtex(papers, notes)
    return json.dumps(csl_json(papers, notes), ensure_ascii=False, indent=2) + "\n"


def _file_name(paper_id: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "-" for c in paper_id)
