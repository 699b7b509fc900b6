"""Tests of the pure domain helpers in models.py."""

import pytest

from paperfeed.models import (
    ImportSummary,
    PaperRecord,
    PaperStatus,
    Rejected,
    clean_text,
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


def test_status_from_comment_spots_withdrawals() -> None:
    assert status_from_comment("This paper has been withdrawn by the author") == "withdrawn"
    assert status_from_comment("Withdrawn: duplicate of 2401.00001") == "withdrawn"
    assert status_from_comment("12 pages, 5 figures") == PaperStatus.ACTIVE
    assert status_from_comment(None) == PaperStatus.ACTIVE


def test_clean_text_drops_control_characters_and_collapses_space() -> None:
    assert clean_text("  a\x00b\n\n  c\td\x1b ") == "ab c d"


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
