"""Indexing: embed the papers whose vector is missing or stale, in resumable batches.

Each batch of vectors is committed on its own, so an interrupted `paperfeed index` picks up
where it stopped. The bundled sample's vectors ship precomputed (`data/sample_vectors.npz`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.db import Database
from paperfeed.db.keyphrases import (
    PaperKeyphrases,
    keyphrase_hashes,
    keyphrase_rows,
    papers_lacking_keyphrases,
    store_keyphrases,
)
from paperfeed.db.papers import get_papers
from paperfeed.db.vectors import (
    EmbeddingContract,
    count_vectors,
    delete_other_models,
    iter_vectors,
    papers_to_embed,
    store_vectors,
    touch_vectors,
    vector_models,
)
from paperfeed.search.embedder import Embedder, embedding_text
from paperfeed.search.index import contract_of
from paperfeed.search.keyphrases import KEYPHRASE_VERSION, Keyphrase, keyphrases

SAMPLE_VECTORS = Path(__file__).resolve().parent.parent / "data" / "sample_vectors.npz"
# The sample's keyphrases, computed from those vectors (`save_sample_keyphrases`).
SAMPLE_KEYPHRASES = SAMPLE_VECTORS.with_name("sample_keyphrases.json.gz")


def text_hash(text: str) -> str:
    """Hash the embedded text: a paper whose text hash is unchanged keeps its vector."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass
class EmbedReport:
    embedded: int = 0
    unchanged: int = 0
    keyphrased: int = 0


def _keyphrase_rows(
    ids: Sequence[str], hashes: Sequence[str], found: Sequence[Sequence[Keyphrase]]
) -> list[PaperKeyphrases]:
    return [
        PaperKeyphrases(pid, h, [(k.phrase, k.score) for k in phrases])
        for pid, h, phrases in zip(ids, hashes, found, strict=True)
    ]


class OtherModelVectors(RuntimeError):
    """The store holds vectors of another embedding model: embedding would mix two models."""


def check_one_model(db: Database, contract: EmbeddingContract) -> None:
    """Raise OtherModelVectors when stored vectors were made by another model than `contract`'s.

    A new revision of the same model (a new export, another precision) is no mix: its papers
    are simply embedded again. Another model is refused, since its vectors are not comparable.
    """
    with db.read() as conn:
        models = vector_models(conn)
    others = {model: count for model, count in models.items() if model != contract.model_id}
    if others:
        made = ", ".join(f"{count:,} by {model}" for model, count in sorted(others.items()))
        raise OtherModelVectors(
            f"the store's paper vectors were made by another model ({made}), and this hub "
            f"embeds with {contract.model_id} (PAPERFEED_EMBEDDING_MODEL). Vectors of two "
            "models cannot be searched together: run `paperfeed index --rebuild` to embed every "
            "paper again with the new model, or set PAPERFEED_EMBEDDING_MODEL back."
        )


def pending_count(*, db: Database, contract: EmbeddingContract) -> int:
    """How many visible papers lack a current vector (an upper bound on the work)."""
    with db.read() as conn:
        counts = count_vectors(conn, contract=contract)
    return counts.missing


def embed_papers(
    db: Database,
    embedder: Embedder,
    *,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
    among: Sequence[str] | None = None,
    replace_other_models: bool = False,
    with_keyphrases: bool = True,
) -> EmbedReport:
    """Embed every visible paper without a current vector (only `among`, if given: a few
    hundred ids at most), and find the keyphrases of those embedded; commit each batch.

    Raises OtherModelVectors if the store holds vectors of another model, unless
    `replace_other_models` (`paperfeed index --rebuild`): then they are replaced as it goes,
    and those left (hidden papers') are deleted at the end.
    """
    contract = contract_of(embedder)
    if not replace_other_models:
        check_one_model(db, contract)
    report = EmbedReport()
    after = ""
    while True:
        with db.read() as conn:
            todo = papers_to_embed(conn, contract=contract, after=after, limit=batch, among=among)
        if not todo:
            if replace_other_models:
                with db.write() as conn:
                    delete_other_models(conn, model_id=contract.model_id)
            return report
        after = todo[-1].paper_id
        texts = [embedding_text(title=p.title, abstract=p.abstract) for p in todo]
        hashes = [text_hash(t) for t in texts]
        same = [p.paper_id for p, h in zip(todo, hashes, strict=True) if p.stored_text_hash == h]
        fresh = [
            i for i, (p, h) in enumerate(zip(todo, hashes, strict=True)) if p.stored_text_hash != h
        ]
        vectors = embedder.embed([texts[i] for i in fresh]) if fresh else None
        found: list[PaperKeyphrases] = []
        if vectors is not None and with_keyphrases:
            phrases = keyphrases(embedder, [texts[i] for i in fresh], vectors)
            found = _keyphrase_rows(
                [todo[i].paper_id for i in fresh], [hashes[i] for i in fresh], phrases
            )
        with db.write() as conn:
            touch_vectors(conn, paper_ids=same)
            if vectors is not None:
                store_vectors(
                    conn,
                    contract=contract,
                    paper_ids=[todo[i].paper_id for i in fresh],
                    text_hashes=[hashes[i] for i in fresh],
                    vectors=vectors,
                )
            store_keyphrases(conn, found, version=KEYPHRASE_VERSION)
        report.embedded += len(fresh)
        report.keyphrased += len(found)
        report.unchanged += len(same)
        if progress is not None:
            progress(len(todo))


def keyphrase_papers(
    db: Database,
    embedder: Embedder,
    *,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Find the keyphrases of every visible paper with a current vector but none from its
    text (vectors loaded from the sample, or keyphrases of an older method); commit each batch
    and return how many papers got them."""
    contract = contract_of(embedder)
    done = 0
    after = ""
    while True:
        with db.read() as conn:
            todo = papers_lacking_keyphrases(
                conn, contract=contract, version=KEYPHRASE_VERSION, after=after, limit=batch
            )
        if not todo:
            return done
        after = todo[-1].paper_id
        texts = [embedding_text(title=p.title, abstract=p.abstract) for p in todo]
        found = keyphrases(embedder, texts, np.stack([p.vector for p in todo]))
        rows = _keyphrase_rows([p.paper_id for p in todo], [p.text_hash for p in todo], found)
        with db.write() as conn:
            store_keyphrases(conn, rows, version=KEYPHRASE_VERSION)
        done += len(todo)
        if progress is not None:
            progress(len(todo))


def load_sample_vectors(
    *,
    db: Database,
    contract: EmbeddingContract,
    path: Path = SAMPLE_VECTORS,
    keyphrases_path: Path = SAMPLE_KEYPHRASES,
) -> int:
    """Store the shipped sample vectors of papers whose text still matches, and their shipped
    keyphrases; return how many vectors."""
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as data:
        meta = (str(data["model_id"]), str(data["revision"]), int(data["input_version"]))
        if meta != (contract.model_id, contract.revision, contract.input_version):
            return 0
        ids = [str(x) for x in data["ids"]]
        hashes = [str(x) for x in data["text_hashes"]]
        vectors = data["vectors"].astype(np.float32)
    wanted = dict(zip(ids, range(len(ids)), strict=True))
    stored = 0
    # Only the sample's own papers are looked up (a few thousand), never the whole store.
    for start in range(0, len(ids), 500):
        with db.read() as conn:
            todo = papers_to_embed(
                conn, contract=contract, limit=500, among=ids[start : start + 500]
            )
        rows = []
        for paper in todo:
            row = wanted[paper.paper_id]
            text = embedding_text(title=paper.title, abstract=paper.abstract)
            if text_hash(text) == hashes[row]:
                rows.append(row)
        if rows:
            with db.write() as conn:
                store_vectors(
                    conn,
                    contract=contract,
                    paper_ids=[ids[r] for r in rows],
                    text_hashes=[hashes[r] for r in rows],
                    vectors=vectors[rows],
                )
            stored += len(rows)
    load_sample_keyphrases(db=db, contract=contract, path=keyphrases_path)
    return stored


def load_sample_keyphrases(
    *, db: Database, contract: EmbeddingContract, path: Path = SAMPLE_KEYPHRASES
) -> int:
    """Store the shipped keyphrases of sample papers that lack current ones and whose text
    still matches; return how many."""
    if not path.is_file():
        return 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if (data["version"], data["model_id"], data["revision"]) != (
        KEYPHRASE_VERSION,
        contract.model_id,
        contract.revision,
    ):
        return 0
    shipped: dict[str, dict[str, Any]] = data["papers"]
    ids = list(shipped)
    stored = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        with db.read() as conn:
            have = keyphrase_hashes(conn, chunk, version=KEYPHRASE_VERSION)
            papers = get_papers(conn, [i for i in chunk if i not in have])
        rows = []
        for pid, paper in papers.items():
            text = text_hash(embedding_text(title=paper.title, abstract=paper.abstract))
            if text == shipped[pid]["text_hash"]:
                rows.append(PaperKeyphrases(pid, text, shipped[pid]["phrases"]))
        if rows:
            with db.write() as conn:
                store_keyphrases(conn, rows, version=KEYPHRASE_VERSION)
            stored += len(rows)
    return stored


def save_sample_keyphrases(
    *, db: Database, embedder: Embedder, path: Path = SAMPLE_KEYPHRASES
) -> int:
    """Write the current keyphrases of the sample's papers (those in SAMPLE_VECTORS) to `path`
    (used to build the shipped file); return how many."""
    with np.load(SAMPLE_VECTORS, allow_pickle=False) as data:
        ids = sorted(str(x) for x in data["ids"])
    contract = contract_of(embedder)
    with db.read() as conn:
        found = keyphrase_rows(conn, ids, version=KEYPHRASE_VERSION)
    payload = {
        "version": KEYPHRASE_VERSION,
        "model_id": contract.model_id,
        "revision": contract.revision,
        "papers": {
            pid: {"text_hash": h, "phrases": phrases} for pid, (h, phrases) in found.items()
        },
    }
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
    return len(found)


def save_sample_vectors(*, db: Database, embedder: Embedder, path: Path = SAMPLE_VECTORS) -> int:
    """Write the vectors of the papers in the store to `path` (used to build the shipped file)."""
    contract = contract_of(embedder)
    ids: list[str] = []
    parts = []
    with db.read() as conn:
        for batch_ids, batch in iter_vectors(conn, contract=contract):
            ids.extend(batch_ids)
            parts.append(batch)
        papers = get_papers(conn, ids)
    hashes = [
        text_hash(embedding_text(title=papers[i].title, abstract=papers[i].abstract)) for i in ids
    ]
    np.savez_compressed(
        path,
        ids=np.array(ids),
        text_hashes=np.array(hashes),
        vectors=np.concatenate(parts).astype(np.float16),
        model_id=np.array(contract.model_id),
        revision=np.array(contract.revision),
        input_version=np.array(contract.input_version),
    )
    return len(ids)
