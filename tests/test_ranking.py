"""Reciprocal rank fusion."""

import pytest

from paperfeed.ranking import rrf


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
