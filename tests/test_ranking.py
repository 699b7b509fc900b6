"""Rank fusion and score fusion."""

import pytest

from paperfeed.ranking import convex_fusion, max_normalized, min_max_normalized, rrf


def test_rrf_adds_reciprocal_ranks() -> None:
    fused = dict(rrf([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)


def test_rrf_puts_items_in_both_lists_first() -> None:
    assert [item for item, _ in rrf([["a", "b"], ["b", "a"], ["b", "c"]])][:2] == ["b", "a"]


def test_rrf_weights_favour_a_list() -> None:
    fused = rrf([["a"], ["b"]], weights=[1.0, 2.0])
    assert [item for item, _ in fused] == ["b", "a"]


def test_rrf_breaks_ties_by_first_appearance_and_ignores_repeats() -> None:
    assert rrf([["x", "y", "x"], ["y", "x"]]) == rrf([["x", "y"], ["y", "x"]])
    assert [item for item, _ in rrf([["x"], ["y"]])] == ["x", "y"]


def test_rrf_needs_one_weight_per_list() -> None:
    with pytest.raises(ValueError, match="one weight"):
        rrf([["a"]], weights=[1.0, 2.0])
    assert rrf([]) == []


def test_max_normalized_divides_by_the_best_score() -> None:
    assert max_normalized([("a", 8.0), ("b", 2.0)]) == {"a": 1.0, "b": 0.25}
    assert max_normalized([("a", 0.0)]) == {"a": 0.0}
    assert max_normalized([]) == {}


def test_min_max_normalized_spans_zero_to_one() -> None:
    assert min_max_normalized([("a", 0.9), ("b", 0.5), ("c", 0.4)]) == pytest.approx(
        {"a": 1.0, "b": 0.2, "c": 0.0}
    )
    # Negative cosines are scores like any other; equal scores all count as the best.
    assert min_max_normalized([("a", -0.2), ("b", 0.2)]) == {"a": 0.0, "b": 1.0}
    assert min_max_normalized([("a", 0.3), ("b", 0.3)]) == {"a": 1.0, "b": 1.0}


def test_convex_fusion_mixes_scores_by_weight() -> None:
    fused = dict(convex_fusion([{"a": 1.0, "b": 0.5}, {"b": 1.0, "c": 0.8}], weights=[0.5, 0.5]))
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.4})
    leaning = convex_fusion([{"a": 1.0}, {"c": 1.0}], weights=[0.3, 0.7])
    assert [item for item, _ in leaning] == ["c", "a"]


def test_convex_fusion_keeps_score_gaps_that_rrf_drops() -> None:
    # "b" is a close second in one list and far ahead in the other: RRF cannot tell.
    lexical = {"a": 1.0, "b": 0.98, "c": 0.0}
    semantic = {"c": 1.0, "b": 0.9, "a": 0.0}
    assert convex_fusion([lexical, semantic], weights=[0.5, 0.5])[0][0] == "b"
    assert rrf([list(lexical), list(semantic)])[0][0] != "b"


def test_convex_fusion_breaks_ties_by_first_appearance() -> None:
    assert [i for i, _ in convex_fusion([{"x": 1.0}, {"y": 1.0}], weights=[1, 1])] == ["x", "y"]
    with pytest.raises(ValueError, match="one weight"):
        convex_fusion([{"a": 1.0}], weights=[1.0, 2.0])
