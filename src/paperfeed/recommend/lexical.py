"""Exact-term evidence for the reader model: TF-IDF of a window's papers and of a reader's papers.

MiniLM vectors place papers by their gist; two papers that share a rare term (a method's name,
a dataset, an acronym) can sit far apart in that space. A `Lexicon` is the TF-IDF matrix of one
window's candidates (their words: title, abstract, keywords; words of two letters or more,
lower-cased, English stop words out, single words and adjacent pairs, sublinear term frequency,
inverse document frequency over the window). Each row is divided by the length of its terms that
two window papers or more hold, so that words no other paper uses do not dilute those that can
match, while a term that one window paper shares with a reader still counts in full. A reader's
profile is the weighted mean of their papers' rows in the same vocabulary; a candidate's lexical
score is its dot product with that profile. Pure Python tokenizing, scipy sparse products; the
rows of texts seen before are memoized per lexicon.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float32]

# Words of two characters or more with a letter among them (numbers alone are left out).
_WORD = re.compile(r"[a-z][a-z0-9]+|[0-9]+[a-z][a-z0-9]*")
MEMO_MOST = 50_000  # texts whose rows a lexicon remembers

# English function words (a short list: content words, even common ones, carry topic).
_STOP = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either else
    et etc few for from further had has have having he her here hers him his how however i if
    in into is it its itself just may me might more most much must my no nor not now of off
    on once one only or other our ours out over own per same she should since so some such
    than that the their theirs them then there these they this those through thus to too
    under until up upon us very via was we well were what when where whether which while who
    whom whose why will with within without would yet you your
"""
STOP_WORDS = frozenset(_STOP.split())
STOP = -2  # a stop word's number in `Lexicon.word_index`


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def terms(text: str) -> Counter[str]:
    """The counted terms of a text: words (stop words out) and pairs of adjacent kept words."""
    words = _words(text)
    counted = Counter(words)
    counted.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return counted


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The TF-IDF rows of a window's papers, and its vocabulary to place others."""

    width: int  # terms: the window's words (columns in their order), then its pairs (by code)
    idf: FloatArray
    shared: npt.NDArray[np.bool_]  # terms held by two window papers or more
    matrix: sparse.csr_matrix  # papers x terms
    word_index: dict[str, int]  # word -> its number among the words; stop words -> STOP
    word_columns: npt.NDArray[np.int64]  # by word number
    pair_codes: npt.NDArray[np.int64]  # first word number x words + second, sorted
    pair_columns: npt.NDArray[np.int64]  # by pair code
    memo: dict[str, tuple[npt.NDArray[np.int32], FloatArray]] = field(default_factory=dict)

    def rows(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows of `texts` in this vocabulary (terms it lacks are left out)."""
        new = [t for t in dict.fromkeys(texts) if t not in self.memo]
        fresh = dict(zip(new, self._encode(new), strict=True)) if new else {}
        if fresh:
            if len(self.memo) + len(fresh) > MEMO_MOST:
                self.memo.clear()
            self.memo.update(fresh)
        rows = []
        for text in texts:  # another thread may have emptied the memo since: encode again then
            row = fresh.get(text) or self.memo.get(text) or self._encode([text])[0]
            rows.append(row)
        indptr = np.cumsum([0] + [len(cols) for cols, _ in rows], dtype=np.int64)
        return sparse.csr_matrix(
            (
                np.concatenate([v for _, v in rows]) if rows else np.zeros(0, np.float32),
                np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int32),
                indptr,
            ),
            shape=(len(texts), self.width),
        )

    def column(self, term: str) -> int | None:
        """The column of a term (a word, or two words and a space), None if the window lacks it."""
        words = [self.word_index.get(w, -1) for w in term.split(" ")]
        if min(words) < 0:
            return None
        if len(words) == 1:
            return int(self.word_columns[words[0]])
        code = words[0] * len(self.word_columns) + words[1]
        at = int(np.searchsorted(self.pair_codes, code))
        found = at < len(self.pair_codes) and self.pair_codes[at] == code
        return int(self.pair_columns[at]) if found else None

    def _encode(self, texts: Sequence[str]) -> list[tuple[npt.NDArray[np.int32], FloatArray]]:
        """The rows of many texts at once: each word looked up once, then array work only."""
        get = self.word_index.get
        numbered = [[get(w, -1) for w in _WORD.findall(t.lower())] for t in texts]
        lengths = np.asarray([len(n) for n in numbered], dtype=np.int64)
        ids = np.fromiter(itertools.chain.from_iterable(numbered), np.int64, int(lengths.sum()))
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        kept = ids != STOP  # stop words out before pairing, as in `terms`
        return self._rows_of(ids[kept], owner[kept], len(texts))

    def _rows_of(
        self, ids: npt.NDArray[np.int64], owner: npt.NDArray[np.int64], count: int
    ) -> list[tuple[npt.NDArray[np.int32], FloatArray]]:
        """Rows from the texts' word numbers in order (-1: a word the window lacks) and the
        text each belongs to."""
        texts = range(count)
        known = ids >= 0
        cols = [self.word_columns[ids[known]]]
        owners = [owner[known]]
        if len(ids) > 1 and len(self.pair_codes):
            first, second = ids[:-1], ids[1:]
            both = (owner[:-1] == owner[1:]) & (first >= 0) & (second >= 0)
            codes = first[both] * len(self.word_columns) + second[both]
            at = np.minimum(np.searchsorted(self.pair_codes, codes), len(self.pair_codes) - 1)
            hit = self.pair_codes[at] == codes
            cols.append(self.pair_columns[at[hit]])
            owners.append(owner[:-1][both][hit])
        width = max(self.width, 1)
        keys, counts = np.unique(
            np.concatenate(owners) * width + np.concatenate(cols), return_counts=True
        )
        row_of, col = keys // width, (keys % width).astype(np.int32)
        values = (1.0 + np.log(counts.astype(np.float32))) * self.idf[col]
        square = values * values
        over_shared = np.bincount(row_of, square * self.shared[col], minlength=len(texts))
        over_all = np.bincount(row_of, square, minlength=len(texts))
        norm = np.sqrt(np.where(over_shared > 0, over_shared, over_all))
        scaled: FloatArray = (values / np.maximum(norm[row_of], 1e-12)).astype(np.float32)
        bounds = np.searchsorted(row_of, np.arange(len(texts) + 1))
        return [
            (col[bounds[i] : bounds[i + 1]], scaled[bounds[i] : bounds[i + 1]])
            for i in range(len(texts))
        ]


def make_lexicon(texts: Sequence[str]) -> Lexicon:
    """The lexicon of a window's papers (one text each: their words). Its terms are those of
    `terms` over the texts, numbered without making a string of each pair."""
    n = len(texts)
    words = [_words(t) for t in texts]
    vocabulary = sorted(set(itertools.chain.from_iterable(words)))
    index = {w: i for i, w in enumerate(vocabulary)}
    u = len(vocabulary)
    lengths = np.asarray([len(w) for w in words], dtype=np.int64)
    ids = np.fromiter((index[w] for text in words for w in text), np.int64, int(lengths.sum()))
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    same = owner[:-1] == owner[1:]
    codes = ids[:-1][same] * u + ids[1:][same]
    word_df = np.bincount(np.unique(owner * u + ids) % u, minlength=u)
    pair_codes, pair_df = np.unique(
        np.unique(owner[:-1][same] * (u * u) + codes) % (u * u), return_counts=True
    )
    frequency = np.concatenate([word_df, pair_df]).astype(np.float32)
    lexicon = Lexicon(
        u + len(pair_codes),
        (np.log((1 + n) / (1 + frequency)) + 1.0).astype(np.float32),
        frequency >= 2,
        sparse.csr_matrix((n, u + len(pair_codes)), dtype=np.float32),
        index | dict.fromkeys(STOP_WORDS, STOP),
        np.arange(u, dtype=np.int64),
        pair_codes.astype(np.int64),
        u + np.arange(len(pair_codes), dtype=np.int64),
    )
    rows = lexicon._rows_of(ids, owner, n)
    indptr = np.cumsum([0] + [len(cols) for cols, _ in rows], dtype=np.int64)
    matrix = sparse.csr_matrix(
        (
            np.concatenate([v for _, v in rows]) if rows else np.zeros(0, np.float32),
            np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int32),
            indptr,
        ),
        shape=(n, lexicon.width),
    )
    return dataclasses.replace(lexicon, matrix=matrix)


def profiles(
    lexicon: Lexicon, texts: Sequence[Sequence[str]], weights: Sequence[FloatArray]
) -> sparse.csr_matrix:
    """Each reader's profile (a row): the weighted mean of their papers' rows."""
    flat = [t for group in texts for t in group]
    rows = lexicon.rows(flat)
    owner = np.repeat(np.arange(len(texts)), [len(group) for group in texts])
    share = np.concatenate(
        [w / max(float(w.sum()), 1e-12) for w in weights] or [np.zeros(0, np.float32)]
    ).astype(np.float32)
    mix = sparse.csr_matrix(
        (share, (owner, np.arange(len(flat)))), shape=(len(texts), len(flat)), dtype=np.float32
    )
    out: sparse.csr_matrix = (mix @ rows).tocsr()
    return out


def scores(lexicon: Lexicon, reader_profiles: sparse.csr_matrix) -> FloatArray:
    """Cosine-like scores of every window paper for each reader: readers x papers, dense."""
    product = reader_profiles @ lexicon.matrix.T
    dense: FloatArray = np.asarray(product.todense(), dtype=np.float32)
    return dense
