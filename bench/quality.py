"""Search quality on real judgments: CACM nDCG@10 and MAP, and similar-papers category agreement.

Run with `make bench-quality` (or `.venv/bin/python bench/quality.py`). The stores it builds are
kept in `data/bench/` so a second run skips the embedding; `--fresh` starts over.

`--corpus N` (or `--corpus-only`, 2,000 by default) adds the same-category share of similar
papers on the 94,905-paper store of `bench/search.py` (`data/bench/full`, every paper with a
real vector: `paperfeed ingest snapshot` + `paperfeed index`), for N papers drawn with a fixed
seed, neighbours from the whole corpus, with the category bonus off (the default) and on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from paperfeed.db.papers import iter_papers
from paperfeed.db.vectors import iter_vectors
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import SnapshotSource, sample_source
from paperfeed.ranking import rrf
from paperfeed.search.embedder import Embedder
from paperfeed.search.hybrid import fuse, search
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import embed_papers, load_sample_vectors
from paperfeed.search.similar import similar_papers
from paperfeed.settings import Settings

CACM = Path(__file__).resolve().parents[2] / "shared/data/cacm"
# The bench stores (and their vectors) are kept here; PAPERFEED_BENCH_DIR moves them (to /tmp).
WORK = Path(
    os.environ.get("PAPERFEED_BENCH_DIR") or Path(__file__).resolve().parents[1] / "data/bench"
)


def build(name: str, load: object, *, fresh: bool, embedder: Embedder | None = None) -> Hub:
    """A hub over a store in WORK/NAME, loaded and embedded once (by `embedder` if given)."""
    folder = WORK / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    settings = Settings(data_dir=folder)
    if embedder is None:
        hub = Hub.from_settings(settings)
    else:
        hub = Hub.from_settings(settings.model_copy(update={"semantic_search": False}))
        hub.embedder = embedder
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


def cacm_hub(*, fresh: bool, precision: str = "int8") -> Hub:
    """CACM embedded by the shipped int8 ONNX model, or by the fp32 sentence-transformers one."""
    source = SnapshotSource(CACM / "docs.jsonl.gz")
    if precision == "int8":
        return build("cacm", source, fresh=fresh)
    from paperfeed.search.torch_embedder import TorchEmbedder  # torch: only for this run

    return build("cacm-fp32", source, fresh=fresh, embedder=TorchEmbedder())


def cacm(hub: Hub, *, depth: int = 100) -> tuple[list[tuple[str, float, float]], int]:
    """The variants table on CACM: (name, nDCG@10, MAP) rows, and the number of queries."""
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


AGREEMENT_VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("similar_papers() now (category bonus off)", {}),
    ("now + category bonus 0.03", {"category_bonus": 0.03}),
    (
        "before: vectors, expansion, bonus 0.03",
        {
            "keyword_weight": 0.0,
            "expand_from": "vectors",
            "category_bonus": 0.03,
            "second_search": "full",
        },
    ),
    ("plain cosine", {"keyword_weight": 0.0, "expansion": 0}),
]


def similar_agreement(*, fresh: bool) -> list[tuple[str, float, float, float]]:
    """Same primary category among the 10 neighbours on the bundled sample: (name, top-10
    share, top-1 share, ms per paper) rows."""
    hub = build("sample", sample_source(), fresh=fresh)
    primary = {}
    with gzip.open(sample_source().path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            primary[record["id"]] = record["primary_category"]
    rows = agreement_rows(hub, primary, primary)
    hub.close()
    return rows


# The 94,905-paper store of bench/search.py (`paperfeed ingest snapshot` + `paperfeed index`).
CORPUS_STORE = Path(__file__).resolve().parents[1] / "data/bench/full"
CORPUS_SEED = 15


def corpus_agreement(papers: int) -> tuple[list[tuple[str, float, float, float]], int, int]:
    """Same primary category among the 10 neighbours of `papers` papers drawn (CORPUS_SEED)
    from the 94,905-paper corpus store, neighbours from all of it: (rows, papers drawn, papers
    with vectors). Refuses a store whose vectors are not all real ones."""
    if not (CORPUS_STORE / "paperfeed.db").is_file():
        sys.exit(f"no corpus store in {CORPUS_STORE}: see bench/search.py's docstring")
    if (CORPUS_STORE / "synthetic-vectors").exists():
        sys.exit(f"{CORPUS_STORE} holds synthetic vectors (bench/search.py): re-embed it first")
    hub = Hub.from_settings(Settings(data_dir=CORPUS_STORE))
    index = hub.search_index
    index.ensure_fresh(force=True)
    assert index.vectors is not None
    primary: dict[str, str] = {}
    with hub.db.read() as conn:
        for batch in iter_papers(conn):
            for paper in batch:
                if paper.primary_category:
                    primary[paper.paper_id] = paper.primary_category
    embedded = len(index.vectors)
    if embedded < len(primary):
        sys.exit(f"{len(primary) - embedded:,} papers of {CORPUS_STORE} have no vector: run index")
    drawn = random.Random(CORPUS_SEED).sample(sorted(primary), min(papers, len(primary)))
    rows = agreement_rows(hub, drawn, primary)
    hub.close()
    return rows, len(drawn), embedded


def agreement_rows(
    hub: Hub, queries: Iterable[str], primary: dict[str, str]
) -> list[tuple[str, float, float, float]]:
    """Each AGREEMENT_VARIANTS row: the share of the 10 neighbours of each query paper, and of
    its first one, in the query paper's primary category, and the ms per paper."""
    index = hub.search_index
    queries = list(queries)
    rows = []
    for name, options in AGREEMENT_VARIANTS:
        same = top1 = total = 0
        start = time.perf_counter()
        for paper_id in queries:
            category = primary[paper_id]
            hits = similar_papers(index, paper_id, limit=10, **options)  # type: ignore[arg-type]
            same += sum(primary.get(h.paper.paper_id) == category for h in hits)
            top1 += bool(hits) and primary.get(hits[0].paper.paper_id) == category
            total += len(hits)
        took = (time.perf_counter() - start) / len(queries) * 1000
        rows.append((name, same / total, top1 / len(queries), took))
    return rows


# --- similar papers on the CACM citation graph ------------------------------------------------

CITATION_DEPTH = 20
MIN_LINKS = 5
_TOKEN = re.compile(r"[a-z0-9]+")


def citation_links(min_links: int = MIN_LINKS) -> dict[str, set[str]]:
    """CACM's direct references (`.X` type 4), either direction, of papers with >= min_links."""
    links: dict[str, set[str]] = defaultdict(set)
    with gzip.open(CACM / "x_links.tsv.gz", "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            a, kind, b = line.split()
            if kind == "4" and a != b:
                links[a].add(b)
                links[b].add(a)
    return {paper: linked for paper, linked in links.items() if len(linked) >= min_links}


# The citation papers are split once, with this seed, into a tuning half (where any setting may
# be chosen) and a held-out half (only reported). The earlier #15 settings were chosen on every
# third paper in string order (`sorted(links)[0::3]`): those all go to the tuning half.
SPLIT_SEED = 15


def citation_halves(links: dict[str, set[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """(tuning, held-out): the held-out half is drawn with SPLIT_SEED among the papers no
    earlier tuning run looked at; the tuning half is the rest."""
    keys = sorted(links)
    looked_at = set(keys[0::3])
    fresh = sorted(set(keys) - looked_at, key=int)
    held_out = frozenset(random.Random(SPLIT_SEED).sample(fresh, len(keys) - len(keys) // 2))
    return frozenset(keys) - held_out, held_out


def recall_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


class PlainBM25:
    """The keyword baseline: BM25 (k1 0.9, b 0.4) over title + abstract, lowercase alphanumeric
    tokens, CACM's own stoplist, no stemming; a paper's query is its whole title + abstract."""

    def __init__(self, docs: dict[str, str], *, k1: float = 0.9, b: float = 0.4) -> None:
        with gzip.open(CACM / "original/common_words.gz", "rt", encoding="utf-8") as f:
            self.stop = {w.strip().lower() for w in f if w.strip()}
        self.ids = list(docs)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for row, text in enumerate(docs.values()):
            terms = self.terms(text)
            lengths.append(len(terms))
            for term, count in Counter(terms).items():
                postings[term].append((row, count))
        avg = float(np.mean(lengths)) or 1.0
        n = len(self.ids)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, rows in postings.items():
            at = np.array([r for r, _ in rows])
            tf = np.array([c for _, c in rows], dtype=np.float64)
            norm = k1 * (1 - b + b * np.array(lengths)[at] / avg)
            idf = math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            self.postings[term] = (at, idf * tf * (k1 + 1) / (tf + norm))

    def terms(self, text: str) -> list[str]:
        return [t for t in _TOKEN.findall(text.lower()) if t not in self.stop]

    def search(self, text: str, *, k: int, exclude: str) -> list[str]:
        scores = np.zeros(len(self.ids))
        for term in set(self.terms(text)):
            if term in self.postings:
                at, weight = self.postings[term]
                scores[at] += weight
        order = np.argsort(-scores, kind="stable")
        return [self.ids[i] for i in order[: k + 1] if scores[i] > 0 and self.ids[i] != exclude][:k]


def stored_matrix(hub: Hub) -> tuple[list[str], np.ndarray]:
    """The store's current vectors, as (ids, float32 matrix)."""
    assert hub.embedder is not None
    ids: list[str] = []
    parts = []
    with hub.db.read() as conn:
        for batch_ids, batch in iter_vectors(conn, contract=contract_of(hub.embedder)):
            ids.extend(batch_ids)
            parts.append(batch)
    return ids, np.concatenate(parts)


# similar_papers() as it was before #15: vector neighbours, expansion from them (a second full
# vector search), category bonus 0.03.
SIMILAR_BEFORE: dict[str, object] = {
    "keyword_weight": 0.0,
    "expand_from": "vectors",
    "category_bonus": 0.03,
    "second_search": "full",
    "depth": 100,
}
# similar_papers() options: (name, options, also on the other vectors). The first is the default;
# the ablation turns each component off (or on) alone.
SIMILAR_VARIANTS: list[tuple[str, dict[str, object], bool]] = [
    ("similar_papers() now", {}, True),
    ("similar_papers() before: vectors, expansion, bonus", SIMILAR_BEFORE, True),
    ("vectors only, no expansion (plain cosine)", {"keyword_weight": 0.0, "expansion": 0}, True),
    ("now without keywords (vectors, expansion)", {"keyword_weight": 0.0}, False),
    ("now without expansion or feedback (one pass)", {"expansion": 0}, False),
    ("now without keyword feedback", {"feedback_weight": 0.0}, False),
    ("now + category bonus 0.03", {"category_bonus": 0.03}, False),
    ("keywords only (like query), no feedback", {"vector_weight": 0.0, "expansion": 0}, False),
    ("now, second vector search over all papers", {"second_search": "full"}, False),
    (
        "now, 32 own terms, 64 with feedback (before)",
        {"like_terms": 32, "feedback_terms": 64},
        False,
    ),
    ("now, RRF k=60 instead of convex", {"fusion": "rrf"}, False),
    ("now, feedback papers from the fused list", {"expand_from": "fused"}, False),
    ("now, no cap on a term's share of papers", {"max_share": 1.0}, False),
    ("now, terms held by <= 5% of papers only", {"max_share": 0.05}, False),
    ("now, terms held by > 5% of papers in titles only", {"title_only_share": 0.05}, False),
    ("now, 100 candidates per list", {"depth": 100}, False),
    (
        "now as in stop 21 (fused feedback, no cap, 100)",
        {"expand_from": "fused", "max_share": 1.0, "depth": 100},
        False,
    ),
]


CitationRow = tuple[str, dict[str, tuple[float, float]], float]


def citations(
    hubs: dict[str, Hub],
    *,
    variants: list[tuple[str, dict[str, object], bool]] = SIMILAR_VARIANTS,
    ablate: str = "int8",
    halves: tuple[str, ...] = ("tuning", "held-out"),
) -> tuple[list[CitationRow], dict[str, int]]:
    """Similar papers against CACM's citation links: (name, {half: (nDCG@20, recall@20)}, ms)
    rows, and the number of papers of each half (`citation_halves`; "all" is both).

    `hubs` maps a vector label ("int8", "fp32") to a CACM hub embedded with it; the baselines
    use the fp32 one. No run sees the links: they are the judgments only. `halves` limits the
    run to some halves (a tuning script passes `("tuning",)`).
    """
    tuning, held_out = citation_halves(citation_links())
    half_of = {**dict.fromkeys(tuning, "tuning"), **dict.fromkeys(held_out, "held-out")}
    links = {p: linked for p, linked in citation_links().items() if half_of[p] in halves}
    k = CITATION_DEPTH
    fp32 = hubs["fp32"]
    with fp32.db.read() as conn:
        papers = {p.paper_id: p for batch in iter_papers(conn, include_hidden=False) for p in batch}
    texts = {pid: f"{p.title} {p.abstract}" for pid, p in papers.items()}
    bm25 = PlainBM25(texts)
    runs: dict[str, list[tuple[float, float, float, str]]] = defaultdict(list)
    half = ""

    def score(name: str, ranked: list[str], relevant: set[str], took: float = 0.0) -> None:
        runs[name].append(
            (ndcg_at(ranked, relevant, k), recall_at(ranked, relevant, k), took, half)
        )

    matrices = {label: stored_matrix(hub) for label, hub in hubs.items()}
    for paper_id, relevant in sorted(links.items(), key=lambda kv: int(kv[0])):
        half = half_of[paper_id]
        keyword = bm25.search(texts[paper_id], k=100, exclude=paper_id)
        for label, (ids, matrix) in matrices.items():
            row = ids.index(paper_id)
            sims = matrix @ matrix[row]
            sims[row] = -np.inf
            cosine = [ids[i] for i in np.argsort(-sims, kind="stable")[:100]]
            if label == "fp32":
                score("baseline: exact cosine, fp32", cosine, relevant)
                score("baseline: BM25, title + abstract", keyword, relevant)
                score(
                    "baseline: RRF k=60 of the two",
                    [p for p, _ in rrf([cosine, keyword])],
                    relevant,
                )
            else:
                score(f"exact cosine, {label}", cosine, relevant)
        for label, hub in hubs.items():
            for name, options, everywhere in variants:
                if label != ablate and not everywhere:
                    continue
                start = time.perf_counter()
                hits = similar_papers(hub.search_index, paper_id, limit=k, **options)  # type: ignore[arg-type]
                took = (time.perf_counter() - start) * 1000
                score(f"{name} [{label}]", [h.paper.paper_id for h in hits], relevant, took)
    counts = Counter(half_of[p] for p in links)
    counts["all"] = len(links)
    rows: list[CitationRow] = []
    for name, rs in runs.items():
        by_half = {
            part: (
                float(np.mean([r[0] for r in rs if part in ("all", r[3])])),
                float(np.mean([r[1] for r in rs if part in ("all", r[3])])),
            )
            for part in counts
        }
        rows.append((name, by_half, float(np.mean([r[2] for r in rs]))))
    return rows, dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench stores")
    parser.add_argument(
        "--no-fp32", action="store_true", help="skip the fp32 (sentence-transformers) vectors"
    )
    parser.add_argument(
        "--no-sample",
        action="store_true",
        help="skip the bundled-sample rows (known-item look-ups, same-category neighbours)",
    )
    parser.add_argument(
        "--corpus",
        type=int,
        default=0,
        metavar="PAPERS",
        help="also: same-category neighbours of PAPERS papers of the 94,905-paper store of "
        "bench/search.py (real vectors; category bonus off and on)",
    )
    parser.add_argument("--corpus-only", action="store_true", help="run the --corpus rows only")
    args = parser.parse_args()
    if args.corpus_only:
        print_corpus_agreement(args.corpus or 2_000)
        return
    if not CACM.is_dir():
        sys.exit(f"no CACM collection at {CACM}")
    hubs = {"int8": cacm_hub(fresh=args.fresh)}
    if not args.no_fp32:
        hubs["fp32"] = cacm_hub(fresh=args.fresh, precision="fp32")
    for label, hub in hubs.items():
        rows, queries = cacm(hub)
        print(f"CACM ({queries} judged queries, 3,204 papers), top 100 per list, {label} vectors")
        print(f"{'run':<46}{'nDCG@10':>9}{'MAP':>8}")
        for name, ndcg, ap in rows:
            if label == "int8" or name.startswith(("vector", "search()")):
                print(f"{name:<46}{ndcg:>9.3f}{ap:>8.3f}")
        print()
    print("target: hybrid nDCG@10 >= 0.58 (plain BM25 0.460, MiniLM 0.413, plain RRF 0.545)")
    print()
    if "fp32" not in hubs:  # the baselines are fp32 cosines: the int8 ones stand in, labelled
        hubs["fp32"] = hubs["int8"]
    cited, papers = citations(hubs)
    print(
        f"similar papers vs CACM citations ({papers['all']} papers with >= {MIN_LINKS} direct "
        f"references either way), top {CITATION_DEPTH}; tuning half {papers['tuning']} papers, "
        f"held-out half {papers['held-out']} (seed {SPLIT_SEED}; settings chosen on tuning only)"
    )
    parts = ("tuning", "held-out", "all")
    print(
        f"{'run':<58}"
        + "".join(f"{'nDCG ' + p:>15}" for p in parts)
        + "".join(f"{'R@20 ' + p:>15}" for p in parts[:2])
        + f"{'ms':>7}"
    )
    for name, by_half, ms in cited:
        print(
            f"{name:<58}"
            + "".join(f"{by_half[p][0]:>15.3f}" for p in parts)
            + "".join(f"{by_half[p][1]:>15.3f}" for p in parts[:2])
            + f"{ms:>7.1f}"
        )
    for part in parts:
        best_name, best = max(
            ((name, h[part][0]) for name, h, _ in cited if name.startswith("baseline")),
            key=lambda item: item[1],
        )
        now = next(h[part][0] for name, h, _ in cited if name == "similar_papers() now [int8]")
        verdict = "meets" if now / best - 1 >= 0.05 else "MISSES"
        print(
            f"{part}: similar_papers() now {now:.3f} vs the best baseline ({best_name}, "
            f"{best:.3f}): {now / best - 1:+.1%}, {verdict} the target (>= +5%)"
        )
    for hub in {id(hub): hub for hub in hubs.values()}.values():
        hub.close()
    if args.no_sample:
        return
    print()
    print("known-item look-ups on the bundled sample (400 synthetic queries): MRR@10")
    for name, mrr in known_item(fresh=args.fresh):
        print(f"{name:<46}{mrr:>9.3f}")
    print()
    print("similar papers on the bundled sample (2,027 papers): same primary category")
    print_agreement(similar_agreement(fresh=args.fresh))
    if args.corpus:
        print()
        print_corpus_agreement(args.corpus)


def print_agreement(rows: list[tuple[str, float, float, float]]) -> None:
    print(f"{'run':<46}{'top-10':>8}{'top-1':>8}{'ms':>7}")
    for name, share, top1, ms in rows:
        print(f"{name:<46}{share:>8.1%}{top1:>8.1%}{ms:>7.1f}")


def print_corpus_agreement(papers: int) -> None:
    rows, drawn, embedded = corpus_agreement(papers)
    load = os.getloadavg()
    print(
        f"similar papers on the corpus store ({embedded:,} papers with real vectors; "
        f"{drawn:,} drawn with seed {CORPUS_SEED}): same primary category; "
        f"load average {load[0]:.1f}"
    )
    print_agreement(rows)


if __name__ == "__main__":
    main()
