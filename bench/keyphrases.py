"""Keyphrase quality: paperfeed's keyphrases, TF-IDF and YAKE against CACM author keywords.

The 1,429 CACM papers with author keywords are the ground truth; every method sees only the
title and abstract (the keywords are never an input). For each method, precision@5 and
recall@5 of three kinds of match between a predicted phrase and an author keyword:

- exact: the same words, case aside;
- stemmed: the same Snowball (Porter 2) stems, in order ("search trees" = "search tree");
- partial: the stems of one are all among the stems of the other ("binary tree" ~ "tree").

and the share of redundant pairs among a paper's five (one's stems all in the other's).

Run with `.venv/bin/python bench/keyphrases.py`. The embedder's vectors (documents and candidate
phrases) are cached in /tmp/paperfeed-keyphrase-bench.npz, so only the first run embeds; the
overhead on the embed path is measured on `--overhead` papers every run.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import snowballstemmer
import yake
from sklearn.feature_extraction.text import TfidfVectorizer

from paperfeed.search.embedder import embedding_text
from paperfeed.search.indexer import text_hash
from paperfeed.search.keyphrases import (
    DIVERSITY,
    FREQUENCY,
    MAX_CANDIDATES,
    candidate_counts,
    keyphrases,
)
from paperfeed.search.onnx_embedder import OnnxEmbedder

CACM = Path(__file__).resolve().parents[2] / "shared/data/cacm/docs.jsonl.gz"
CACHE = Path("/tmp/paperfeed-keyphrase-bench.npz")
MODELS = Path(__file__).resolve().parents[1] / "data/models"
K = 5
# The first DEV papers (in id order) were looked at while choosing the boundary words and
# parameters; the rest is reported separately as held out.
DEV = 300

_stem = snowballstemmer.stemmer("english").stemWord
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'+][a-z0-9]+)*")


@functools.cache
def words(phrase: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(phrase.lower()))


@functools.cache
def stems(phrase: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in words(phrase))


def match(kind: str, pred: str, gold: str) -> bool:
    if kind == "exact":
        return words(pred) == words(gold)
    a, b = stems(pred), stems(gold)
    if kind == "stemmed":
        return a == b
    return bool(a) and bool(b) and (set(a) <= set(b) or set(b) <= set(a))


KINDS = ("exact", "stemmed", "partial")


def scores(preds: Sequence[Sequence[str]], golds: Sequence[Sequence[str]]) -> list[float]:
    """Mean P@5 and R@5 for each kind of match, in KINDS order."""
    out = []
    for kind in KINDS:
        precision = recall = 0.0
        for pred, gold in zip(preds, golds, strict=True):
            pred = list(pred)[:K]
            hits = sum(any(match(kind, p, g) for g in gold) for p in pred)
            found = sum(any(match(kind, p, g) for p in pred) for g in gold)
            precision += hits / K
            recall += found / len(gold)
        out += [precision / len(preds), recall / len(preds)]
    return out


class CachedEmbedder:
    """The shipped int8 embedder with every text's vector kept in CACHE between runs."""

    def __init__(self) -> None:
        self.inner = OnnxEmbedder(cache_dir=MODELS)
        self.vectors: dict[str, np.ndarray] = {}
        if CACHE.exists():
            with np.load(CACHE, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.dirty = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_hash(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if missing:
            vectors = self.inner.embed(list(missing.values()))
            self.vectors.update(zip(missing, vectors, strict=True))
            self.dirty = True
        return np.stack([self.vectors[k] for k in keys])

    def save(self) -> None:
        if self.dirty:
            keys = list(self.vectors)
            np.savez(CACHE, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))


def load() -> tuple[list[dict[str, str]], list[str]]:
    """All CACM docs (as TF-IDF's corpus) and the texts of those with keywords."""
    with gzip.open(CACM, "rt") as f:
        docs = [json.loads(line) for line in f]
    return docs, [embedding_text(title=d["title"], abstract=d["abstract"] or "") for d in docs]


def paperfeed_method(
    embedder: CachedEmbedder, texts: Sequence[str], **options: float
) -> list[list[str]]:
    """search/keyphrases.py as the embed path runs it (`options` override its parameters)."""
    found = keyphrases(embedder, texts, embedder.embed(texts), **options)  # type: ignore[arg-type]
    return [[k.phrase for k in phrases] for phrases in found]


def tfidf_ours(all_texts: Sequence[str], texts: Sequence[str]) -> list[list[str]]:
    """TF-IDF over paperfeed's own candidates (all of them), IDF from all 3,204 CACM docs."""
    df: Counter[str] = Counter()
    for text in all_texts:
        df.update(candidate_counts(text).keys())
    n = len(all_texts)
    out = []
    for text in texts:
        counts = candidate_counts(text)
        ranked = sorted(counts, key=lambda p: -counts[p][0] * np.log(n / df[p]))
        out.append([counts[p][2] for p in ranked[:K]])
    return out


def tfidf_sklearn(all_texts: Sequence[str], texts: Sequence[str]) -> list[list[str]]:
    """scikit-learn's TfidfVectorizer, 1- to 3-grams, English stop words, fit on all docs."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 3), stop_words="english", sublinear_tf=True)
    vectorizer.fit(all_texts)
    names = vectorizer.get_feature_names_out()
    matrix = vectorizer.transform(texts)
    out = []
    for i in range(matrix.shape[0]):
        row = matrix.getrow(i)
        order = np.argsort(-row.data)[:K]
        out.append([str(names[row.indices[j]]) for j in order])
    return out


def yake_method(texts: Sequence[str]) -> list[list[str]]:
    extractor = yake.KeywordExtractor(lan="en", n=3, top=K)
    # YAKE scores are lower-is-better; extract_keywords returns them best first.
    return [[phrase for phrase, _ in extractor.extract_keywords(text)] for text in texts]


def overhead(texts: Sequence[str]) -> str:
    """Time the embed path with and without keyphrases on a fresh embedder (no cache)."""
    embedder = OnnxEmbedder(cache_dir=MODELS)
    embedder.embed(["warm up"])
    start = time.perf_counter()
    vectors = embedder.embed(list(texts))
    base = time.perf_counter() - start
    start = time.perf_counter()
    keyphrases(embedder, texts, vectors)
    extra = time.perf_counter() - start
    return (
        f"overhead on {len(texts)} papers with abstracts: embedding {base:.1f} s, keyphrases "
        f"{extra:.1f} s more (+{extra / base:.0%}; at most {MAX_CANDIDATES} candidates each)"
    )


def redundant(preds: Sequence[Sequence[str]]) -> float:
    """The share of pairs among a paper's phrases where one's stems are all in the other's."""
    pairs = hits = 0
    for pred in preds:
        for a, b in itertools.combinations(list(pred)[:K], 2):
            sa, sb = set(stems(a)), set(stems(b))
            pairs += 1
            hits += sa <= sb or sb <= sa
    return hits / max(pairs, 1)


def table(rows: list[tuple[str, list[float]]], title: str) -> str:
    head = "| method | " + " | ".join(f"P@5 {k} | R@5 {k}" for k in KINDS) + " | redundant |"
    lines = [title, "", head, "|" + " --- |" * (2 + 2 * len(KINDS))]
    for name, values in rows:
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead", type=int, default=100, help="papers timed (0: skip)")
    args = parser.parse_args()
    docs, all_texts = load()
    keep = [i for i, d in enumerate(docs) if d["keywords"]]
    texts = [all_texts[i] for i in keep]
    golds = [[k.strip() for k in docs[i]["keywords"].split(",") if k.strip()] for i in keep]
    embedder = CachedEmbedder()
    start = time.perf_counter()
    methods: list[tuple[str, Callable[[], list[list[str]]]]] = [
        (
            f"paperfeed (MMR {DIVERSITY}, frequency {FREQUENCY})",
            lambda: paperfeed_method(embedder, texts),
        ),
        (
            "paperfeed, cosine only (no MMR, no frequency)",
            lambda: paperfeed_method(embedder, texts, diversity=0.0, frequency=0.0),
        ),
        (
            "paperfeed, KeyBERT's MMR 0.5, no frequency",
            lambda: paperfeed_method(embedder, texts, diversity=0.5, frequency=0.0),
        ),
        ("TF-IDF on paperfeed's candidates", lambda: tfidf_ours(all_texts, texts)),
        ("TF-IDF 1-3-grams (scikit-learn)", lambda: tfidf_sklearn(all_texts, texts)),
        ("YAKE 0.7 (n=3)", lambda: yake_method(texts)),
    ]
    results = []
    for name, run in methods:
        t = time.perf_counter()
        results.append((name, run(), time.perf_counter() - t))
    embedder.save()
    n = len(texts)
    print(
        table(
            [(name, [*scores(p, golds), redundant(p)]) for name, p, _ in results],
            f"All {n:,} CACM papers with author keywords:",
        )
    )
    print()
    print(
        table(
            [(name, [*scores(p[DEV:], golds[DEV:]), redundant(p[DEV:])]) for name, p, _ in results],
            f"Held out (the {n - DEV:,} after the first {DEV}):",
        )
    )
    print()
    print(
        "seconds: " + ", ".join(f"{name} {s:.1f}" for name, _, s in results),
        f"(total {time.perf_counter() - start:.0f})",
    )
    if args.overhead:
        abstracts = [all_texts[i] for i in keep if docs[i]["abstract"]][: args.overhead]
        print(overhead(abstracts))


if __name__ == "__main__":
    main()
