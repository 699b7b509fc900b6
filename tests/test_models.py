"""Tests of the pure domain helpers in models.py."""

import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.models import (
    ImportSummary,
    PaperRecord,
    PaperStatus,
    Rejected,
    clean_text,
    is_paper_id,
    paper_id_of,
    parse_arxiv_id,
    status_from_comment,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2603.12270", ("2603.12270", None)),
        ("2603.12270v3", ("2603.12270", 3)),
        ("arXiv:2603.12270v2", ("2603.12270", 2)),
        ("https://arxiv.org/abs/2603.12270v2", ("2603.12270", 2)),
        ("http://arxiv.org/pdf/2603.12270v1.pdf", ("2603.12270", 1)),
        ("arxiv.org/pdf/2603.12270", ("2603.12270", None)),
        ("0704.0001", ("0704.0001", None)),
        ("astro-ph/0703001v2", ("astro-ph/0703001", 2)),
        ("math.NT/0501001", ("math.NT/0501001", None)),
        ("  2603.12270  ", ("2603.12270", None)),
    ],
)
def test_parse_arxiv_id_reads_ids_labels_and_urls(text: str, expected: tuple[str, int]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1234", "hello", "2603.123", "https://evil.test/abs/2603.12270"]
)
def test_parse_arxiv_id_refuses_what_is_not_an_arxiv_id(text: str) -> None:
    assert parse_arxiv_id(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2403.01234", ("2403.01234", None)),
        ("2403.01234v2", ("2403.01234", 2)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.NT/0501001v3", ("math.NT/0501001", 3)),
        ("https://arxiv.org/abs/2403.01234v2", ("2403.01234", 2)),
        ("1410", ("1410", None)),  # CACM's numbered papers are kept as given
        ("cacm-3193", ("cacm-3193", None)),
        ("doi:10.1145_361002", ("doi:10.1145_361002", None)),
    ],
)
def test_paper_id_of_reads_arxiv_ids_and_keeps_plain_tokens(
    text: str, expected: tuple[str, int | None]
) -> None:
    assert paper_id_of(text) == expected
    assert is_paper_id(expected[0])


@pytest.mark.parametrize(
    "text",
    [
        "../../dev/mailbox",
        "a/b",
        "x?y=1",
        "x#frag",
        "50%2e",
        "a b",
        "2403\x0001234",
        "tab\there",
        ".hidden",
        "..",
        "a..b",
        "-leading",
        "x" * 65,
        "2403.01234v" + "9" * 5000,  # int() of 5,000 digits raises; no paper has that version
        "--/0000000",
        "é",
    ],
)
def test_paper_id_of_refuses_ids_that_are_unsafe_in_a_path(text: str) -> None:
    with pytest.raises(ValueError, match="not usable as a paper id"):
        paper_id_of(text)
    assert not is_paper_id(text)


def test_is_paper_id_wants_the_id_without_its_version() -> None:
    assert is_paper_id("2403.01234") and not is_paper_id("2403.01234v2")
    assert parse_arxiv_id("2403.01234v" + "9" * 5000) is None


def test_status_from_comment_spots_withdrawals() -> None:
    assert status_from_comment("This paper has been withdrawn by the author") == "withdrawn"
    assert status_from_comment("Withdrawn: duplicate of 2401.00001") == "withdrawn"
    assert status_from_comment("12 pages, 5 figures") == PaperStatus.ACTIVE
    assert status_from_comment(None) == PaperStatus.ACTIVE


def test_clean_text_drops_control_characters_and_collapses_space() -> None:
    assert clean_text("  a\x00b\n\n  c\td\x1b ") == "ab c d"


@given(st.text(alphabet=st.sampled_from("ab \u00a0\u3000\u2028\t\n\x00\x1b\u200b é")))
def test_clean_text_is_control_characters_dropped_then_space_collapsed(text: str) -> None:
    # The fast path for clean printable text must give what the general rule gives.
    expected = " ".join(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).split())
    assert clean_text(text) == expected


def test_content_hash_changes_with_the_text_only() -> None:
    base = PaperRecord("2603.1", "Title", "Abstract", authors=("A",))
    assert (
        base.content_hash()
        == PaperRecord("2603.1", "Title", "Abstract", authors=("A",)).content_hash()
    )
    assert (
        base.content_hash()
        != PaperRecord("2603.1", "Title", "Abstract.", authors=("A",)).content_hash()
    )
    assert (
        base.content_hash()
        != PaperRecord("2603.1", "Title", "Abstract", authors=("B",)).content_hash()
    )


def test_import_summary_adds_up() -> None:
    total = ImportSummary(imported=1)
    total.add(ImportSummary(updated=2, unchanged=3, rejected=[Rejected("f:1", "bad")]))
    assert (total.imported, total.updated, total.unchanged, len(total.rejected)) == (1, 2, 3, 1)
    assert total.seen == 7


def test_a_known_content_hash_is_not_a_field_and_never_follows_a_copy() -> None:
    record = PaperRecord("2603.1", "Title", "Abstract").with_digest("0" * 32)
    assert record.content_hash() == "0" * 32
    assert record == PaperRecord("2603.1", "Title", "Abstract")  # not compared
    assert "_digest" not in repr(record)
    # A copy with other text computes its own hash, never the original's.
    changed = dataclasses.replace(record, abstract="Another abstract")
    assert (
        changed.content_hash() == PaperRecord("2603.1", "Title", "Another abstract")._compute_hash()
    )
