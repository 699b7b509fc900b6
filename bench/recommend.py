"""For you, offline: precision@10 and recall@20 of paperfeed's reader model against three
baselines computed in the same run, and the time to rank 10,000 readers over one day's papers.

Citation readers (CACM, `../shared/data/cacm/`): each paper with at least `--min-refs` direct
references (`x_links.tsv.gz` type 4, the linked paper no newer than the citing one) is a reader;
a seeded half of its references is the reader's library, the other half what the reader should
be shown. The candidates are every paper no newer than the citing one, less the citing paper and
the library.

Baselines: newest first; cosine to the library's centroid (zotero-arxiv-daily's method, and the
old digest `CentroidPicks`); a TF-IDF linear SVM (arxiv-sanity-lite's: word 1-2 grams,
`LinearSVC(class_weight="balanced", C=0.01)`, the library against every candidate).
paperfeed runs the same batched model `recommend()` ranks with (`recommend.model`).

Vectors are the packaged all-MiniLM-L6-v2 over title + abstract, cached under /tmp (embedding
the 3,204 CACM papers takes a few CPU minutes). scikit-learn is only needed for the SVM baseline.

    .venv/bin/python bench/recommend.py [--timing-only] [--readers 10000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import paperfeed.data
from paperfeed.recommend.model import Reader, make_pool, rank_readers, unit_rows
from paperfeed.search.embedder import default_embedder, embedding_text

CACM = Path(__file__).resolve().parents[2] / "shared/data/cacm"
SAMPLE = Path(paperfeed.data.__file__).parent / "arxiv_daily_sample.jsonl.gz"
SAMPLE_VECTORS = Path(paperfeed.data.__file__).parent / "sample_vectors.npz"
CACHE = Path("/tmp/paperfeed-bench-recommend")


def cacm_papers() -> list[dict[str, str]]:
    with gzip.open(CACM / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def cacm_vectors(papers: list[dict[str, str]]) -> np.ndarray:
    """MiniLM vectors of the CACM papers, embedded once and cached under /tmp."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / "cacm-minilm.npy"
    if path.exists():
        return np.load(path)
    embedder = default_embedder(cache_dir=CACHE / "models")
    texts = [embedding_text(title=p["title"], abstract=p["abstract"] or "") for p in papers]
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    print(
        f"embedded {len(texts):,} CACM papers in {time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    np.save(path, vectors)
    return vectors


def citation_readers(
    papers: list[dict[str, str]], *, min_refs: int, seed: int = 13
) -> list[tuple[int, list[int], set[int], list[int]]]:
    """(citing row, library rows, relevant rows, candidate rows) per reader."""
    row = {p["id"]: i for i, p in enumerate(papers)}
    date = [p["date"] or "" for p in papers]
    refs: dict[int, set[int]] = defaultdict(set)
    with gzip.open(CACM / "x_links.tsv.gz", "rt") as f:
        next(f)
        for line in f:
            a, kind, b = line.split()
            if kind != "4" or a == b or a not in row or b not in row:
                continue
            ra, rb = row[a], row[b]
            if date[rb] <= date[ra]:  # a link is symmetric here: the older paper is the cited
                refs[ra].add(rb)
    rng = random.Random(seed)
    readers = []
    for citing in sorted(refs):
        cited = sorted(refs[citing])
        if len(cited) < min_refs:
            continue
        rng.shuffle(cited)
        half = len(cited) // 2
        library, relevant = cited[:half], set(cited[half:])
        skip = {citing, *library}
        candidates = [i for i in range(len(papers)) if date[i] <= date[citing] and i not in skip]
        readers.append((citing, library, relevant, candidates))
    return readers


def evaluate(
    readers: list[tuple[list[int], set[int], list[int]]],
    vectors: np.ndarray,
    texts: list[str],
    newest_key: list[tuple[str, str]],
) -> tuple[dict[str, list[tuple[float, float]]], dict[str, float]]:
    """Rank each reader's candidates with the four methods; (library, relevant, candidates)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC
    except ImportError:  # the SVM baseline needs scikit-learn
        TfidfVectorizer = LinearSVC = None  # type: ignore[assignment,misc]
    tfidf = (
        TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
        ).fit_transform(texts)
        if TfidfVectorizer is not None
        else None
    )
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    for library, relevant, candidates in readers:
        cand = np.array(candidates)

        start = time.perf_counter()
        newest = sorted(candidates, key=lambda i: newest_key[i], reverse=True)
        scores["newest first"].append(metrics(newest, relevant))
        seconds["newest first"] += time.perf_counter() - start

        start = time.perf_counter()
        centroid = vectors[library].mean(axis=0)
        order = cand[np.argsort(-(vectors[cand] @ centroid), kind="stable")]
        scores["cosine to library centroid"].append(metrics(order.tolist(), relevant))
        seconds["cosine to library centroid"] += time.perf_counter() - start

        if tfidf is not None and LinearSVC is not None:
            start = time.perf_counter()
            x = tfidf[np.concatenate([cand, library])]
            y = np.r_[np.zeros(len(cand)), np.ones(len(library))]
            clf = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, tol=1e-6)
            clf.fit(x, y)
            order = cand[np.argsort(-clf.decision_function(tfidf[cand]), kind="stable")]
            scores["TF-IDF linear SVM"].append(metrics(order.tolist(), relevant))
            seconds["TF-IDF linear SVM"] += time.perf_counter() - start

        start = time.perf_counter()
        pool = make_pool([str(i) for i in candidates], vectors[cand])
        reader = Reader(
            vectors[library],
            np.ones(len(library), dtype=np.float32),
            np.zeros((0, vectors.shape[1]), dtype=np.float32),
            np.zeros(0, dtype=np.int64),
        )
        [ranked] = rank_readers(pool, [reader], limit=20)
        scores["paperfeed"].append(metrics(cand[ranked.rows].tolist(), relevant))
        seconds["paperfeed"] += time.perf_counter() - start
    return scores, seconds


def print_table(
    title: str, scores: dict[str, list[tuple[float, float]]], seconds: dict[str, float]
) -> None:
    count = len(scores["paperfeed"])
    best = max(
        (np.mean([r for _, r in rows]) for name, rows in scores.items() if name != "paperfeed"),
        default=0.0,
    )
    print(f"\n{title}\n")
    print(f"{'method':<28} {'P@10':>7} {'R@20':>7} {'R@20 / best baseline':>21} {'ms/reader':>10}")
    for name in ("newest first", "cosine to library centroid", "TF-IDF linear SVM", "paperfeed"):
        if name not in scores:
            print(f"{name:<28} {'(scikit-learn missing)':>37}")
            continue
        p10 = float(np.mean([p for p, _ in scores[name]]))
        r20 = float(np.mean([r for _, r in scores[name]]))
        ratio = r20 / best if best else float("nan")
        ms = 1000 * seconds[name] / max(1, count)
        print(f"{name:<28} {p10:7.3f} {r20:7.3f} {ratio:21.2f} {ms:10.1f}")


def metrics(ranked: list[int], relevant: set[int]) -> tuple[float, float]:
    hits10 = sum(1 for r in ranked[:10] if r in relevant)
    hits20 = sum(1 for r in ranked[:20] if r in relevant)
    return hits10 / 10, hits20 / len(relevant)


def run_cacm(min_refs: int) -> None:
    papers = cacm_papers()
    vectors = unit_rows(cacm_vectors(papers))
    readers = citation_readers(papers, min_refs=min_refs)
    texts = [" ".join(filter(None, [p["title"], p["abstract"], p.get("keywords")])) for p in papers]
    newest = [(p["date"] or "", p["id"].zfill(6)) for p in papers]
    scores, seconds = evaluate([r[1:] for r in readers], vectors, texts, newest)
    print_table(
        f"CACM citation readers: {len(readers)} papers citing >= {min_refs} others "
        "(library = half the references, relevant = the other half)",
        scores,
        seconds,
    )


def run_topics(per_pair: int = 5, seed: int = 17) -> None:
    """Topic readers on the bundled sample (2,027 arXiv papers of 16-20 March 2026, with their
    shipped MiniLM vectors): a reader upvoted 10 papers of a category pair in the first three
    days and is shown the last two days' papers; relevant = those listed in both categories."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        papers = [json.loads(line) for line in f]
    with np.load(SAMPLE_VECTORS) as data:
        row_of = {str(pid): i for i, pid in enumerate(data["ids"])}
        stored = data["vectors"].astype(np.float32)
    vectors = unit_rows(stored[[row_of[p["id"]] for p in papers]])
    days = [(p["first_seen"] or "")[:10] for p in papers]
    cut = "2026-03-19"
    history = [i for i, d in enumerate(days) if d < cut]
    target = [i for i, d in enumerate(days) if d >= cut]
    cats = [set(p["categories"] or ()) for p in papers]
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for i in history:
        listed = sorted(cats[i])
        for a in range(len(listed)):
            for b in range(a + 1, len(listed)):
                pairs[(listed[a], listed[b])] += 1
    rng = random.Random(seed)
    readers = []
    for (a, b), count in sorted(pairs.items()):
        relevant = {i for i in target if a in cats[i] and b in cats[i]}
        if count < 15 or len(relevant) < 5:
            continue
        pool = [i for i in history if a in cats[i] and b in cats[i]]
        for _ in range(per_pair):
            readers.append((rng.sample(pool, 10), relevant, target))
    texts = [f"{p['title']} {p['abstract']}" for p in papers]
    newest = [(days[i], p["id"]) for i, p in enumerate(papers)]
    scores, seconds = evaluate(readers, vectors, texts, newest)
    print_table(
        f"Topic readers (bundled sample): {len(readers)} readers, {per_pair} per category pair "
        f"with >= 15 papers in the first 3 days and >= 5 in the last 2; {len(target)} candidates",
        scores,
        seconds,
    )


def run_timing(n_readers: int, n_papers: int = 800, signals: int = 10, seed: int = 3) -> None:
    """Rank `n_readers` readers over one day's `n_papers` papers (one shared pool)."""
    rng = np.random.default_rng(seed)
    dim = 384
    centres = unit_rows(rng.normal(size=(60, dim)))
    day = unit_rows(
        centres[rng.integers(0, 60, n_papers)] + rng.normal(size=(n_papers, dim)) * 0.04
    )
    history = unit_rows(
        centres[rng.integers(0, 60, 20_000)] + rng.normal(size=(20_000, dim)) * 0.04
    )
    readers = []
    for _ in range(n_readers):
        rows = rng.choice(len(history), signals, replace=False)
        readers.append(
            Reader(
                history[rows],
                np.ones(signals, dtype=np.float32),
                history[rng.choice(len(history), 1)],
                np.zeros(0, dtype=np.int64),
            )
        )
    start = time.perf_counter()
    cpu = time.process_time()
    pool = make_pool([str(i) for i in range(n_papers)], day)
    ranked = rank_readers(pool, readers, limit=20)
    wall = time.perf_counter() - start
    assert len(ranked) == n_readers and all(len(r.rows) == 20 for r in ranked)
    used = time.process_time() - cpu
    print(
        f"\nTiming: {n_readers:,} readers x {n_papers} papers ({signals} upvotes + 1 not "
        f"interested each), top 20 with MMR: {wall:.2f} s wall, {used:.2f} s CPU, "
        f"{1e6 * wall / n_readers:.0f} us/reader (BLAS threads: "
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')})"
    )
    one = Reader(
        unit_rows(history[:500]),
        np.ones(500, dtype=np.float32),
        history[500:520],
        np.zeros(0, dtype=np.int64),
    )
    start = time.perf_counter()
    for _ in range(10):
        rank_readers(pool, [one], limit=20)
    each_ms = 100 * (time.perf_counter() - start)
    print(f"One reader with 500 upvotes + 20 not interested: {each_ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-refs", type=int, default=8)
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--timing-only", action="store_true")
    args = parser.parse_args()
    if not args.timing_only:
        run_cacm(args.min_refs)
        run_topics()
    run_timing(args.readers)


if __name__ == "__main__":
    main()
