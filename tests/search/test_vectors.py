"""VectorIndex: exact and HNSW search, filters, changes, and saving, on seeded synthetic vectors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from paperfeed.search import hnsw_vectors
from paperfeed.search.hnsw_vectors import HnswConfig, HnswParams
from paperfeed.search.vector_files import MANIFEST, CorruptIndexError, crc32
from paperfeed.search.vectors import VectorIndex

DIM = 384
# Faster to build than the defaults, and still well above the recall these tests ask for.
FAST_HNSW: HnswParams = {"connectivity": 16, "expansion_add": 64, "expansion_search": 128}
# Uniformly random 384-d vectors have no structure at all: the worst case for any graph index
# (ef=256 finds ~0.6 of the top 10 here; real MiniLM vectors reach 0.997 at ef=128).
RANDOM_HNSW: HnswParams = {"connectivity": 32, "expansion_add": 64, "expansion_search": 1024}


def unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    normalised: np.ndarray = matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)
    return normalised


def random_vectors(n: int, dim: int = DIM, *, seed: int = 0) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32))


def clustered_vectors(n: int, dim: int = DIM, *, seed: int = 0, clusters: int = 200) -> np.ndarray:
    """Points around cluster centres that share a common direction, as sentence embeddings do."""
    rng = np.random.default_rng(seed)
    centres = unit(np.random.default_rng(99).standard_normal((clusters, dim)) + 1.0)
    points = centres[rng.integers(0, clusters, n)] + rng.normal(0, 0.05, (n, dim))
    return unit(points)


def paper_ids(n: int, prefix: str = "2403") -> list[str]:
    return [f"{prefix}.{i:05d}" for i in range(n)]


def brute_force(
    ids: list[str], matrix: np.ndarray, query: np.ndarray, k: int
) -> list[tuple[str, float]]:
    scores = matrix @ unit(query)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in order]


def recall_at_10(
    index: VectorIndex, ids: list[str], matrix: np.ndarray, queries: np.ndarray
) -> float:
    hits = 0
    for query in queries:
        truth = {pid for pid, _ in brute_force(ids, matrix, query, 10)}
        hits += len(truth & {pid for pid, _ in index.search(query, k=10)})
    return hits / (10 * len(queries))


@pytest.fixture(scope="module")
def random_hnsw() -> tuple[VectorIndex, list[str], np.ndarray]:
    ids, matrix = paper_ids(20_000), random_vectors(20_000, seed=1)
    return VectorIndex.build(ids, matrix, exact_threshold=1_000, **RANDOM_HNSW), ids, matrix


@pytest.fixture(scope="module")
def clustered_hnsw() -> tuple[VectorIndex, list[str], np.ndarray]:
    ids, matrix = paper_ids(20_000), clustered_vectors(20_000, seed=2)
    return VectorIndex.build(ids, matrix, exact_threshold=1_000, **FAST_HNSW), ids, matrix


def small_index(
    kind: str, n: int = 500, dim: int = 32
) -> tuple[VectorIndex, list[str], np.ndarray]:
    ids, matrix = paper_ids(n), random_vectors(n, dim, seed=3)
    threshold = 10 if kind == "hnsw" else 10_000
    index = VectorIndex.build(ids, matrix, exact_threshold=threshold, **FAST_HNSW)
    assert index.kind == kind
    return index, ids, matrix


def test_exact_search_equals_brute_force() -> None:
    ids, matrix = paper_ids(3_000), random_vectors(3_000, 64, seed=4)
    index = VectorIndex.build(ids, matrix)
    assert index.kind == "exact" and len(index) == 3_000 and index.dim == 64
    for query in random_vectors(20, 64, seed=5):
        found = index.search(query, k=10)
        expected = brute_force(ids, matrix, query, 10)
        assert [pid for pid, _ in found] == [pid for pid, _ in expected]
        assert np.allclose([s for _, s in found], [s for _, s in expected], atol=1e-5)


def test_hand_made_vectors_rank_by_cosine() -> None:
    index = VectorIndex.build(
        ["east", "north", "north-east", "west"],
        np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32),
    )
    found = index.search(np.array([2.0, 0.1]), k=4)
    assert [pid for pid, _ in found] == ["east", "north-east", "north", "west"]
    assert found[0][1] == pytest.approx(0.99875, abs=1e-4)
    assert found[-1][1] == pytest.approx(-0.99875, abs=1e-4)
    [(best, score)] = index.search(np.array([[0.0, 3.0]]), k=1)
    assert best == "north" and score == pytest.approx(1.0)
    assert len(index.search(np.array([1.0, 0.0]), k=50)) == 4


def test_hnsw_recall_on_random_vectors(
    random_hnsw: tuple[VectorIndex, list[str], np.ndarray],
) -> None:
    index, ids, matrix = random_hnsw
    assert index.kind == "hnsw"
    assert recall_at_10(index, ids, matrix, random_vectors(100, seed=6)) >= 0.95


def test_hnsw_recall_on_clustered_vectors(
    clustered_hnsw: tuple[VectorIndex, list[str], np.ndarray],
) -> None:
    index, ids, matrix = clustered_hnsw
    assert recall_at_10(index, ids, matrix, clustered_vectors(100, seed=7)) >= 0.95


def test_hnsw_scores_are_cosines(clustered_hnsw: tuple[VectorIndex, list[str], np.ndarray]) -> None:
    index, ids, matrix = clustered_hnsw
    query = clustered_vectors(1, seed=8)[0]
    rows = {pid: i for i, pid in enumerate(ids)}
    for pid, score in index.search(query, k=10):
        assert score == pytest.approx(float(matrix[rows[pid]] @ query), abs=5e-3)  # bf16


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_filters_are_respected(kind: str) -> None:
    index, ids, matrix = small_index(kind)
    query = matrix[0]
    odd = {pid for i, pid in enumerate(ids) if i % 2}
    found = index.search(query, k=10, allowed=odd.__contains__, exclude={ids[1], ids[3]})
    expected = [
        hit
        for hit in brute_force(ids, matrix, query, len(ids))
        if hit[0] in odd and hit[0] not in {ids[1], ids[3]}
    ][:10]
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]
    assert index.search(query, k=3, exclude={ids[0]})[0][0] != ids[0]


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_very_selective_filters_still_find_every_allowed_paper(kind: str, use_mask: bool) -> None:
    index, ids, matrix = small_index(kind, n=3_000)
    few = {ids[7], ids[1_234], ids[2_999], "unknown.id"}
    query = matrix[0]
    if use_mask:
        found = index.search(query, k=10, mask_ids=few, exclude={ids[7]})
    else:
        found = index.search(query, k=10, allowed=few.__contains__, exclude={ids[7]})
    expected = [hit for hit in brute_force(ids, matrix, query, 3_000) if hit[0] in few - {ids[7]}]
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]


def test_a_large_selective_mask_falls_back_to_scoring_its_papers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if a mask of many papers were too selective for the over-fetch all the same.
    monkeypatch.setattr(hnsw_vectors, "HNSW_SUBSET_LIMIT", 0)
    monkeypatch.setattr(hnsw_vectors, "HNSW_MAX_FETCH", 10**9)
    index, ids, matrix = small_index("hnsw", n=3_000)
    few = {ids[0], ids[5], ids[2_500]}
    found = index.search(matrix[0], k=10, mask_ids=few, exclude={ids[0]})
    assert [pid for pid, _ in found] == [
        hit[0] for hit in brute_force(ids, matrix, matrix[0], 3_000) if hit[0] in few - {ids[0]}
    ]


def test_incomplete_search_returns_what_passed_the_over_fetch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Hybrid search asks for complete=False: past the over-fetch it keeps the few allowed papers
    # found among the approximate neighbours instead of scoring every allowed paper.
    monkeypatch.setattr(hnsw_vectors, "HNSW_SUBSET_LIMIT", 0)
    monkeypatch.setattr(hnsw_vectors, "HNSW_MAX_FETCH", 100)
    index, ids, matrix = small_index("hnsw", n=3_000)
    query = matrix[0]
    ranked = [pid for pid, _ in brute_force(ids, matrix, query, 3_000)]
    far = set(ranked[-1_500:])  # half the papers pass, all of them far from the query
    assert index.search(query, k=10, mask_ids=far, complete=False) == []
    complete = [pid for pid, _ in index.search(query, k=10, mask_ids=far)]
    assert len(complete) == 10 and set(complete) <= far
    # bf16 storage may swap near-ties with the f32 brute force.
    assert len(set(complete) & set(ranked[-1_500:-1_480])) == 10


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_asking_for_more_than_the_index_holds_returns_everything(kind: str) -> None:
    index, ids, matrix = small_index(kind)
    found = index.search(matrix[0], k=600, exclude={ids[0]})
    assert sorted(pid for pid, _ in found) == ids[1:]
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_mask_and_predicate_combine(kind: str) -> None:
    index, ids, matrix = small_index(kind, n=2_000)
    mask = set(ids[:1_500])  # too many for the subset path: filters the full ranking
    allowed: Callable[[str], bool] = lambda pid: pid.endswith("3")  # noqa: E731
    found = index.search(matrix[5], k=10, mask_ids=mask, allowed=allowed)
    expected = [
        hit
        for hit in brute_force(ids, matrix, matrix[5], 2_000)
        if hit[0] in mask and allowed(hit[0])
    ][:10]
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]


def test_hnsw_predicate_is_asked_once_per_paper() -> None:
    index, ids, matrix = small_index("hnsw", n=3_000)
    asked: list[str] = []

    def allowed(pid: str) -> bool:
        asked.append(pid)
        return pid == ids[42]

    assert [pid for pid, _ in index.search(matrix[0], k=5, allowed=allowed)] == [ids[42]]
    assert len(asked) == len(set(asked))


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_upsert_replaces_a_vector_without_duplicates(kind: str) -> None:
    index, ids, matrix = small_index(kind)
    index.upsert([ids[0], "2501.00001"], np.stack([matrix[1], matrix[2]]))
    assert len(index) == len(ids) + 1
    found = [pid for pid, _ in index.search(matrix[1], k=10)]
    assert len(found) == len(set(found))
    assert set(found[:2]) == {ids[0], ids[1]}
    assert [pid for pid, _ in index.search(matrix[2], k=2)] in (
        [ids[2], "2501.00001"],
        ["2501.00001", ids[2]],
    )
    assert np.allclose(index.vector(ids[0]), matrix[1], atol=5e-3)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_remove_drops_papers(kind: str) -> None:
    index, ids, matrix = small_index(kind)
    index.remove([ids[0], ids[1], "never.indexed"])
    assert len(index) == len(ids) - 2
    found = [pid for pid, _ in index.search(matrix[0], k=20)]
    assert ids[0] not in found and ids[1] not in found
    assert index.vector(ids[0]) is None
    index.remove([])
    index.remove(["never.indexed"])
    assert len(index) == len(ids) - 2
    index.upsert([ids[0]], matrix[:1])
    assert index.search(matrix[0], k=1)[0][0] == ids[0]


def test_crossing_the_threshold_switches_to_hnsw() -> None:
    ids, matrix = paper_ids(300), random_vectors(300, 32, seed=9)
    index = VectorIndex.build(ids[:200], matrix[:200], exact_threshold=250, **FAST_HNSW)
    assert index.kind == "exact"
    index.upsert(ids[200:240], matrix[200:240])
    assert index.kind == "exact"
    index.upsert(ids[240:], matrix[240:])
    assert index.kind == "hnsw" and len(index) == 300
    for row in (0, 150, 299):
        assert index.search(matrix[row], k=1)[0][0] == ids[row]


def test_an_empty_index_grows() -> None:
    index = VectorIndex.build([], np.zeros((0, 8), dtype=np.float32))
    assert len(index) == 0 and index.kind == "exact"
    assert index.search(np.ones(8), k=5) == []
    assert index.vector("x") is None
    index.upsert([], np.zeros((0, 8)))
    index.upsert(["a"], np.ones((1, 8)))
    [(only, score)] = index.search(np.ones(8), k=5)
    assert only == "a" and score == pytest.approx(1.0)


def test_ids_of_any_length_and_script() -> None:
    ids = ["hep-th/9901001", "2403.01234", "x", "ünïcode/ид"]
    index = VectorIndex.build(ids, random_vectors(4, 8, seed=10), exact_threshold=2, **FAST_HNSW)
    assert index.kind == "hnsw"
    for pid in ids:
        assert index.search(index.vector(pid), k=1)[0][0] == pid  # type: ignore[arg-type]
    assert index.vector("a-much-longer-id-than-any-stored") is None
    assert index.vector("2403.0123") is None
    index.upsert(["an-even-longer-paper-id/2024.00001"], random_vectors(1, 8, seed=11))
    assert index.vector("an-even-longer-paper-id/2024.00001") is not None
    assert index.vector("hep-th/9901001") is not None


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_save_and_load_round_trip(kind: str, tmp_path: Path) -> None:
    index, ids, matrix = small_index(kind)
    state = {"model_id": "all-MiniLM-L6-v2", "count": len(ids), "embedded_at": "2024-03-01T00:00"}
    index.save(tmp_path / "vector-index", state=state)
    loaded = VectorIndex.load(tmp_path / "vector-index")
    assert loaded is not None
    again, saved_state = loaded
    assert saved_state == state
    assert (again.kind, len(again), again.dim) == (kind, len(index), index.dim)
    for query in random_vectors(10, 32, seed=12):
        assert again.search(query, k=10) == index.search(query, k=10)
    # The loaded index is memory-mapped; changing it must still work.
    again.remove([ids[1]])
    again.upsert([ids[0], "2501.00001"], matrix[1:3])
    assert len(again) == len(ids)
    assert again.search(matrix[2], k=1)[0][0] in (ids[2], "2501.00001")
    assert ids[1] not in {pid for pid, _ in again.search(matrix[1], k=5)}
    again.save(tmp_path / "vector-index", state={"count": len(again)})
    third = VectorIndex.load(tmp_path / "vector-index")
    assert third is not None and third[1] == {"count": len(ids)} and len(third[0]) == len(ids)
    third[0].upsert(["2501.00002"], matrix[3:4])
    assert len(third[0]) == len(ids) + 1
    assert len(list((tmp_path / "vector-index").iterdir())) == 3  # old generations are gone


def test_save_refuses_state_json_cannot_hold(tmp_path: Path) -> None:
    index, _, _ = small_index("exact")
    with pytest.raises(TypeError):
        index.save(tmp_path, state={"when": object()})
    assert not (tmp_path / MANIFEST).exists()


def test_load_of_a_missing_or_empty_folder_is_none(tmp_path: Path) -> None:
    assert VectorIndex.load(tmp_path) is None
    assert VectorIndex.load(tmp_path / "absent") is None


def saved(tmp_path: Path, kind: str) -> Path:
    index, _, _ = small_index(kind)
    index.save(tmp_path, state={})
    return tmp_path


def vectors_file(folder: Path) -> Path:
    name: str = json.loads((folder / MANIFEST).read_text())["files"]["vectors"]["name"]
    return folder / name


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_truncated_file_needs_a_rebuild(kind: str, tmp_path: Path) -> None:
    path = vectors_file(saved(tmp_path, kind))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptIndexError, match=r"truncated.*rebuild needed"):
        VectorIndex.load(tmp_path)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_flipped_byte_needs_a_rebuild(kind: str, tmp_path: Path) -> None:
    path = vectors_file(saved(tmp_path, kind))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptIndexError, match="checksum"):
        VectorIndex.load(tmp_path)


def test_a_missing_file_needs_a_rebuild(tmp_path: Path) -> None:
    vectors_file(saved(tmp_path, "exact")).unlink()
    with pytest.raises(CorruptIndexError, match="missing"):
        VectorIndex.load(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: "{not json", "unreadable manifest"),
        (lambda m: json.dumps({**m, "format": 99}), "format 99"),
        (lambda m: json.dumps({**m, "kind": "ivf"}), "unknown index kind"),
        (lambda m: json.dumps({**m, "count": 3}), "the manifest says 3"),
        (lambda m: json.dumps({**m, "dim": 7}), "expected float32"),
        (lambda m: json.dumps({k: v for k, v in m.items() if k != "state"}), "manifest"),
        (
            lambda m: json.dumps({**m, "files": {**m["files"], "ids": {"name": "x"}}}),
            "bad file entry",
        ),
        (
            lambda m: json.dumps(
                {**m, "files": {**m["files"], "ids": {**m["files"]["ids"], "name": "../x"}}}
            ),
            "missing",
        ),
    ],
)
def test_a_damaged_manifest_needs_a_rebuild(
    tmp_path: Path, change: Callable[[dict[str, object]], str], message: str
) -> None:
    folder = saved(tmp_path, "exact")
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(change(manifest))
    with pytest.raises(CorruptIndexError, match=message):
        VectorIndex.load(folder)


def rewrite_with_valid_checksum(folder: Path, entry: str, data: bytes) -> None:
    """Replace a file and fix its manifest entry, to reach the checks behind the checksum."""
    manifest = json.loads((folder / MANIFEST).read_text())
    path = folder / manifest["files"][entry]["name"]
    path.write_bytes(data)
    manifest["files"][entry]["bytes"] = len(data)
    manifest["files"][entry]["crc32"] = crc32(path)
    (folder / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("kind", "entry", "data", "message"),
    [
        ("exact", "ids", b"not a numpy file", "unreadable"),
        ("exact", "vectors", b"not a numpy file", "unreadable"),
        ("hnsw", "vectors", b"not a usearch file" * 10, "unreadable"),
    ],
)
def test_garbage_with_a_valid_checksum_is_reported(
    tmp_path: Path, kind: str, entry: str, data: bytes, message: str
) -> None:
    folder = saved(tmp_path, kind)
    rewrite_with_valid_checksum(folder, entry, data)
    with pytest.raises(CorruptIndexError, match=message):
        VectorIndex.load(folder)


def test_a_foreign_array_is_reported(tmp_path: Path) -> None:
    import io

    folder = saved(tmp_path, "hnsw")
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    rewrite_with_valid_checksum(folder, "ids", buffer.getvalue())
    with pytest.raises(CorruptIndexError, match="not a list of ids"):
        VectorIndex.load(folder)


def test_an_hnsw_file_of_another_size_is_reported(tmp_path: Path) -> None:
    folder = saved(tmp_path, "hnsw")
    other = tmp_path / "other"
    small_index("hnsw", n=100)[0].save(other, state={})
    rewrite_with_valid_checksum(folder, "vectors", vectors_file(other).read_bytes())
    with pytest.raises(CorruptIndexError, match="not an HNSW index of 500"):
        VectorIndex.load(folder)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_bad_queries_are_refused(kind: str) -> None:
    index, _, _ = small_index(kind)
    with pytest.raises(ValueError, match="vector of 32 numbers"):
        index.search(np.ones(31), k=5)
    with pytest.raises(ValueError, match="vector of 32 numbers"):
        index.search(np.ones((2, 32)), k=5)
    with pytest.raises(ValueError, match="zero"):
        index.search(np.zeros(32), k=5)
    with pytest.raises(ValueError, match="NaN"):
        index.search(np.full(32, np.nan), k=5)
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones(32), k=0)
    with pytest.raises(TypeError, match="not one string"):
        index.search(np.ones(32), k=5, exclude="2403.00001")


def test_bad_vectors_and_ids_are_refused() -> None:
    index, ids, matrix = small_index("exact")
    with pytest.raises(ValueError, match="500×dim"):
        VectorIndex.build(ids, matrix[:10])
    with pytest.raises(ValueError, match="1×32"):
        index.upsert(["new"], np.ones((1, 33)))
    with pytest.raises(ValueError, match="zero vectors"):
        index.upsert(["new"], np.zeros((1, 32)))
    with pytest.raises(ValueError, match="NaN"):
        index.upsert(["new"], np.full((1, 32), np.inf))
    with pytest.raises(ValueError, match="at least one dimension"):
        VectorIndex.build(["a"], np.zeros((1, 0)))
    with pytest.raises(ValueError, match="unique"):
        index.upsert(["a", "a"], matrix[:2])
    with pytest.raises(ValueError, match="non-empty"):
        index.upsert([""], matrix[:1])
    with pytest.raises(TypeError, match="not one string"):
        index.upsert("abc", matrix[:3])
    with pytest.raises(ValueError, match="dtype"):
        VectorIndex.build(ids, matrix, dtype="i8")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="connectivity"):
        VectorIndex.build(ids, matrix, connectivity=1)
    assert len(index) == len(ids)


def test_defaults_are_the_benchmarked_ones() -> None:
    assert HnswConfig() == HnswConfig("bf16", 16, 128, 512)
    assert small_index("exact")[0].nbytes >= 500 * 32 * 4
    assert small_index("hnsw")[0].nbytes >= 500 * 32 * 2


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_expansion_search_can_change_without_a_rebuild(kind: str) -> None:
    index, ids, matrix = small_index(kind)
    index.set_expansion_search(512)
    assert index.search(matrix[9], k=1)[0][0] == ids[9]
    with pytest.raises(ValueError, match="expansion_search"):
        index.set_expansion_search(0)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_mask_of_unknown_ids_finds_nothing(kind: str) -> None:
    index, _, matrix = small_index(kind)
    assert index.search(matrix[0], k=5, mask_ids={"not.here"}) == []
    assert index.search(matrix[0], k=5, mask_ids=set()) == []


def test_searches_run_while_papers_change() -> None:
    index, ids, matrix = small_index("hnsw", n=2_000)
    extra_ids, extra = paper_ids(400, prefix="2501"), random_vectors(400, 32, seed=13)
    stop = threading.Event()

    def search_until_stopped(seed: int) -> tuple[int, int]:
        rng = np.random.default_rng(seed)
        done = found_itself = 0
        while not stop.is_set() or done < 50:
            row = int(rng.integers(0, 1_000))
            found = index.search(matrix[row], k=5)
            scores = [score for _, score in found]
            assert len(found) == 5 and scores == sorted(scores, reverse=True)
            assert len({pid for pid, _ in found}) == len(found)
            found_itself += found[0][0] == ids[row]
            done += 1
        return done, found_itself

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(search_until_stopped, seed) for seed in range(4)]
        for start in range(0, 400, 50):
            index.upsert(extra_ids[start : start + 50], extra[start : start + 50])
            index.remove(ids[1_000 + start : 1_000 + start + 50])
        stop.set()
        counts = [future.result() for future in futures]
    # HNSW is approximate: now and then a node is unreachable (1-3 in 2,000 here, changes or not).
    assert all(done >= 50 and found_itself >= 0.95 * done for done, found_itself in counts)
    assert len(index) == 2_000
    assert not {pid for pid, _ in index.search(matrix[1_000], k=50)} & set(ids[1_000:1_400])


@pytest.mark.parametrize("threshold", [100, 2])
def test_vectors_of_many_papers_in_one_look_up(threshold: int) -> None:
    ids = ["a", "b", "c", "d"]
    matrix = random_vectors(4, 8, seed=12)
    index = VectorIndex.build(ids, matrix, exact_threshold=threshold, **FAST_HNSW)
    found, vectors = index.vectors_of(["c", "missing", "a"])
    assert found == ["c", "a"]
    assert np.allclose(vectors, matrix[[2, 0]], atol=5e-3)
    none, empty = index.vectors_of(["missing"])
    assert none == [] and empty.shape == (0, 8)
