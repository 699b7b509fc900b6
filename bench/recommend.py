"""For you, offline: precision@10 and recall@20 of paperfeed's reader model against three
baselines computed in the same run, and the time to rank 10,000 readers over one day's papers.

Citation readers (CACM, `../shared/data/cacm/`): each paper with at least `--min-refs` direct
references (`x_links.tsv.gz` type 4, the linked paper no newer than the citing one) is a reader;
a seeded half of its references is the reader's library, the other half what the reader should
be shown. The candidates are every paper no newer than the citing one, less the citing paper and
the library. Topic readers: on the 94,905-paper corpus (a seeded subset of its weeks, see
`corpus_topic_readers`) and on the bundled sample, 10 upvotes of a category pair, relevant = the
later papers listed in both categories. Each set is split into a tuning and a held-out half by a
hash of the reader's id (`held_out`); the table shows both and the whole.

One draw of readers is noisy (a reader set's ratio to the SVM moves by several points from one
split of the references to the next), so `--draws N` also draws the CACM and corpus readers
anew N times (CACM: the same citing papers, their references split with seeds 1..N; corpus:
the same windows, new pairs and upvotes) and prints paperfeed's recall@20 against the SVM's
per draw and pooled. A reader keeps its half in every draw (the hash of its id), so a draw's
held-out readers are never those the settings were chosen on. The corpus draws' SVM fits its
TF-IDF over the papers of all the draws asked for, so a draw's SVM figure moves by a few
thousandths with N (draw 1: 0.273 alone, 0.276 among five).

Baselines: newest first; cosine to the library's centroid (zotero-arxiv-daily's method, and the
old digest `CentroidPicks`); a TF-IDF linear SVM (arxiv-sanity-lite's: word 1-2 grams,
`LinearSVC(class_weight="balanced", C=0.01)`, the library against every candidate).
paperfeed runs the same batched model `recommend()` ranks with (`recommend.model`, its exact
terms included), and its ablations: without exact terms, without MMR, without both, without
the neighbour smoothing.

Vectors are the packaged all-MiniLM-L6-v2 over title + abstract, cached under /tmp (the 3,204
CACM papers take a few CPU minutes, the corpus's 7,966 about 25 on a loaded machine; the draws'
4,140 more upvoted papers took 96 s on an idle one).
scikit-learn is only needed for the SVM baseline.

    .venv/bin/python bench/recommend.py [--sets cacm,corpus,sample] [--draws N] [--timing-only]
        [--readers N]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import paperfeed.data
from paperfeed.recommend import model
from paperfeed.recommend.model import Pool, Reader, make_pool, rank_readers, unit_rows
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


CORPUS = Path(__file__).resolve().parents[2] / "shared/data/arxiv_daily/arxiv_daily.jsonl.gz"
CORPUS_MOST = 8_000  # papers embedded for the corpus's topic readers (windows drawn until this)


def _pairs(categories: list[tuple[str, ...]], rows: list[int]) -> dict[tuple[str, str], list[int]]:
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in rows:
        listed = sorted(set(categories[i]))
        for a in range(len(listed)):
            for b in range(a + 1, len(listed)):
                pairs[(listed[a], listed[b])].append(i)
    return pairs


def _corpus() -> tuple[list[dict[str, object]], dict[str, list[int]], list[tuple[str, ...]]]:
    """The corpus's papers, their rows by first-seen day, and their categories."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        everything = [json.loads(line) for line in f]
    by_day: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(everything):
        by_day[(p["first_seen"] or "")[:10]].append(i)
    return everything, by_day, [tuple(p["categories"] or ()) for p in everything]


Pairs = dict[tuple[str, str], list[int]]  # a category pair's rows
Window = tuple[Pairs, Pairs, list[int], int]


def _window(
    by_day: dict[str, list[int]], categories: list[tuple[str, ...]], monday: dt.date
) -> Window:
    """A window's pairs in its two weeks and in its third, the third week's rows, and how many
    papers the two weeks hold."""
    history = [i for k in range(14) for i in by_day[str(monday + dt.timedelta(days=k))]]
    target = [i for k in range(14, 21) for i in by_day[str(monday + dt.timedelta(days=k))]]
    return _pairs(categories, history), _pairs(categories, target), target, len(history)


def _window_readers(
    rng: random.Random,
    monday: dt.date,
    window: Window,
    *,
    pairs_per_window: int,
    per_pair: int,
) -> list[tuple[str, list[int], set[int], list[int]]]:
    """`pairs_per_window` pairs with at least 15 papers in the two weeks and 5 in the third,
    `per_pair` readers each, drawn with `rng`."""
    before, after, target, _ = window
    eligible = [
        pair for pair, rows in sorted(before.items()) if len(rows) >= 15 and len(after[pair]) >= 5
    ]
    readers = []
    for pair in rng.sample(eligible, min(pairs_per_window, len(eligible))):
        for k in range(per_pair):
            library = rng.sample(before[pair], 10)
            name = f"{monday}:{pair[0]}+{pair[1]}:{k}"
            readers.append((name, library, set(after[pair]), target))
    return readers


def corpus_topic_readers(
    *, pairs_per_window: int = 12, per_pair: int = 3, seed: int = 29, draws: tuple[int, ...] = ()
) -> tuple[
    list[dict[str, object]],
    list[tuple[str, list[int], set[int], list[int]]],
    list[str],
    dict[int, list[tuple[str, list[int], set[int], list[int]]]],
]:
    """Topic readers on the 94,905-paper corpus, on a seeded subset of its weeks.

    A window is three calendar weeks from a Monday: a reader upvoted 10 papers of a category
    pair in the first two weeks and is shown every paper of the third (relevant: those listed in
    both categories). Windows with at least 1,500 papers in the two weeks and 700 in the third
    are drawn in a seeded order and taken while the papers to embed (every third-week paper and
    the readers' upvotes) stay within `CORPUS_MOST`. In each window, `pairs_per_window` pairs
    with at least 15 papers in the two weeks and 5 in the third are drawn, `per_pair` readers
    each. Each of `draws` draws its pairs and upvotes anew in the same windows (a random
    generator seeded by the draw and the window), without the `CORPUS_MOST` limit. Returns the
    papers used, the readers (id, library rows, relevant rows, candidate rows), the windows'
    Mondays and the readers of each draw."""
    everything, by_day, categories = _corpus()
    first = dt.date.fromisoformat(min(by_day))
    last = dt.date.fromisoformat(max(by_day))
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    windows: dict[dt.date, Window] = {}
    while monday + dt.timedelta(days=20) <= last:
        window = _window(by_day, categories, monday)
        if window[3] >= 1500 and len(window[2]) >= 700:
            windows[monday] = window
        monday += dt.timedelta(days=7)
    mondays = list(windows)
    random.Random(seed).shuffle(mondays)
    used: set[int] = set()
    readers: list[tuple[str, list[int], set[int], list[int]]] = []
    taken = []
    for monday in mondays:
        window = windows[monday]
        drawn = _window_readers(
            random.Random(f"{seed}:{monday}"),
            monday,
            window,
            pairs_per_window=pairs_per_window,
            per_pair=per_pair,
        )
        needed = used | set(window[2]) | {i for r in drawn for i in r[1]}
        if len(needed) > CORPUS_MOST:
            continue
        used = needed
        readers += drawn
        taken.append(monday)
    redrawn: dict[int, list[tuple[str, list[int], set[int], list[int]]]] = {}
    for draw in draws:
        redrawn[draw] = [
            reader
            for monday in taken
            for reader in _window_readers(
                random.Random(f"{draw}:{monday}"),
                monday,
                windows[monday],
                pairs_per_window=pairs_per_window,
                per_pair=per_pair,
            )
        ]
        used |= {i for r in redrawn[draw] for i in r[1]}
    keep = sorted(used)
    new_row = {old: new for new, old in enumerate(keep)}
    papers = [everything[i] for i in keep]

    def renumbered(
        group: list[tuple[str, list[int], set[int], list[int]]],
    ) -> list[tuple[str, list[int], set[int], list[int]]]:
        return [
            (
                name,
                [new_row[i] for i in library],
                {new_row[i] for i in relevant},
                [new_row[i] for i in candidates],
            )
            for name, library, relevant, candidates in group
        ]

    return (
        papers,
        renumbered(readers),
        sorted(str(m) for m in taken),
        {draw: renumbered(group) for draw, group in redrawn.items()},
    )


def corpus_vectors(papers: list[dict[str, object]]) -> np.ndarray:
    """MiniLM vectors of these corpus papers, embedded where missing and cached under /tmp."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / "arxiv-daily-subset-minilm.npz"
    have: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            have = dict(zip(data["ids"].tolist(), data["vectors"], strict=True))
    missing = [p for p in papers if p["id"] not in have]
    if missing:
        embedder = default_embedder(cache_dir=CACHE / "models")
        texts = [
            embedding_text(title=str(p["title"]), abstract=str(p["abstract"] or ""))
            for p in missing
        ]
        start = time.perf_counter()
        for p, vector in zip(missing, embedder.embed(texts), strict=True):
            have[str(p["id"])] = vector
        print(
            f"embedded {len(texts):,} corpus papers in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        ids = sorted(have)
        np.savez(path, ids=np.array(ids), vectors=np.stack([have[i] for i in ids]))
    return np.stack([have[str(p["id"])] for p in papers]).astype(np.float32)


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


SPLIT_SEED = 13
METHODS = ("newest first", "cosine to library centroid", "TF-IDF linear SVM")
ABLATIONS = ("paperfeed", "- exact terms", "- MMR", "- exact terms - MMR", "- neighbours")


def held_out(name: str) -> bool:
    """The reader's half: tuning (False) or held-out (True), by a hash of its id and a fixed
    seed. Every setting of the model was chosen on the tuning half."""
    return hashlib.sha256(f"{SPLIT_SEED}:{name}".encode()).digest()[0] % 2 == 1


def evaluate(
    readers: list[tuple[str, list[int], set[int], list[int]]],
    vectors: np.ndarray,
    texts: list[str],
    newest_key: list[tuple[str, str]],
    *,
    ablations: bool = True,
) -> tuple[dict[str, list[tuple[bool, float, float]]], dict[str, float]]:
    """Rank each reader's candidates with the baselines and paperfeed (with its ablations, when
    `ablations`); readers are (id, library, relevant, candidates). The SVM and paperfeed read
    the same `texts`: title, abstract and keywords, as a store holds them
    (`db.papers.get_words`)."""
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
    scores: dict[str, list[tuple[bool, float, float]]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    pools: dict[tuple[int, ...], Pool] = {}
    for name, library, relevant, candidates in readers:
        cand = np.array(candidates)
        half = held_out(name)

        start = time.perf_counter()
        newest = sorted(candidates, key=lambda i: newest_key[i], reverse=True)
        scores["newest first"].append((half, *metrics(newest, relevant)))
        seconds["newest first"] += time.perf_counter() - start

        start = time.perf_counter()
        centroid = vectors[library].mean(axis=0)
        order = cand[np.argsort(-(vectors[cand] @ centroid), kind="stable")]
        scores["cosine to library centroid"].append((half, *metrics(order.tolist(), relevant)))
        seconds["cosine to library centroid"] += time.perf_counter() - start

        if tfidf is not None and LinearSVC is not None:
            start = time.perf_counter()
            x = tfidf[np.concatenate([cand, library])]
            y = np.r_[np.zeros(len(cand)), np.ones(len(library))]
            clf = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, tol=1e-6)
            clf.fit(x, y)
            order = cand[np.argsort(-clf.decision_function(tfidf[cand]), kind="stable")]
            scores["TF-IDF linear SVM"].append((half, *metrics(order.tolist(), relevant)))
            seconds["TF-IDF linear SVM"] += time.perf_counter() - start

        start = time.perf_counter()
        key = tuple(candidates)
        if key not in pools:  # the topic readers of one window share their candidates
            pools.clear()
            pools[key] = make_pool(
                [str(i) for i in candidates],
                vectors[cand],
                texts=[texts[i] for i in candidates],
            )
        pool = pools[key]
        for variant in ABLATIONS if ablations else ABLATIONS[:1]:
            words = "exact terms" not in variant
            reader = Reader(
                vectors[library],
                np.ones(len(library), dtype=np.float32),
                np.zeros((0, vectors.shape[1]), dtype=np.float32),
                np.zeros(0, dtype=np.int64),
                tuple(texts[i] for i in library) if words else (),
            )
            with (
                _turned_off("MMR_TOP", "MMR" in variant, 0),
                _turned_off("SMOOTHING", "neighbours" in variant, 0.0),
            ):
                [ranked] = rank_readers(pool, [reader], limit=20)
            scores[variant].append((half, *metrics(cand[ranked.rows].tolist(), relevant)))
            if variant == "paperfeed":
                seconds[variant] += time.perf_counter() - start
    return scores, seconds


@contextlib.contextmanager
def _turned_off(setting: str, off: bool, value: object) -> Iterator[None]:
    """Set one of the model's settings (`MMR_TOP`, `SMOOTHING`) to `value` for an ablation, when
    `off`."""
    kept = getattr(model, setting)
    setattr(model, setting, value if off else kept)
    try:
        yield
    finally:
        setattr(model, setting, kept)


def print_table(
    title: str, scores: dict[str, list[tuple[bool, float, float]]], seconds: dict[str, float]
) -> None:
    def mean(name: str, which: str, at: int) -> float:
        rows = [r for r in scores[name] if which == "all" or r[0] == (which == "held-out")]
        return float(np.mean([r[at] for r in rows])) if rows else float("nan")

    count = len(scores["paperfeed"])
    held = sum(1 for r in scores["paperfeed"] if r[0])
    best = {
        which: max((mean(n, which, 2) for n in METHODS if n in scores), default=0.0)
        for which in ("tuning", "held-out", "all")
    }
    print(f"\n{title}\n{count - held} tuning readers, {held} held-out (seed {SPLIT_SEED})\n")
    print(
        f"{'method':<28} {'P@10':>6} {'R@20 tune':>10} {'R@20 held':>10} {'R@20 all':>9} "
        f"{'/best tune':>10} {'/best held':>10} {'/best all':>9} {'ms/reader':>10}"
    )
    for name in (*METHODS, *ABLATIONS):
        if name not in scores:
            print(f"{name:<28} (scikit-learn missing)")
            continue
        r20 = {which: mean(name, which, 2) for which in ("tuning", "held-out", "all")}
        ratios = " ".join(
            f"{r20[w] / best[w] if best[w] else float('nan'):{width}.2f}"
            for w, width in (("tuning", 10), ("held-out", 10), ("all", 9))
        )
        ms = f"{1000 * seconds[name] / max(1, count):10.1f}" if name in seconds else ""
        print(
            f"{name:<28} {mean(name, 'all', 1):6.3f} {r20['tuning']:10.3f} "
            f"{r20['held-out']:10.3f} {r20['all']:9.3f} {ratios} {ms}"
        )


def metrics(ranked: list[int], relevant: set[int]) -> tuple[float, float]:
    hits10 = sum(1 for r in ranked[:10] if r in relevant)
    hits20 = sum(1 for r in ranked[:20] if r in relevant)
    return hits10 / 10, hits20 / len(relevant)


def run_cacm(min_refs: int, draws: tuple[int, ...] = ()) -> None:
    papers = cacm_papers()
    vectors = unit_rows(cacm_vectors(papers))
    readers = citation_readers(papers, min_refs=min_refs)
    texts = [" ".join(filter(None, [p["title"], p["abstract"], p.get("keywords")])) for p in papers]
    newest = [(p["date"] or "", p["id"].zfill(6)) for p in papers]
    named = [(papers[r[0]]["id"], *r[1:]) for r in readers]
    scores, seconds = evaluate(named, vectors, texts, newest)
    print_table(
        f"CACM citation readers: {len(readers)} papers citing >= {min_refs} others "
        "(library = half the references, relevant = the other half)",
        scores,
        seconds,
    )
    if draws:
        drawn = {}
        for draw in draws:
            split = citation_readers(papers, min_refs=min_refs, seed=draw)
            named = [(papers[r[0]]["id"], *r[1:]) for r in split]
            drawn[draw] = evaluate(named, vectors, texts, newest, ablations=False)[0]
        print_draws(
            "CACM citation readers, the references split anew (seed = draw); a citing paper "
            "stays in its half",
            drawn,
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
        for k in range(per_pair):
            readers.append((f"{a}+{b}:{k}", rng.sample(pool, 10), relevant, target))
    texts = [f"{p['title']} {p['abstract']}" for p in papers]
    newest = [(days[i], p["id"]) for i, p in enumerate(papers)]
    scores, seconds = evaluate(readers, vectors, texts, newest)
    print_table(
        f"Topic readers (bundled sample): {len(readers)} readers, {per_pair} per category pair "
        f"with >= 15 papers in the first 3 days and >= 5 in the last 2; {len(target)} candidates",
        scores,
        seconds,
    )


def run_corpus_topics(draws: tuple[int, ...] = ()) -> None:
    """Topic readers on the 94,905-paper corpus (`corpus_topic_readers`: a seeded subset of its
    weeks, the papers they need embedded once and cached under /tmp)."""
    papers, readers, mondays, _ = corpus_topic_readers()
    vectors = unit_rows(corpus_vectors(papers))
    texts = [f"{p['title']} {p['abstract']}" for p in papers]
    newest = [(str(p["first_seen"] or "")[:10], str(p["id"])) for p in papers]
    scores, seconds = evaluate(readers, vectors, texts, newest)
    candidates = sorted({len(r[3]) for r in readers})
    print_table(
        f"Topic readers (94,905-paper corpus): {len(readers)} readers in {len(mondays)} windows "
        f"of 3 weeks from {', '.join(mondays)} ({len(papers):,} papers embedded); "
        f"{candidates[0]}-{candidates[-1]} candidates (the third week)",
        scores,
        seconds,
    )
    if draws:
        papers, _, _, redrawn = corpus_topic_readers(draws=draws)
        vectors = unit_rows(corpus_vectors(papers))
        texts = [f"{p['title']} {p['abstract']}" for p in papers]
        newest = [(str(p["first_seen"] or "")[:10], str(p["id"])) for p in papers]
        print_draws(
            "Topic readers (corpus), pairs and upvotes drawn anew in the same windows "
            f"({len(papers):,} papers embedded)",
            {
                draw: evaluate(group, vectors, texts, newest, ablations=False)[0]
                for draw, group in redrawn.items()
            },
        )


def print_draws(title: str, drawn: dict[int, dict[str, list[tuple[bool, float, float]]]]) -> None:
    """Recall@20 of paperfeed and the TF-IDF SVM per draw and pooled over the draws' readers,
    with paperfeed's ratio to the SVM on each half."""
    print(f"\n{title}\n")
    print(
        f"{'draw':<8} {'readers':>8} {'R@20 SVM':>9} {'R@20 pf':>8} "
        f"{'/SVM tune':>10} {'/SVM held':>10} {'/SVM all':>9}"
    )
    rows = {str(draw): scores for draw, scores in drawn.items()}
    rows["pooled"] = {
        name: [r for scores in drawn.values() for r in scores[name]]
        for name in ("paperfeed", "TF-IDF linear SVM")
    }
    for label, scores in rows.items():
        if "TF-IDF linear SVM" not in scores:
            print(f"{label:<8} (scikit-learn missing)")
            continue
        pf = np.array([r[2] for r in scores["paperfeed"]])
        svm = np.array([r[2] for r in scores["TF-IDF linear SVM"]])
        held = np.array([r[0] for r in scores["paperfeed"]])
        ratios = [
            float(pf[mask].mean() / svm[mask].mean()) if mask.any() else float("nan")
            for mask in (~held, held, np.ones_like(held))
        ]
        print(
            f"{label:<8} {len(pf):8d} {svm.mean():9.3f} {pf.mean():8.3f} "
            f"{ratios[0]:10.2f} {ratios[1]:10.2f} {ratios[2]:9.2f}"
        )


def _synthetic_texts(rng: np.random.Generator, labels: np.ndarray) -> list[str]:
    """Abstract-like texts: 40 words of the paper's topic (30 words each) and 100 drawn with a
    Zipf-like skew from 5,000 general words."""
    general = 1.0 / np.arange(1, 5001)
    general /= general.sum()
    texts = []
    for label in labels:
        own = [f"t{label}w{j}" for j in rng.integers(0, 30, 40)]
        shared = [f"w{j}" for j in rng.choice(5000, 100, p=general)]
        texts.append(" ".join(own + shared))
    return texts


def run_timing(n_readers: int, n_papers: int = 800, signals: int = 10, seed: int = 3) -> None:
    """Rank `n_readers` readers over one day's `n_papers` papers (one shared pool), each paper
    with a vector and a text of 140 words."""
    rng = np.random.default_rng(seed)
    dim = 384
    centres = unit_rows(rng.normal(size=(60, dim)))
    day_labels = rng.integers(0, 60, n_papers)
    day = unit_rows(centres[day_labels] + rng.normal(size=(n_papers, dim)) * 0.04)
    history_labels = rng.integers(0, 60, 20_000)
    history = unit_rows(centres[history_labels] + rng.normal(size=(20_000, dim)) * 0.04)
    day_texts = _synthetic_texts(rng, day_labels)
    history_texts = _synthetic_texts(rng, history_labels)
    readers = []
    for _ in range(n_readers):
        rows = rng.choice(len(history), signals, replace=False)
        readers.append(
            Reader(
                history[rows],
                np.ones(signals, dtype=np.float32),
                history[rng.choice(len(history), 1)],
                np.zeros(0, dtype=np.int64),
                tuple(history_texts[i] for i in rows),
            )
        )
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    start = time.perf_counter()
    cpu = time.process_time()
    pool = make_pool([str(i) for i in range(n_papers)], day, texts=day_texts)
    built = time.perf_counter() - start
    ranked = rank_readers(pool, readers, limit=20)
    wall = time.perf_counter() - start
    assert len(ranked) == n_readers and all(len(r.rows) == 20 for r in ranked)
    used = time.process_time() - cpu
    print(
        f"\nTiming: {n_readers:,} readers x {n_papers} papers ({signals} upvotes + 1 not "
        f"interested each, with texts), top 20 with MMR: {wall:.2f} s wall (pool {built:.2f} s), "
        f"{used:.2f} s CPU, {1e6 * wall / n_readers:.0f} us/reader "
        f"(OPENBLAS_NUM_THREADS {threads}; the model limits BLAS to {model.BLAS_THREADS})"
    )
    for cold in (True, False):
        one = Reader(
            unit_rows(history[:500]),
            np.ones(500, dtype=np.float32),
            history[500:520],
            np.zeros(0, dtype=np.int64),
            tuple(f"{t} once" if cold else t for t in history_texts[:500]),
        )
        start = time.perf_counter()
        rank_readers(pool, [one], limit=20)
        first_ms = 1000 * (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(10):
            rank_readers(pool, [one], limit=20)
        each_ms = 100 * (time.perf_counter() - start)
        print(
            f"One reader with 500 upvotes + 20 not interested: {first_ms:.1f} ms the first time "
            f"(texts {'new to' if cold else 'seen before by'} the pool), then {each_ms:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-refs", type=int, default=8)
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument(
        "--draws",
        type=int,
        default=0,
        help="also draw the CACM and corpus readers anew this many times (seeds 1..N) and print "
        "paperfeed's recall@20 against the SVM's per draw and pooled (CACM: ~1 min a draw)",
    )
    parser.add_argument(
        "--sets",
        default="cacm,corpus,sample",
        help="reader sets, comma-separated: cacm, corpus (the 94,905 papers), sample (bundled)",
    )
    args = parser.parse_args()
    if not args.timing_only:
        sets = args.sets.split(",")
        draws = tuple(range(1, args.draws + 1))
        if "cacm" in sets:
            run_cacm(args.min_refs, draws)
        if "corpus" in sets:
            run_corpus_topics(draws)
        if "sample" in sets:
            run_topics()
    run_timing(args.readers)


if __name__ == "__main__":
    main()
