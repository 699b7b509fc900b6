"""Submitting a paper: a reader names an arXiv paper and it is featured today, fetched from
arXiv first (through `ingest.single`) when the hub does not hold it.

The reader's text never becomes a URL we fetch: it must parse as an arXiv id (bare,
`arXiv:`-labelled, or an arxiv.org abs/pdf/html link); anything else, a link to another host
included, is refused without a request. A submitted paper is embedded at once (when the hub
has an embedder), so semantic search finds it without waiting for `paperfeed index` or the
worker; if that fails, the worker's next pass embeds it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from paperfeed.community import limits
from paperfeed.community.featuring import today
from paperfeed.db.engine import Database
from paperfeed.db.feed import feature_paper
from paperfeed.db.papers import get_paper, upsert_papers
from paperfeed.ingest.single import ArxivFetcher, FetchRefused
from paperfeed.models import PaperStatus, parse_arxiv_id
from paperfeed.search.embedder import Embedder
from paperfeed.search.indexer import embed_papers

MAX_INPUT = 300

logger = logging.getLogger(__name__)


class SubmitError(ValueError):
    """The submission cannot be taken; the message says why, for the reader."""


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted paper: its id, the day it is featured on, and whether that is new."""

    paper_id: str
    featured_on: dt.date
    newly_featured: bool


def parse_submission(text: str) -> str:
    """The arXiv id (without version) a reader's text names; SubmitError otherwise."""
    candidate = text.strip()
    if not candidate:
        raise SubmitError("Enter an arXiv id, like 2401.00001, or an arxiv.org link.")
    if len(candidate) > MAX_INPUT:
        raise SubmitError("That is too long for an arXiv id or link.")
    parsed = parse_arxiv_id(candidate)
    if parsed is not None:
        return parsed[0]
    if "://" in candidate or candidate.lower().startswith(("www.", "//")):
        raise SubmitError(
            "Only arXiv papers can be submitted: give an arXiv id or an arxiv.org/abs link."
        )
    raise SubmitError(f"“{candidate[:60]}” is not an arXiv id (they look like 2401.00001).")


def submit_paper(
    *,
    db: Database,
    fetcher: ArxivFetcher,
    user_id: int,
    text: str,
    embedder: Embedder | None = None,
) -> Submission:
    """Feature the paper `text` names today, fetching it from arXiv if the hub lacks it, and
    embed it with `embedder` unless it already has a current vector.

    Raises `SubmitError` (with a message for the reader) or `RateLimited`.
    """
    paper_id = parse_submission(text)
    limits.hit(db=db, limit=limits.SUBMIT_PER_USER, who=str(user_id))
    with db.read() as conn:
        stored = get_paper(conn, paper_id, include_hidden=True)
    if stored is None:
        try:
            record = fetcher.fetch(paper_id)
        except FetchRefused as exc:
            raise SubmitError(str(exc)) from None
        if record is None:
            raise SubmitError(f"arXiv has no paper {paper_id}.")
        with db.write() as conn:
            upsert_papers(conn, [record])
    elif stored.record.status is not PaperStatus.ACTIVE:
        raise SubmitError(f"The paper {paper_id} has been withdrawn or removed.")
    day = today()
    with db.write() as conn:
        created = feature_paper(conn, paper_id, day, user_id=user_id, source="submit")
    if embedder is not None:
        try:
            embed_papers(db, embedder, among=[paper_id])
        except Exception:  # the submission stands; the worker's next pass embeds it
            logger.exception("could not embed the submitted paper %s", paper_id)
    return Submission(paper_id, day, created)
