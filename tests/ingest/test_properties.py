"""Property tests: arbitrary JSON values and byte strings never stop an import (#9).

Every source's parser gets records that hypothesis makes up, between real ones; whatever they
are, no exception escapes, each is imported or rejected, and the real records around them are
all stored, through `run_ingest` into a real SQLite store.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.db import Database
from paperfeed.db.papers import get_paper
from paperfeed.ingest._fields import RecordError
from paperfeed.ingest._http import PageError, parse_xml
from paperfeed.ingest.arxiv_api import ATOM, parse_feed, record_from_entry
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.ingest.oai_pmh import parse_list_page, record_from_oai
from paperfeed.ingest.snapshot import SnapshotSource
from tests.ingest.conftest import fixture
from tests.ingest.test_snapshot import kaggle_line, sample_records

GOOD = sample_records(3)
SNAPSHOT_KEYS = ["id", "title", "abstract", "authors", "categories", "first_seen", "comment"]
KAGGLE_KEYS = ["versions", "authors_parsed", "update_date", "categories", "comments"]
HF_KEYS = ["id", "title", "abstract", "published", "publishedAt", "upvotes", "authors", "paper"]

# Values known to have stopped imports (#9), mixed in so that a few examples always reach them.
KNOWN_HOSTILE = st.sampled_from(
    [
        "bad \ud800",
        2**64,
        -(2**63) - 1,
        "../../dev/mailbox",
        "2603.00001v99999999999999999999",
        "0001-01-01T00:00:00+01:00",
    ]
)

json_values = st.recursive(
    KNOWN_HOSTILE
    | st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(),  # lone surrogates included
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def records_like(template: dict[str, Any], keys: list[str]) -> st.SearchStrategy[bytes]:
    """A real record with some of its fields replaced by arbitrary JSON values."""
    return st.dictionaries(st.sampled_from(keys), json_values, max_size=4).map(
        lambda changes: _dumps({**template, **changes})
    )


hostile_lines = st.one_of(
    st.sampled_from([b"[" * 200_000, b'{"id": ' + b"9" * 5000 + b"}", b"\xed\xa0\x80"]),
    st.binary(max_size=200).filter(lambda b: b"\n" not in b),
    json_values.map(_dumps),
    records_like(GOOD[0], SNAPSHOT_KEYS),
    records_like(kaggle_line(GOOD[0]), KAGGLE_KEYS + SNAPSHOT_KEYS),
    records_like({"id": "2401.00001", "title": "T", "published": "2024-01-02"}, HF_KEYS),
)


def _import(lines: list[bytes], make_source: Any) -> tuple[Any, Database, Path]:
    folder = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    db.migrate()
    path = folder / "records.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return run_ingest(db, make_source(path), batch_size=3), db, path


def _sandwich(bad: list[bytes], good: list[bytes]) -> list[bytes]:
    lines = []
    for i, line in enumerate(bad):
        lines.append(good[i % len(good)])
        lines.append(line)
    return [*lines, *good]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_lines, min_size=1, max_size=6))
def test_any_snapshot_lines_never_stop_an_import(bad: list[bytes]) -> None:
    good = [_dumps(r) for r in GOOD]
    summary, db, _ = _import(_sandwich(bad, good), SnapshotSource)
    try:
        assert summary.seen >= len(bad) + len(good)
        with db.read() as conn:
            for record in GOOD:
                assert get_paper(conn, record["id"]) is not None
    finally:
        db.dispose()


HF_GOOD = [
    {"id": f"2401.0000{i}", "title": "T", "abstract": "A", "published": "2024-01-02"}
    for i in range(1, 4)
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_lines, min_size=1, max_size=6))
def test_any_hf_daily_lines_never_stop_an_import(bad: list[bytes]) -> None:
    # A first line starting with "[" is read as one JSON array, so a good line leads.
    summary, db, _ = _import(_sandwich(bad, [_dumps(r) for r in HF_GOOD]), HfDailySource)
    try:
        with db.read() as conn:
            for record in HF_GOOD:
                assert get_paper(conn, record["id"]) is not None
        assert summary.imported + summary.unchanged + summary.updated >= len(HF_GOOD)
    finally:
        db.dispose()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_line_bytes_give_a_record_or_a_reason(line: bytes) -> None:
    from paperfeed.ingest.snapshot import record_from_line

    with contextlib.suppress(RecordError):
        record_from_line(line)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")))
def test_any_page_bytes_give_a_page_or_a_page_error(body: bytes) -> None:
    for parse in (parse_feed, parse_list_page):
        with contextlib.suppress(PageError):
            parse(body)


def _entries(body: bytes, tag: str) -> list[Element]:
    return list(parse_xml(body).iter(tag))


ATOM_ENTRY = _entries(fixture("api_page1.xml"), f"{{{ATOM}}}entry")[1]
OAI_RECORD = _entries(fixture("oai_page1.xml"), "{http://www.openarchives.org/OAI/2.0/}record")[0]
xml_text = st.sampled_from(
    [
        "2603.12270v" + "9" * 5000,
        "oai:arXiv.org:2603.12270v" + "9" * 5000,
        "v" + "9" * 5000,
        "0001-01-01T00:00:00+01:00",
        "Mon, 01 Jan 0001 00:00:00 +0100",
        "../../dev/mailbox",
    ]
) | st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]),  # XML cannot carry surrogates
    max_size=60,
)


def _mutated(element: Element, texts: list[str], attributes: list[str]) -> Element:
    copy = parse_xml(_tostring(element))
    nodes = list(copy.iter())
    for i, text in enumerate(texts):
        nodes[(i * 7) % len(nodes)].text = text
    for i, value in enumerate(attributes):
        node = nodes[(i * 5) % len(nodes)]
        for key in list(node.attrib) or ["version"]:
            node.set(key, value)
    return copy


def _tostring(element: Element) -> bytes:
    from xml.etree.ElementTree import tostring

    return tostring(element)


@settings(max_examples=150, deadline=None)
@given(st.lists(xml_text, max_size=8), st.lists(xml_text, max_size=4))
def test_any_atom_entry_text_gives_a_record_or_a_reason(
    texts: list[str], attributes: list[str]
) -> None:
    with contextlib.suppress(RecordError):
        record_from_entry(_mutated(ATOM_ENTRY, texts, attributes))


@settings(max_examples=150, deadline=None)
@given(st.lists(xml_text, max_size=8), st.lists(xml_text, max_size=4))
def test_any_oai_record_text_gives_a_record_or_a_reason(
    texts: list[str], attributes: list[str]
) -> None:
    with contextlib.suppress(RecordError):
        record_from_oai(_mutated(OAI_RECORD, texts, attributes))
