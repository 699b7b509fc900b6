"""Paper vectors in the store, each with its embedding contract (model, revision, input, text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from paperfeed.db.schema import paper_vectors, papers, utc_now
from paperfeed.models import PaperStatus


@dataclass(frozen=True, slots=True)
class EmbeddingContract:
    """What a stored vector was made with; a vector made under another contract is stale."""

    model_id: str
    revision: str
    input_version: int
    dim: int


@dataclass(frozen=True, slots=True)
class PaperText:
    """What the embedder needs of a paper."""

    paper_id: str
    title: str
    abstract: str
    stored_text_hash: str | None


def _current(contract: EmbeddingContract) -> ColumnElement[bool]:
    return and_(
        paper_vectors.c.model_id == contract.model_id,
        paper_vectors.c.revision == contract.revision,
        paper_vectors.c.input_version == contract.input_version,
    )


def papers_to_embed(
    conn: Connection,
    *,
    contract: EmbeddingContract,
    after: str = "",
    limit: int = 1000,
    among: Sequence[str] | None = None,
) -> list[PaperText]:
    """Visible papers with no vector, a vector of another contract, or text changed since.

    Papers come in id order after `after`, so a caller can page through them; `among` limits
    them to these ids (at most a few hundred: they go into one IN clause). The caller still
    compares text hashes: a paper modified in other fields keeps its vector.
    """
    query = (
        select(
            papers.c.paper_id,
            papers.c.title,
            papers.c.abstract,
            paper_vectors.c.text_hash,
            paper_vectors.c.model_id,
            paper_vectors.c.revision,
            paper_vectors.c.input_version,
        )
        .select_from(papers.outerjoin(paper_vectors))
        .where(
            papers.c.status == PaperStatus.ACTIVE.value,
            papers.c.paper_id > after,
            or_(
                paper_vectors.c.paper_id.is_(None),
                ~_current(contract),
                papers.c.modified_at > paper_vectors.c.embedded_at,
            ),
        )
        .order_by(papers.c.paper_id)
        .limit(limit)
    )
    if among is not None:
        query = query.where(papers.c.paper_id.in_(list(among)))
    found = []
    for row in conn.execute(query):
        same_contract = (row.model_id, row.revision, row.input_version) == (
            contract.model_id,
            contract.revision,
            contract.input_version,
        )
        found.append(
            PaperText(
                row.paper_id, row.title, row.abstract, row.text_hash if same_contract else None
            )
        )
    return found


def store_vectors(
    conn: Connection,
    *,
    contract: EmbeddingContract,
    paper_ids: Sequence[str],
    text_hashes: Sequence[str],
    vectors: np.ndarray,
) -> None:
    """Insert or replace the vectors of papers, in the caller's transaction."""
    if len(paper_ids) == 0:
        return
    if vectors.shape != (len(paper_ids), contract.dim):
        raise ValueError(f"expected {len(paper_ids)}×{contract.dim} vectors, got {vectors.shape}")
    now = utc_now()
    data = np.ascontiguousarray(vectors, dtype="<f4")
    conn.execute(paper_vectors.delete().where(paper_vectors.c.paper_id.in_(list(paper_ids))))
    conn.execute(
        paper_vectors.insert(),
        [
            {
                "paper_id": pid,
                "model_id": contract.model_id,
                "revision": contract.revision,
                "input_version": contract.input_version,
                "text_hash": text_hash,
                "dim": contract.dim,
                "vector": data[i].tobytes(),
                "embedded_at": now,
            }
            for i, (pid, text_hash) in enumerate(zip(paper_ids, text_hashes, strict=True))
        ],
    )


def touch_vectors(conn: Connection, *, paper_ids: Sequence[str]) -> None:
    """Mark vectors as checked now (their text did not change), so they are not listed again."""
    if paper_ids:
        conn.execute(
            paper_vectors.update()
            .where(paper_vectors.c.paper_id.in_(list(paper_ids)))
            .values(embedded_at=utc_now())
        )


def iter_vectors(
    conn: Connection,
    *,
    contract: EmbeddingContract,
    since: dt.datetime | None = None,
    batch: int = 20_000,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Yield (ids, float32 matrix) of visible papers' current vectors, in batches."""
    query = (
        select(paper_vectors.c.paper_id, paper_vectors.c.vector)
        .join(papers)
        .where(_current(contract), papers.c.status == PaperStatus.ACTIVE.value)
        .order_by(paper_vectors.c.paper_id)
    )
    if since is not None:
        query = query.where(paper_vectors.c.embedded_at >= since)
    result = conn.execution_options(yield_per=batch).execute(query)
    for rows in result.partitions(batch):
        ids = [row.paper_id for row in rows]
        matrix = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f4")
        yield ids, matrix.reshape(len(ids), contract.dim).astype(np.float32, copy=False)


def get_vector(
    conn: Connection, *, paper_id: str, contract: EmbeddingContract
) -> np.ndarray | None:
    """The current vector of one paper, or None."""
    blob = conn.scalar(
        select(paper_vectors.c.vector).where(
            paper_vectors.c.paper_id == paper_id, _current(contract)
        )
    )
    if blob is None:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class VectorCounts:
    papers: int
    current: int
    other_contract: int
    last_embedded_at: dt.datetime | None

    @property
    def missing(self) -> int:
        return self.papers - self.current

    @property
    def reindex_needed(self) -> bool:
        """Vectors of another model or input format are stored: search them no more."""
        return self.other_contract > 0


def count_vectors(conn: Connection, *, contract: EmbeddingContract) -> VectorCounts:
    """Count visible papers, their current vectors, and vectors of another contract."""
    active = papers.c.status == PaperStatus.ACTIVE.value
    total = conn.scalar(select(func.count()).select_from(papers).where(active)) or 0
    current = (
        conn.scalar(
            select(func.count())
            .select_from(paper_vectors.join(papers))
            .where(active, _current(contract))
        )
        or 0
    )
    other = (
        conn.scalar(
            select(func.count())
            .select_from(paper_vectors.join(papers))
            .where(active, ~_current(contract))
        )
        or 0
    )
    last = conn.scalar(select(func.max(paper_vectors.c.embedded_at)))
    return VectorCounts(int(total), int(current), int(other), last)


def vector_models(conn: Connection) -> dict[str, int]:
    """How many stored vectors each model made (hidden papers' included), by model id."""
    rows = conn.execute(
        select(paper_vectors.c.model_id, func.count()).group_by(paper_vectors.c.model_id)
    )
    return {str(model): int(count) for model, count in rows}


def delete_other_models(conn: Connection, *, model_id: str) -> int:
    """Delete the vectors made by any other model than `model_id`; return how many."""
    result = conn.execute(paper_vectors.delete().where(paper_vectors.c.model_id != model_id))
    return int(result.rowcount or 0)


def latest_embedding(conn: Connection) -> dt.datetime | None:
    """The time the latest vector was stored or checked (an index look-up)."""
    latest: dt.datetime | None = conn.scalar(select(func.max(paper_vectors.c.embedded_at)))
    return latest
