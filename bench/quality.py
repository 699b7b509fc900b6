"""Search quality on real judgments: CACM nDCG@10 and MAP, and similar-papers category agreement.

Run with `make bench-quality` (or `.venv/bin/python bench/quality.py`). The stores it builds are
kept in `data/bench/` so a second run skips the embedding; `--fresh` starts over.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from paperfeed.db.papers import iter_papers
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource, sample_source
from paperfeed.search.hybrid import fuse, search
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import embed_papers, load_sample_vectors
from paperfeed.search.similar import similar_papers
from paperfeed.settings import Settings

CACM = Path(__file__).resolve().parents[2] / "shared/data/cacm"
WORK = Path(__file__).resolve().parents[1] / "data/bench"


def build(name: str, load: object, *, fresh: bool) -> Hub:
    """A hub over a store in data/bench/NAME, loaded and embedded once."""
    folder = WORK / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    hub = Hub.from_settings(Settings(data_dir=folder))
    assert hub.embedder is not None
    if not (folder / "loaded").exists():
        run_ingest(hub.db, load)  # type: ignore[arg-type]
        load_sample_vectors(db=hub.db, contract=contract_of(hub.embedder))
        start = time.perf_counter()
        report = embed_papers(hub.db, hub.embedder)
        took = time.perf_counter() - start
        if report.embedded:
            print(f"{name}: embedded {report.embedded:,} papers in {took:.0f} s", file=sys.stderr)
        (folder / "loaded").touch()
    hub.search_index.ensure_fresh(force=True)
    return hub


def ndcg_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    gain = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def average_precision(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranked, start=1):
        if d in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


# Keyword settings before the quality work (#3), and what each step turned on.
OLD_KEYWORD = {"title_boost": 2.0, "query_tf_k3": 0.0, "request_words": False}
KEYWORD_STEPS: list[tuple[str, dict[str, object]]] = [
    ("BM25, title boost 2 (before)", OLD_KEYWORD),
    ("+ request words dropped", {**OLD_KEYWORD, "request_words": True}),
    ("+ query term frequency (k3=8)", {**OLD_KEYWORD, "request_words": True, "query_tf_k3": 8.0}),
    ("+ title boost 1 (default now)", {}),
]


def cacm(*, fresh: bool, depth: int = 100) -> tuple[list[tuple[str, float, float]], int]:
    """The variants table on CACM: (name, nDCG@10, MAP) rows, and the number of queries."""
    hub = build("cacm", SnapshotSource(CACM / "docs.jsonl.gz"), fresh=fresh)
    queries = {
        q["id"]: q["text"]
        for q in map(json.loads, (CACM / "queries.jsonl").read_text().splitlines())
    }
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (CACM / "qrels.trec").read_text().splitlines():
        qid, _, doc, rel = line.split()
        if int(rel) > 0:
            qrels[qid].add(doc)
    index = hub.search_index
    assert hub.embedder is not None and index.vectors is not None
    vectors = index.vectors
    runs: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def score(name: str, ranked: list[str], relevant: set[str]) -> None:
        runs[name].append((ndcg_at(ranked, relevant), average_precision(ranked[:depth], relevant)))

    for qid, relevant in sorted(qrels.items(), key=lambda kv: int(kv[0])):
        text = queries[qid]
        query_vector = hub.embedder.embed([text])[0]
        vector = vectors.search(query_vector, k=depth)
        keyword_runs = {
            name: index.keyword.search(text, limit=depth, **options)  # type: ignore[arg-type]
            for name, options in KEYWORD_STEPS
        }
        for name, hits in keyword_runs.items():
            score(f"keyword: {name}", [p for p, _ in hits], relevant)
        score("vector: all-MiniLM-L6-v2", [p for p, _ in vector], relevant)
        before, now = keyword_runs[KEYWORD_STEPS[0][0]], keyword_runs[KEYWORD_STEPS[-1][0]]

        def cosines(ids: list[str], q: np.ndarray = query_vector) -> dict[str, float]:
            return dict(vectors.search(q, k=len(ids), mask_ids=set(ids)))

        for name, fused in (
            ("hybrid: RRF k=60, keyword before", fuse(before, vector, fusion="rrf")),
            ("hybrid: RRF k=60", fuse(now, vector, fusion="rrf")),
            ("hybrid: convex, no cosine fill", fuse(now, vector)),
            ("hybrid: convex 0.5 (search() now)", fuse(now, vector, cosines=cosines)),
            (
                "  same, keyword weight 0.4",
                fuse(now, vector, cosines=cosines, keyword_weight=2 / 3),
            ),
            ("  same, keyword weight 0.6", fuse(now, vector, cosines=cosines, keyword_weight=1.5)),
        ):
            score(name, [p for p, _ in fused], relevant)
        hits = search(index, hub.embedder, text, limit=depth, embed_timeout_s=60).hits
        score("search() as shipped", [h.paper.paper_id for h in hits], relevant)
    hub.close()
    rows = [
        (name, float(np.mean([r[0] for r in rs])), float(np.mean([r[1] for r in rs])))
        for name, rs in runs.items()
    ]
    return rows, len(qrels)


def known_item(*, fresh: bool, n: int = 400, seed: int = 5) -> list[tuple[str, float]]:
    """MRR@10 of the paper a query was cut from, on the bundled sample: a check on arXiv text.

    Synthetic queries, not human judgments: a quarter the first half of a title, a quarter four
    title words shuffled, half a 4-8-word phrase of the abstract. It guards the choices made on
    CACM (1960s-70s abstracts, half of them missing) against hurting arXiv-style look-ups.
    """
    hub = build("sample", sample_source(), fresh=fresh)
    index = hub.search_index
    assert hub.embedder is not None and index.vectors is not None
    vectors = index.vectors
    with hub.db.read() as conn:
        papers = [p for batch in iter_papers(conn, include_hidden=False) for p in batch]
    rng = random.Random(seed)
    cases = []
    for i, paper in enumerate(rng.sample(papers, n)):
        words = paper.title.split()
        if i % 4 == 0:
            cases.append((paper.paper_id, " ".join(words[: max(3, len(words) // 2)])))
        elif i % 4 == 1:
            cases.append((paper.paper_id, " ".join(rng.sample(words, min(4, len(words))))))
        else:
            body = re.findall(r"[A-Za-z][A-Za-z-]+", paper.abstract)
            start = rng.randrange(0, max(1, len(body) - 8))
            cases.append((paper.paper_id, " ".join(body[start : start + rng.randint(4, 8)])))
    runs: dict[str, list[float]] = defaultdict(list)

    def reciprocal_rank(ranked: list[str], target: str) -> float:
        return next((1 / i for i, p in enumerate(ranked[:10], start=1) if p == target), 0.0)

    for (target, text), query_vector in zip(
        cases, hub.embedder.embed([t for _, t in cases]), strict=True
    ):
        keyword = index.keyword.search(text, limit=100)
        before = index.keyword.search(text, limit=100, **OLD_KEYWORD)  # type: ignore[arg-type]
        vector = vectors.search(query_vector, k=100)
        hits = search(index, hub.embedder, text, limit=100, embed_timeout_s=60).hits
        for name, ranked in (
            ("keyword, before", [p for p, _ in before]),
            ("keyword, now", [p for p, _ in keyword]),
            ("vector", [p for p, _ in vector]),
            (
                "hybrid: RRF k=60, keyword before",
                [p for p, _ in fuse(before, vector, fusion="rrf")],
            ),
            ("hybrid: RRF k=60", [p for p, _ in fuse(keyword, vector, fusion="rrf")]),
            ("search() as shipped", [h.paper.paper_id for h in hits]),
        ):
            runs[name].append(reciprocal_rank(ranked, target))
    hub.close()
    return [(name, float(np.mean(values))) for name, values in runs.items()]


def similar_agreement(*, fresh: bool) -> tuple[float, float, float]:
    hub = build("sample", sample_source(), fresh=fresh)
    index = hub.search_index
    primary = {}
    with gzip.open(sample_source().path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            primary[record["id"]] = record["primary_category"]
    same = top1 = total = 0
    start = time.perf_counter()
    for paper_id, category in primary.items():
        hits = similar_papers(index, paper_id, limit=10)
        same += sum(primary.get(h.paper.paper_id) == category for h in hits)
        top1 += bool(hits) and primary.get(hits[0].paper.paper_id) == category
        total += len(hits)
    took = (time.perf_counter() - start) / len(primary) * 1000
    hub.close()
    return same / total, top1 / len(primary), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench stores")
    args = parser.parse_args()
    if not CACM.is_dir():
        sys.exit(f"no CACM collection at {CACM}")
    rows, queries = cacm(fresh=args.fresh)
    print(f"CACM ({queries} judged queries, 3,204 papers), top 100 per list")
    print(f"{'run':<46}{'nDCG@10':>9}{'MAP':>8}")
    for name, ndcg, ap in rows:
        print(f"{name:<46}{ndcg:>9.3f}{ap:>8.3f}")
    print("target: hybrid nDCG@10 >= 0.58 (plain BM25 0.460, MiniLM 0.413, plain RRF 0.545)")
    print()
    print("known-item look-ups on the bundled sample (400 synthetic queries): MRR@10")
    for name, mrr in known_item(fresh=args.fresh):
        print(f"{name:<46}{mrr:>9.3f}")
    share, top1, ms = similar_agreement(fresh=args.fresh)
    print()
    print("similar papers on the bundled sample (2,027 papers): same primary category")
    print(f"top-10 share {share:.1%}   top-1 {top1:.1%}   {ms:.1f} ms per paper")
    print("target: top-10 share >= 76% (TF-IDF 65.3%, MiniLM exact cosine 73.0%)")


if __name__ == "__main__":
    main()
