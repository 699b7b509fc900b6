"""The reader model: class-balanced logistic regression over paper vectors, many readers at once.

Pure numpy, no I/O. A `Pool` is the papers a list may show (one window of days) with what every
reader of that window shares: the pool's principal directions (the model works in the pool's top
`dims` of them, which is where its papers differ) and a background sample of the pool, the
negatives every reader gets ("papers of the same days"). A `Reader` brings positives (weighted
vectors of papers they upvoted, collected, asked more of, or seeds given by the caller) and
negatives ("not interested").

Fitting is batched over readers: Böhning's fixed-Hessian Newton iteration (the logistic loss's
Hessian is bounded by a quarter of the weighted Gram matrix), so each reader's bound is
inverted once and every step is a handful of matrix products over the whole batch; the steps
carry Nesterov's momentum, and `STEPS` of them reach the minimum. A reader
with a single positive and no negatives gets plain cosine (cold start). The top of each list
is re-ordered by maximal marginal relevance so near-duplicates do not fill it.

Exact terms count too (`recommend.lexical`): when the pool carries its papers' texts and a
reader their papers' texts, each candidate's score is the sum of the classifier's score
(smoothed, below) and `LEXICAL` times its TF-IDF cosine to the reader's papers, both
standardized over the pool (mean 0, standard deviation 1 per reader), so neither scale
dominates by accident.

Before the exact terms join, the classifier's scores (not a cold start's cosines) are smoothed
over the pool: each score, standardized, plus `SMOOTHING` times the standardized mean score of
its `NEIGHBOURS` nearest papers in the pool (the cluster hypothesis: a paper whose closest
papers the reader would like is likelier wanted too). The exact terms are added after,
unsmoothed: a rare term shared with the reader is evidence about that paper alone, wherever its
neighbours are. The neighbours come from the pool's vectors, once per pool (`make_pool`); a
pool of more than `NEIGHBOURS_MOST` papers skips this (its neighbours cost n² products).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from paperfeed.recommend.lexical import Lexicon, make_lexicon, profiles
from paperfeed.recommend.lexical import scores as lexical_scores

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

DIMS = 256  # principal directions of the pool the classifier works in
BACKGROUND = 256  # background negatives sampled from the pool
STEPS = 30  # accelerated Böhning-Newton steps (converged: docs/for-you.md)
L2 = 0.01  # ridge on the weights (the bias too), relative to a total sample weight of 1
NEGATIVE_WEIGHT = 4.0  # a "not interested" counts as this many background papers
MMR_TOP = 10  # the top of the list diversified
MMR_DEPTH = 40  # how deep into the ranking MMR looks for the top
MMR_LAMBDA = 0.7  # relevance (scaled to [0, 1] over the depth) against redundancy in MMR
MMR_SIMILAR = 0.65  # cosines below this to a chosen paper cost nothing; 1 costs fully
CHUNK = 512  # readers fitted together
GRAM_MOST = 4096  # MMR: the most distinct candidates of a batch put in one Gram matrix
LEXICAL = 0.3  # weight of the standardized TF-IDF score against the standardized classifier's
# BLAS threads while ranking: on a shared 2-core machine two OpenBLAS threads spin against the
# other processes (measured: one reader 90-190 ms with two against 13-33 ms with one; 10,000
# readers 15 s of CPU against 7 s, no faster in wall time).
BLAS_THREADS = 1
LEXICAL_MOST = 100  # a reader's heaviest papers (first given first among equals) in the profile
# Each candidate's classifier score gains SMOOTHING times its NEIGHBOURS nearest pool papers'
# mean score (both standardized). Chosen on the tuning halves of bench/recommend.py
# (docs/for-you.md): 5 neighbours of 3 / 5 / 7 / 10 / 20, weight 1 of 0.6 / 1 / 1.5.
NEIGHBOURS = 5
SMOOTHING = 1.0
NEIGHBOURS_MOST = 12_000  # larger pools skip it: their neighbour graph costs n² products
NEIGHBOUR_BLOCK = 1024  # pool rows per product while finding neighbours
# Papers this close (copies, versions) are not each other's neighbours: a group of copies would
# lift itself and crowd the top that MMR keeps varied.
DUPLICATE_COSINE = 0.95


@dataclass(frozen=True, slots=True)
class Pool:
    """Candidate papers (unit rows) and the state every reader of them shares."""

    ids: tuple[str, ...]
    vectors: FloatArray  # n x d, unit rows
    mean: FloatArray  # d
    basis: FloatArray  # d x k
    projected: FloatArray  # n x (k + 1): centred, projected, with a bias column
    background: FloatArray  # m x (k + 1)
    gram_values: FloatArray  # k + 1: eigenvalues of background' background / m
    gram_vectors: FloatArray  # (k + 1) x (k + 1): its eigenvectors
    lexicon: Lexicon | None = None  # TF-IDF of the papers' texts, when given
    neighbours: IntArray | None = None  # n x k: each paper's nearest pool papers, or None


@dataclass(frozen=True, slots=True)
class Reader:
    """One reader's training data: positive vectors with weights, negative vectors, and the pool
    rows they must not be shown (papers they already signalled)."""

    positives: FloatArray  # p x d, unit rows
    weights: FloatArray  # p
    negatives: FloatArray  # q x d, unit rows
    exclude: IntArray  # pool rows
    texts: tuple[str, ...] = ()  # title and abstract of each positive ("" unknown); () none


@dataclass(frozen=True, slots=True)
class Ranked:
    """A reader's list: pool rows best first, their scores, and for each the positive it is
    nearest to (its row in `Reader.positives`) with that cosine."""

    rows: IntArray
    scores: FloatArray
    nearest: IntArray
    nearest_cosine: FloatArray


def unit_rows(vectors: npt.ArrayLike) -> FloatArray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError("vectors must be a matrix, one row per paper")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: FloatArray = matrix / np.maximum(norms, 1e-12)
    return unit


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # finds the loaded BLAS libraries once


def make_pool(
    ids: Sequence[str],
    vectors: npt.ArrayLike,
    *,
    texts: Sequence[str] | None = None,
    dims: int = DIMS,
    background: int = BACKGROUND,
    seed: int = 0,
) -> Pool:
    """Prepare the candidates of one window for ranking; `texts` (the words of each: title,
    abstract, keywords) add the exact-term evidence. BLAS runs on `BLAS_THREADS` threads."""
    with _threadpools().limit(limits=BLAS_THREADS, user_api="blas"):
        return _make_pool(ids, vectors, texts=texts, dims=dims, background=background, seed=seed)


def _make_pool(
    ids: Sequence[str],
    vectors: npt.ArrayLike,
    *,
    texts: Sequence[str] | None,
    dims: int,
    background: int,
    seed: int,
) -> Pool:
    matrix = unit_rows(vectors)
    if len(ids) != len(matrix):
        raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
    if texts is not None and len(texts) != len(ids):
        raise ValueError(f"{len(texts)} texts for {len(ids)} papers")
    lexicon = make_lexicon(texts) if texts is not None and len(ids) else None
    if len(matrix) == 0:
        empty = np.zeros((0, 1), dtype=np.float32)
        dim = matrix.shape[1]
        return Pool(
            (),
            matrix,
            np.zeros(dim, dtype=np.float32),
            np.zeros((dim, 0), dtype=np.float32),
            empty,
            empty,
            np.zeros(1, dtype=np.float32),
            np.eye(1, dtype=np.float32),
        )
    mean = matrix.mean(axis=0)
    rng = np.random.default_rng(seed)
    sample = (
        np.sort(rng.choice(len(matrix), size=background, replace=False))
        if len(matrix) > background
        else np.arange(len(matrix))
    )
    # The principal directions of the pool, from the eigenvectors of its covariance (d x d).
    centred = matrix - mean
    fit = centred if len(centred) <= 2048 else centred[rng.choice(len(centred), 2048, False)]
    values, vectors_ = np.linalg.eigh(fit.T @ fit)
    keep = min(dims, int(np.sum(values > 1e-6 * max(float(values[-1]), 1e-12))))
    basis = np.ascontiguousarray(vectors_[:, ::-1][:, :keep], dtype=np.float32)
    projected = _project(matrix, mean, basis)
    back = projected[sample]
    values, vectors_ = np.linalg.eigh((back.T @ back / len(back)).astype(np.float64))
    return Pool(
        tuple(ids),
        matrix,
        mean,
        basis,
        projected,
        back,
        values.astype(np.float32),
        vectors_.astype(np.float32),
        lexicon,
        nearest_papers(matrix, NEIGHBOURS) if len(matrix) <= NEIGHBOURS_MOST else None,
    )


def nearest_papers(matrix: FloatArray, k: int) -> IntArray | None:
    """Each row's `k` nearest other rows by cosine (unit rows), in no particular order, rows
    at `DUPLICATE_COSINE` or closer left out; None when there are not more than `k` rows."""
    n = len(matrix)
    if k <= 0 or n <= k:
        return None
    nearest = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, NEIGHBOUR_BLOCK):
        block = matrix[start : start + NEIGHBOUR_BLOCK] @ matrix.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf  # not its own neighbour
        block[block >= DUPLICATE_COSINE] = -np.inf  # nor its copies'
        nearest[start : start + len(block)] = np.argpartition(-block, k - 1, axis=1)[:, :k]
    return nearest


def _project(vectors: FloatArray, mean: FloatArray, basis: FloatArray) -> FloatArray:
    out = np.empty((len(vectors), basis.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = (vectors - mean) @ basis
    out[:, -1] = 1.0
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _padded(rows: Sequence[FloatArray], width: int) -> tuple[FloatArray, FloatArray]:
    """Stack ragged row blocks into batch x longest x width, with a 0/1 mask."""
    longest = max([len(r) for r in rows] + [1])
    out = np.zeros((len(rows), longest, width), dtype=np.float32)
    mask = np.zeros((len(rows), longest), dtype=np.float32)
    for i, block in enumerate(rows):
        out[i, : len(block)] = block
        mask[i, : len(block)] = 1.0
    return out, mask


def fit_readers(pool: Pool, readers: Sequence[Reader]) -> FloatArray:
    """Fit each reader's classifier; return the weights, readers x (k + 1), bias last.

    Class-balanced: the positives weigh 1/2 together (split by their weights), the negatives
    (background + "not interested", each of those `NEGATIVE_WEIGHT` times a background paper)
    the other 1/2.
    """
    width = pool.projected.shape[1]
    # The iteration runs in the eigenbasis of the background's Gram matrix, where Böhning's
    # bound below is diagonal: the papers are rotated once (their projection and the rotation
    # folded into one product), and the weights rotated back at the end.
    rotation = pool.gram_vectors
    basis = pool.basis @ rotation[:-1]
    offset = rotation[-1]  # the bias column, rotated

    def rotated(vectors: FloatArray) -> FloatArray:
        out: FloatArray = (vectors - pool.mean) @ basis + offset
        return out

    pos, pos_mask = _padded([rotated(r.positives) for r in readers], width)
    neg, neg_mask = _padded([rotated(r.negatives) for r in readers], width)
    background = pool.background @ rotation
    raw = _padded([r.weights.reshape(-1, 1) for r in readers], 1)[0][:, :, 0] * pos_mask
    pos_c = 0.5 * raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-12)
    m = len(pool.background)
    neg_total = m + NEGATIVE_WEIGHT * neg_mask.sum(axis=1)  # in background papers
    back_c = (0.5 / neg_total).astype(np.float32)  # per background paper, per reader
    neg_c = (NEGATIVE_WEIGHT * back_c)[:, None] * neg_mask
    # Böhning's bound on the Hessian is a quarter of the weighted Gram matrix. The background
    # part is shared (diagonal in this basis); each reader's own papers are bounded by their
    # weighted squared norms times the identity, a looser bound that costs no matrix inversion
    # per reader. The loose bound makes plain steps slow where the background varies little, so
    # the steps are accelerated (Nesterov's momentum, restarted for a reader whose momentum
    # points uphill: O'Donoghue and Candès, 2015).
    own = np.einsum("rp,rpk,rpk->r", pos_c, pos, pos) + np.einsum("rq,rqk,rqk->r", neg_c, neg, neg)
    curvature = 0.25 * ((back_c * m)[:, None] * pool.gram_values[None] + own[:, None]) + L2
    weights = np.zeros((len(readers), width), dtype=np.float32)
    previous = weights
    momentum = np.ones(len(readers), dtype=np.float32)
    back_t = background.T
    for _ in range(STEPS):
        following = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum * momentum))
        ahead = weights + ((momentum - 1.0) / following)[:, None] * (weights - previous)
        p_err = (_sigmoid(np.matmul(pos, ahead[:, :, None])[:, :, 0]) - 1.0) * pos_c
        n_err = _sigmoid(np.matmul(neg, ahead[:, :, None])[:, :, 0]) * neg_c
        b_err = _sigmoid(ahead @ back_t) * back_c[:, None]
        grad = (
            np.matmul(p_err[:, None, :], pos)[:, 0]
            + np.matmul(n_err[:, None, :], neg)[:, 0]
            + b_err @ background
            + ahead * L2
        )
        previous, weights = weights, ahead - grad / curvature
        uphill = np.einsum("rk,rk->r", grad, weights - previous) > 0
        momentum = np.where(uphill, 1.0, following).astype(np.float32)
    rotated_back: FloatArray = weights @ rotation.T
    return rotated_back


def rank_readers(pool: Pool, readers: Sequence[Reader], *, limit: int) -> list[Ranked]:
    """Each reader's best `limit` pool papers, best first, the top `MMR_TOP` diversified, with
    BLAS limited to `BLAS_THREADS` threads meanwhile."""
    results: list[Ranked] = []
    with _threadpools().limit(limits=BLAS_THREADS, user_api="blas"):
        for start in range(0, len(readers), CHUNK):
            results += _rank_chunk(pool, readers[start : start + CHUNK], limit)
    return results


def _rank_chunk(pool: Pool, readers: Sequence[Reader], limit: int) -> list[Ranked]:
    n = len(pool.ids)
    empty = Ranked(
        np.zeros(0, np.int64),
        np.zeros(0, np.float32),
        np.zeros(0, np.int64),
        np.zeros(0, np.float32),
    )
    if n == 0 or limit <= 0:
        return [empty for _ in readers]
    cold = [len(r.positives) == 1 and len(r.negatives) == 0 for r in readers]
    learn = [i for i, r in enumerate(readers) if len(r.positives) and not cold[i]]
    scores = np.full((len(readers), n), -np.inf, dtype=np.float32)
    if learn:
        weights = fit_readers(pool, [readers[i] for i in learn])
        scores[learn] = weights @ pool.projected.T
    for i, is_cold in enumerate(cold):
        if is_cold:  # a single seed: cosine to it
            scores[i] = pool.vectors @ readers[i].positives[0]
    _add_neighbours(pool, learn, scores)  # a single seed keeps its plain cosine
    _add_lexical(pool, readers, scores)
    for i, reader in enumerate(readers):
        scores[i, reader.exclude] = -np.inf
    depth = min(n, max(limit, MMR_DEPTH))
    top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    order = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
    ordered = np.take_along_axis(scores, order, 1)
    order = _diversified(pool.vectors, order, ordered)[:, :limit]
    ordered = np.take_along_axis(scores, order, 1)
    picked = pool.vectors[order]  # readers x limit x d
    results = []
    for i, reader in enumerate(readers):
        keep = np.isfinite(ordered[i])
        if not keep.any() or len(reader.positives) == 0:
            results.append(empty)
            continue
        cosine = picked[i][keep] @ reader.positives.T
        nearest = np.argmax(cosine, axis=1).astype(np.int64)
        results.append(
            Ranked(
                order[i][keep].astype(np.int64),
                ordered[i][keep],
                nearest,
                cosine[np.arange(len(nearest)), nearest].astype(np.float32),
            )
        )
    return results


def _standardized(scores: FloatArray) -> FloatArray:
    """Each row to mean 0 and standard deviation 1 (a constant row to 0)."""
    spread = scores.std(axis=1, keepdims=True)
    out: FloatArray = (scores - scores.mean(axis=1, keepdims=True)) / np.where(
        spread > 1e-9, spread, 1.0
    )
    return out


def _add_lexical(pool: Pool, readers: Sequence[Reader], scores: FloatArray) -> None:
    """Fuse, in place, each reader's scores with the TF-IDF cosine of the pool's papers to the
    reader's papers (readers with texts, in a pool with a lexicon)."""
    if pool.lexicon is None or LEXICAL == 0:
        return
    wordy = [i for i, r in enumerate(readers) if any(r.texts) and len(r.positives)]
    if not wordy:
        return
    texts, weights = [], []
    for i in wordy:
        reader = readers[i]
        if len(reader.texts) != len(reader.positives):
            raise ValueError(f"{len(reader.texts)} texts for {len(reader.positives)} positives")
        worded = np.array([j for j, text in enumerate(reader.texts) if text], dtype=np.int64)
        order = np.argsort(-reader.weights[worded], kind="stable")[:LEXICAL_MOST]
        texts.append([reader.texts[j] for j in worded[order]])
        weights.append(reader.weights[worded[order]])
    lexical = lexical_scores(pool.lexicon, profiles(pool.lexicon, texts, weights))
    scores[wordy] = _standardized(scores[wordy]) + LEXICAL * _standardized(lexical)


def _add_neighbours(pool: Pool, rows: Sequence[int], scores: FloatArray) -> None:
    """Smooth, in place, these readers' classifier scores over the pool's neighbour graph: each
    score standardized, plus `SMOOTHING` times the standardized mean of its neighbours'."""
    if pool.neighbours is None or SMOOTHING == 0 or not rows:
        return
    own = _standardized(scores[rows])
    around = np.zeros_like(own)
    for column in pool.neighbours.T:  # one gather per neighbour rank: readers x papers each
        around += own[:, column]
    scores[rows] = own + SMOOTHING * _standardized(around)


def _diversified(vectors: FloatArray, order: IntArray, scores: FloatArray) -> IntArray:
    """Maximal marginal relevance for the top `MMR_TOP` places of each reader's ranking (rows of
    `order`, best first, with their `scores`); the places after keep their order."""
    batch, depth = order.shape
    places = min(MMR_TOP, depth)
    finite = np.isfinite(scores)
    low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    relevance = np.where(finite, (scores - low) / span, -np.inf)
    # The cosines among each reader's candidates, gathered from one Gram matrix of the papers
    # the batch's candidates share (one large product instead of one small one per reader).
    union, positions = np.unique(order, return_inverse=True)
    positions = positions.reshape(order.shape)
    if len(union) <= GRAM_MOST:
        gram = vectors[union] @ vectors[union].T
        similar = gram[positions[:, :, None], positions[:, None, :]]
    else:
        chosen_vectors = vectors[order]
        similar = np.matmul(chosen_vectors, chosen_vectors.transpose(0, 2, 1))
    closest = np.zeros((batch, depth), dtype=np.float32)
    left = np.ones((batch, depth), dtype=bool)
    picks = np.zeros((batch, places), dtype=np.int64)
    everyone = np.arange(batch)
    for place in range(places):
        value = MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * closest * (place > 0)
        value = np.where(left, value, -np.inf)
        pick = np.argmax(value, axis=1)
        picks[:, place] = pick
        left[everyone, pick] = False
        redundant = np.clip((similar[everyone, pick] - MMR_SIMILAR) / (1 - MMR_SIMILAR), 0, 1)
        closest = np.maximum(closest, redundant)
    rest = np.argsort(~left, axis=1, kind="stable")[:, : depth - places]
    positions = np.concatenate([picks, rest], axis=1)
    diversified: IntArray = np.take_along_axis(order, positions, 1)
    return diversified
