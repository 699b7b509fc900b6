"""Keyphrases of papers in the store: what search/keyphrases.py found in each paper's text.

A paper's keyphrases are current when they were computed by the current method (`version`)
from the text its current vector was embedded from (`text_hash`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, or_, select

from paperfeed.db.schema import paper_keyphrases, paper_vectors, papers, utc_now
from paperfeed.db.vectors import EmbeddingContract
from paperfeed.models import PaperStatus


@dataclass(frozen=True, slots=True)
class PaperKeyphrases:
    """What to store for one paper: its phrases, best first, with their scores."""

    paper_id: str
    text_hash: str
    phrases: Sequence[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class VectorText:
    """A paper lacking current keyphrases: its text and its stored vector."""

    paper_id: str
    title: str
    abstract: str
    text_hash: str
    vector: np.ndarray


def store_keyphrases(conn: Connection, rows: Sequence[PaperKeyphrases], *, version: int) -> None:
    """Insert or replace the keyphrases of papers, in the caller's transaction."""
    if not rows:
        return
    ids = [row.paper_id for row in rows]
    conn.execute(paper_keyphrases.delete().where(paper_keyphrases.c.paper_id.in_(ids)))
    now = utc_now()
    conn.execute(
        paper_keyphrases.insert(),
        [
            {
                "paper_id": row.paper_id,
                "version": version,
                "text_hash": row.text_hash,
                "phrases": [[phrase, float(score)] for phrase, score in row.phrases],
                "computed_at": now,
            }
            for row in rows
        ],
    )


def get_keyphrases(conn: Connection, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    """The stored phrases of these papers, best first (papers without any are left out)."""
    found: dict[str, list[str]] = {}
    ids = list(dict.fromkeys(paper_ids))
    for start in range(0, len(ids), 500):
        query = select(paper_keyphrases.c.paper_id, paper_keyphrases.c.phrases).where(
            paper_keyphrases.c.paper_id.in_(ids[start : start + 500])
        )
        for row in conn.execute(query):
            if row.phrases:
                found[row.paper_id] = [str(item[0]) for item in row.phrases]
    return found


def keyphrase_rows(
    conn: Connection, paper_ids: Sequence[str], *, version: int
) -> dict[str, tuple[str, list[list[Any]]]]:
    """(text hash, stored [[phrase, score], ...]) of these papers' keyphrases of `version`."""
    found: dict[str, tuple[str, list[list[Any]]]] = {}
    ids = list(dict.fromkeys(paper_ids))
    for start in range(0, len(ids), 500):
        query = select(
            paper_keyphrases.c.paper_id, paper_keyphrases.c.text_hash, paper_keyphrases.c.phrases
        ).where(
            paper_keyphrases.c.paper_id.in_(ids[start : start + 500]),
            paper_keyphrases.c.version == version,
        )
        for row in conn.execute(query):
            found[row.paper_id] = (row.text_hash, row.phrases)
    return found


def keyphrase_hashes(conn: Connection, paper_ids: Sequence[str], *, version: int) -> set[str]:
    """Those of these papers that have keyphrases of `version` (from whatever text)."""
    return set(keyphrase_rows(conn, paper_ids, version=version))


def papers_lacking_keyphrases(
    conn: Connection,
    *,
    contract: EmbeddingContract,
    version: int,
    after: str = "",
    limit: int = 256,
) -> list[VectorText]:
    """Visible papers with a current vector but no keyphrases of `version` from its text, in id
    order after `after`."""
    query = (
        select(
            papers.c.paper_id,
            papers.c.title,
            papers.c.abstract,
            paper_vectors.c.text_hash,
            paper_vectors.c.vector,
        )
        .select_from(papers.join(paper_vectors).outerjoin(paper_keyphrases))
        .where(
            papers.c.status == PaperStatus.ACTIVE.value,
            papers.c.paper_id > after,
            and_(
                paper_vectors.c.model_id == contract.model_id,
                paper_vectors.c.revision == contract.revision,
                paper_vectors.c.input_version == contract.input_version,
            ),
            or_(
                paper_keyphrases.c.paper_id.is_(None),
                paper_keyphrases.c.version != version,
                paper_keyphrases.c.text_hash != paper_vectors.c.text_hash,
            ),
        )
        .order_by(papers.c.paper_id)
        .limit(limit)
    )
    return [
        VectorText(
            row.paper_id,
            row.title,
            row.abstract,
            row.text_hash,
            np.frombuffer(row.vector, dtype="<f4").astype(np.float32),
        )
        for row in conn.execute(query)
    ]
