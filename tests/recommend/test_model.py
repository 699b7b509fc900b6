"""The batched model: one reader or many in a batch rank alike, MMR keeps near-duplicates out of
the top, and the fit is a real logistic regression (its gradient vanishes)."""

from __future__ import annotations

import numpy as np

from paperfeed.recommend import model
from paperfeed.recommend.model import Reader, fit_readers, make_pool, rank_readers, unit_rows


def clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.normal(size=(8, 32)))
    labels = rng.integers(0, 8, 300)
    return centres, labels, unit_rows(centres[labels] + rng.normal(size=(300, 32)) * 0.15)


def reader_of(vectors: np.ndarray, negatives: np.ndarray | None = None) -> Reader:
    return Reader(
        unit_rows(vectors),
        np.ones(len(vectors), dtype=np.float32),
        unit_rows(negatives) if negatives is not None else np.zeros((0, 32), np.float32),
        np.zeros(0, dtype=np.int64),
    )


def test_a_batch_ranks_each_reader_as_alone() -> None:
    _centres, labels, vectors = clusters()
    pool = make_pool([str(i) for i in range(300)], vectors, dims=16)
    readers = [reader_of(vectors[labels == c][:5]) for c in range(8)]
    together = rank_readers(pool, readers, limit=10)
    for c, reader in enumerate(readers):
        [alone] = rank_readers(pool, [reader], limit=10)
        assert alone.rows.tolist() == together[c].rows.tolist()
        assert (labels[alone.rows] == c).all()


def test_the_fit_reaches_the_minimum_of_the_balanced_loss() -> None:
    _, labels, vectors = clusters(1)
    pool = make_pool([str(i) for i in range(300)], vectors, dims=16)
    reader = reader_of(vectors[labels == 2][:6], vectors[labels == 3][:2])
    [w] = fit_readers(pool, [reader])  # with the model's own number of steps

    def project(x: np.ndarray) -> np.ndarray:
        return np.hstack([(x - pool.mean) @ pool.basis, np.ones((len(x), 1))])

    pos, neg, back = project(reader.positives), project(reader.negatives), pool.background
    m = len(back)
    c_back = 0.5 / (m + model.NEGATIVE_WEIGHT * len(neg))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    grad = (
        (0.5 / len(pos)) * ((sig(pos @ w) - 1) @ pos)
        + model.NEGATIVE_WEIGHT * c_back * (sig(neg @ w) @ neg)
        + c_back * (sig(back @ w) @ back)
        + model.L2 * w
    )
    assert np.abs(grad).max() < 1e-4


def test_mmr_keeps_near_duplicates_out_of_the_top() -> None:
    centres, labels, vectors = clusters(4)
    reader = reader_of(centres[[5]])
    pool = make_pool([str(i) for i in range(300)], vectors, dims=16)
    [plain] = rank_readers(pool, [reader], limit=10)
    best = int(plain.rows[0])
    rng = np.random.default_rng(5)
    copies = unit_rows(vectors[[best] * 6] + rng.normal(size=(6, 32)) * 0.002)
    more = np.vstack([vectors, copies])
    pool = make_pool([str(i) for i in range(len(more))], more, dims=16)
    [ranked] = rank_readers(pool, [reader], limit=10)
    top = ranked.rows.tolist()
    assert len({best, *range(300, 306)} & set(top)) <= 3
    saved = model.MMR_TOP
    try:
        model.MMR_TOP = 0
        [undiversified] = rank_readers(pool, [reader], limit=10)
    finally:
        model.MMR_TOP = saved
    assert len({best, *range(300, 306)} & set(undiversified.rows.tolist())) == 7
    assert all(labels[r] == 5 for r in top if r < 300)
    # The copies are not lost: they follow the diversified top.
    [deeper] = rank_readers(pool, [reader], limit=20)
    assert len({best, *range(300, 306)} & set(deeper.rows.tolist())) == 7


def test_mmr_gives_the_same_order_without_the_shared_gram_matrix() -> None:
    _, labels, vectors = clusters(6)
    pool = make_pool([str(i) for i in range(300)], vectors, dims=16)
    readers = [reader_of(vectors[labels == c][:4]) for c in range(8)]
    shared = rank_readers(pool, readers, limit=15)
    saved = model.GRAM_MOST
    try:
        model.GRAM_MOST = 0  # too many distinct candidates: one product per reader
        alone = rank_readers(pool, readers, limit=15)
    finally:
        model.GRAM_MOST = saved
    assert [r.rows.tolist() for r in shared] == [r.rows.tolist() for r in alone]


def test_each_pool_paper_knows_its_nearest_papers() -> None:
    """`nearest_papers`: the k highest cosines to each row, itself left out, also across the
    blocks the products are cut into."""
    _, _, vectors = clusters(2)
    saved = model.NEIGHBOUR_BLOCK
    try:
        model.NEIGHBOUR_BLOCK = 64  # 300 rows: five blocks
        nearest = model.nearest_papers(vectors, 5)
    finally:
        model.NEIGHBOUR_BLOCK = saved
    assert nearest is not None and nearest.shape == (300, 5)
    cosines = vectors @ vectors.T
    np.fill_diagonal(cosines, -np.inf)
    expected = np.argsort(-cosines, axis=1)[:, :5]
    assert all(set(nearest[i]) == set(expected[i]) for i in range(300))
    assert model.nearest_papers(vectors[:5], 5) is None  # no 5 others to be near
    assert make_pool([str(i) for i in range(300)], vectors, dims=16).neighbours is not None


def test_a_paper_among_papers_the_reader_likes_rises() -> None:
    """The neighbour smoothing: a paper whose nearest papers the reader would like rises above
    one the classifier scores a little higher but whose nearest papers are off the reader's
    topic; with SMOOTHING 0 the order is the classifier's."""
    rng = np.random.default_rng(4)
    liked = unit_rows(rng.normal(size=(1, 32)))[0]
    other = rng.normal(size=32)
    other = (other - (other @ liked) * liked) / np.linalg.norm(other - (other @ liked) * liked)

    def around(centre: np.ndarray, count: int) -> np.ndarray:
        return unit_rows(centre + rng.normal(size=(count, 32)) * 0.06)  # cosines about 0.9

    group = around(liked + 0.45 * other, 6)  # near the seed, and near each other
    lone = unit_rows((liked - 0.2 * other)[None])  # nearer the reader, but its nearest papers:
    decoys = around(liked - 0.7 * other, 6)  # these, farther from the reader
    vectors = np.vstack([group, lone, decoys, unit_rows(rng.normal(size=(120, 32)))])
    pool = make_pool([str(i) for i in range(len(vectors))], vectors, dims=16)
    assert pool.neighbours is not None and set(pool.neighbours[6]) <= set(range(7, 13))
    reader = reader_of(liked + rng.normal(size=(3, 32)) * 0.02)  # three papers: a classifier
    saved = model.SMOOTHING, model.MMR_TOP
    try:
        model.MMR_TOP = 0  # the group is alike: MMR would spread it out
        model.SMOOTHING = 0.0
        [plain] = rank_readers(pool, [reader], limit=7)
        model.SMOOTHING = 1.0
        [smoothed] = rank_readers(pool, [reader], limit=7)
    finally:
        model.SMOOTHING, model.MMR_TOP = saved
    assert plain.rows[0] == 6
    assert smoothed.rows[0] in range(6)  # a paper of the group first
    assert smoothed.rows.tolist().index(6) >= 3  # the lone paper behind most of the group
