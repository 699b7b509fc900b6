"""Keyphrases of a paper, computed locally with the search embedder (KeyBERT-style).

Candidates are the word runs of the title and abstract between stop words and punctuation, and
their sub-phrases of one to three words (no part-of-speech model). Each candidate is embedded
with the same model as the papers, scored by cosine similarity to the paper's own vector, and
five are picked by maximal marginal relevance (MMR), so that no two say the same thing. A
phrase the text repeats scores a little higher (`FREQUENCY`).
Measured against the CACM author keywords in bench/keyphrases.py (docs/search.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paperfeed.search.embedder import Embedder
from paperfeed.search.stop_words import REQUEST_WORDS, STOP_WORDS

# Bump when candidates or scoring change: stored keyphrases of another version are recomputed.
KEYPHRASE_VERSION = 1
TOP_N = 5
MAX_WORDS = 3
# At most this many candidates per paper are embedded (see `candidates` for which):
# it bounds the cost of a long abstract (bench/keyphrases.py measures the overhead).
MAX_CANDIDATES = 48
# MMR trade-off: 0 ranks by score alone, 1 by novelty alone. On the CACM bench 0.4 halves the
# redundant pairs of 0.2 for a little less precision; KeyBERT's usual 0.5 costs more.
DIVERSITY = 0.4
# A phrase's score: its cosine to the paper's vector + FREQUENCY × ln(occurrences in the text).
FREQUENCY = 0.3

# The words every abstract uses to talk about itself.
_ABSTRACT_WORDS = """also approach approaches based show shows shown present presents presented
    propose proposes proposed new novel method methods result results using use used uses given
    well may might however thus one two three several many much often various different first
    second certain possible simple general known upon within via among paper papers work study
    studies problem problems consider considered discuss discussed give gives obtained obtain
    make makes made way ways number numbers et al etc"""
# A phrase is a run of other words: these, like punctuation, end it.
_BOUNDARY = STOP_WORDS | REQUEST_WORDS | frozenset(_ABSTRACT_WORDS.split())
# A word: a letter, then letters and digits, hyphenated or with an apostrophe (k-d, O'Brien),
# maybe ending in plus signs (C++). Underscores split words (TeX subscripts, identifiers).
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['-][^\W_]+)*\+*")
# TeX is no phrase: inline math and commands are cut out like punctuation.
_TEX = re.compile(r"\$[^$]*\$|\\[A-Za-z]+")
# A phrase never spans these: sentence and clause punctuation, brackets, quotes, slashes.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”/|<>=]+|\s[-–—]+\s")


@dataclass(frozen=True, slots=True)
class Keyphrase:
    phrase: str
    score: float


def _surface(word: str) -> str:
    """How a word is shown: acronyms and mixed case (LISP, BERT, iOS, LLMs-based) kept, others
    lowercased (Task-Specific too)."""
    parts = word.split("-")
    return word if any(c.isupper() for part in parts for c in part[1:]) else word.lower()


def candidate_counts(text: str) -> dict[str, tuple[int, int, str]]:
    """Every candidate phrase of `text`, lowercased: (occurrences, first position, as shown)."""
    seen: dict[str, tuple[int, int, str]] = {}
    position = 0
    for chunk in _BREAK.split(_TEX.sub(".", text)):
        words = _WORD.findall(chunk)
        run: list[str] = []
        for word in [*words, ""]:
            if word and word.lower() not in _BOUNDARY and len(word) > 1:
                run.append(word)
                continue
            for start in range(len(run)):
                for size in range(1, min(MAX_WORDS, len(run) - start) + 1):
                    gram = run[start : start + size]
                    key = " ".join(w.lower() for w in gram)
                    count, first, shown = seen.get(key, (0, position, ""))
                    seen[key] = (count + 1, first, shown or " ".join(_surface(w) for w in gram))
                position += 1
            run = []
    return seen


def candidates(
    text: str,
    *,
    limit: int = MAX_CANDIDATES,
    counts: dict[str, tuple[int, int, str]] | None = None,
) -> list[str]:
    """The candidate phrases of `text`, at most `limit`: those with the most words in all their
    occurrences first (a phrase of three words once before a word used twice), then earliest."""
    if counts is None:
        counts = candidate_counts(text)
    ranked = sorted(
        counts, key=lambda key: (-counts[key][0] * (key.count(" ") + 1), counts[key][1])
    )
    return [counts[key][2] for key in ranked[:limit]]


def mmr(
    doc: np.ndarray,
    phrases: Sequence[str],
    vectors: np.ndarray,
    *,
    top_n: int = TOP_N,
    diversity: float = DIVERSITY,
    boost: np.ndarray | None = None,
) -> list[Keyphrase]:
    """Pick `top_n` phrases by maximal marginal relevance to `doc` (unit vectors); `boost` is
    added to each phrase's cosine to `doc`."""
    if not phrases:
        return []
    relevance = vectors @ doc
    if boost is not None:
        relevance = relevance + boost
    pairwise = vectors @ vectors.T
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(top_n, len(phrases)):
        redundancy = pairwise[:, picked].max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[picked] = -np.inf
        picked.append(int(np.argmax(score)))
    return [Keyphrase(phrases[i], round(float(relevance[i]), 4)) for i in picked]


def keyphrases(
    embedder: Embedder,
    texts: Sequence[str],
    doc_vectors: np.ndarray,
    *,
    top_n: int = TOP_N,
    diversity: float = DIVERSITY,
    frequency: float = FREQUENCY,
) -> list[list[Keyphrase]]:
    """The keyphrases of each text, scored against its own vector (one row per text).

    The candidates of all texts go to the embedder in one call, each distinct phrase once.
    """
    per_text = [candidate_counts(text) for text in texts]
    shown = [candidates(text, counts=counts) for text, counts in zip(texts, per_text, strict=True)]
    unique = list(dict.fromkeys(p.lower() for phrases in shown for p in phrases))
    row = {phrase: i for i, phrase in enumerate(unique)}
    vectors = embedder.embed(unique) if unique else np.zeros((0, 0), dtype=np.float32)
    found = []
    for phrases, counts, doc in zip(shown, per_text, doc_vectors, strict=True):
        keys = [p.lower() for p in phrases]
        boost = frequency * np.log([float(counts[k][0]) for k in keys])
        found.append(
            mmr(
                doc,
                phrases,
                vectors[[row[k] for k in keys]],
                top_n=top_n,
                diversity=diversity,
                boost=boost,
            )
        )
    return found
