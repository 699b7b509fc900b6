"""Imported libraries on a real store: BibTeX and CSL-JSON entries matched by arXiv id, DOI and
title, unknown papers embedded, hostile files refused whole, and the library steering
recommend() with "from your library" reasons."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from paperfeed.db.library import library_of
from paperfeed.db.schema import papers
from paperfeed.hub import Hub
from paperfeed.recommend import recommend
from paperfeed.recommend.library import (
    MAX_FILE_BYTES,
    LibraryFileError,
    import_library,
    read_library,
)
from paperfeed.recommend.signals import has_signals
from tests.recommend.conftest import PAPERS, WINDOW, ids, make_reader, title_of, topic_of

QUANTUM_WORDS = "quantum qubit error correction surface code gate entanglement decoherence photon"


def bibtex(hub: Hub) -> bytes:
    g0, g1, g2 = ids("graph", old=True)[:3]
    with hub.db.write() as conn:
        conn.execute(update(papers).where(papers.c.paper_id == g1).values(doi="10.1234/Graph.One"))
    return f"""% exported by a reference manager
@article{{first,
  title = {{{title_of(g0)}}},
  eprint = {{{g0}v2}},
  archivePrefix = {{arXiv}},
}}
@inproceedings{{second,
  title = {{Some other title}},
  doi = {{https://doi.org/10.1234/graph.one}},
}}
@misc{{third,
  title = {{{title_of(g2).upper()}.}},
  author = {{M{{\\"u}}ller, A.}},
}}
@article{{unknown,
  title = {{A {{Quantum}} study not in this hub}},
  abstract = {{{QUANTUM_WORDS} {QUANTUM_WORDS}}},
}}
@article{{bare, title = {{No abstract and not here}}}}
@book{{notitle, author = {{Nobody}}}}
""".encode()


def import_(hub: Hub, user_id: int, data: bytes) -> object:
    return import_library(
        db=hub.db,
        search_index=hub.search_index,
        embedder=hub.embedder,
        user_id=user_id,
        data=data,
        source="library.bib",
    )


def test_bibtex_entries_are_matched_embedded_or_skipped_with_reasons(hub: Hub) -> None:
    reader = make_reader(hub, "lib@example.org")
    g0, g1, g2 = ids("graph", old=True)[:3]
    report = import_(hub, reader, bibtex(hub))
    with hub.db.read() as conn:
        stored = library_of(conn, user_id=reader)
    fates = {e.key: (e.status, e.matched_by, e.paper_id, e.note) for e in stored}
    assert fates["first"] == ("matched", "arxiv", g0, None)
    assert fates["second"] == ("matched", "doi", g1, None)
    assert fates["third"] == ("matched", "title", g2, None)
    assert fates["unknown"][0] == "embedded"
    assert fates["bare"] == ("skipped", None, None, "not in this hub, and no abstract to embed")
    assert fates["notitle"] == ("skipped", None, None, "no title")
    assert report.summary() == (  # type: ignore[attr-defined]
        "6 entries: 3 matched to papers here, 1 embedded from their title and abstract, 2 skipped"
    )
    unknown = next(e for e in stored if e.key == "unknown")
    assert unknown.vector is not None and unknown.vector.shape == (256,)
    assert unknown.title == "A Quantum study not in this hub"
    assert has_signals(db=hub.db, user_id=reader)


def test_the_library_steers_recommend_with_its_own_reasons(hub: Hub) -> None:
    reader = make_reader(hub, "lib2@example.org")
    import_(hub, reader, bibtex(hub))
    picks = recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW, limit=24)
    assert picks
    reasons = {p.reason for p in picks}
    assert all(r.startswith("from your library: \u201c") for r in reasons), reasons
    topics = {topic_of(p.paper_id) for p in picks[:20]}
    assert topics == {"graph", "quantum"}  # the embedded quantum entry counts too
    quantum = [p for p in picks if topic_of(p.paper_id) == "quantum"]
    assert {p.reason for p in quantum} == {
        "from your library: \u201cA Quantum study not in this hub\u201d"
    }
    assert not {p.paper_id for p in picks} & set(ids("graph", old=True))  # held already


def test_a_new_import_replaces_the_library_and_an_empty_reader_gets_nothing(hub: Hub) -> None:
    reader = make_reader(hub, "lib3@example.org")
    assert recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW) == []
    import_(hub, reader, bibtex(hub))
    q = ids("quantum", old=True)[0]
    items = [{"id": "only", "title": "x", "URL": f"https://arxiv.org/abs/{q}v1"}]
    report = import_(hub, reader, json.dumps(items).encode())
    assert report.file_format == "csl-json"  # type: ignore[attr-defined]
    with hub.db.read() as conn:
        stored = library_of(conn, user_id=reader)
    assert [(e.key, e.status, e.paper_id) for e in stored] == [("only", "matched", q)]
    picks = recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW, limit=5)
    assert [topic_of(p.paper_id) for p in picks] == ["quantum"] * 5


def test_csl_json_from_zotero_matches_by_doi_of_arxiv_and_number() -> None:
    items = [
        {"id": "a", "type": "article", "title": "A", "DOI": "10.48550/arXiv.2401.01234"},
        {"id": "b", "type": "article", "title": "B", "number": "arXiv:hep-th/9901001v3"},
        {"id": "c", "type": "article", "title": "C", "note": "arXiv: 2312.00042"},
        {"id": "d", "type": "article", "title": "D", "DOI": "10.1000/XYZ", "abstract": "text"},
    ]
    file_format, entries = read_library(json.dumps(items).encode())
    assert file_format == "csl-json"
    assert [e.arxiv_id for e in entries] == ["2401.01234", "hep-th/9901001", "2312.00042", None]
    assert entries[3].doi == "10.1000/xyz" and entries[3].abstract == "text"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"@article{ok, title={Fine}}\n@article{bad, title={Broken\n@misc{after, title={x}}\n",
            "line 2",
        ),
        (b'[{"id": "a", "title": "x"},\n {"id": "b", "title": }]', "line 2, column"),
        (b'[{"id": "a"}, "text"]', "item 2: an item is an object"),
        (b"\xff\xfe@article{x}", "not UTF-8"),
        (b"% nothing here\n", "no entries found"),
        (b"\x00\x01binary", "binary"),
        (b"@a{" * 6_000, "the file has 6,000 entries; at most 5,000"),  # counted before parsing
        (b"@article{x, title={" + b"{" * 100_000 + b"}}", "line 1: cannot read the entry"),
    ],
)
def test_a_malformed_file_is_refused_whole_with_its_line(
    hub: Hub, data: bytes, expected: str
) -> None:
    reader = make_reader(hub, "bad@example.org")
    import_(hub, reader, bibtex(hub))
    with hub.db.read() as conn:
        before = [(e.key, e.status, e.paper_id) for e in library_of(conn, user_id=reader)]
    with pytest.raises(LibraryFileError) as raised:
        import_(hub, reader, data)
    assert expected in str(raised.value)
    with hub.db.read() as conn:
        after = [(e.key, e.status, e.paper_id) for e in library_of(conn, user_id=reader)]
    assert after == before and len(after) == 6  # the old library is kept whole


def test_a_huge_file_is_refused_before_it_is_parsed(hub: Hub) -> None:
    reader = make_reader(hub, "huge@example.org")
    entry = b"@article{k%d, title={A title}, abstract={words words words}}\n"
    huge = b"".join(entry.replace(b"%d", str(i).encode()) for i in range(MAX_FILE_BYTES // 40))
    assert len(huge) > MAX_FILE_BYTES
    with pytest.raises(LibraryFileError, match="at most"):
        import_(hub, reader, huge)
    with hub.db.read() as conn:
        assert library_of(conn, user_id=reader) == []


def test_hostile_titles_are_kept_as_text_and_duplicates_skipped(hub: Hub) -> None:
    reader = make_reader(hub, "xss@example.org")
    data = (
        b'@article{x, title={<script>alert(1)</script> \\& <b>{\\"u}ber</b>},'
        b" abstract={quantum qubit gate}}\n@article{x, title={Again}}\n"
    )
    import_(hub, reader, data)
    with hub.db.read() as conn:
        stored = library_of(conn, user_id=reader)
    assert [(e.title, e.status) for e in stored] == [
        ("<script>alert(1)</script> & <b>\u00fcber</b>", "embedded"),
        ("", "skipped"),
    ]
    assert stored[1].note == "a second entry with key 'x'"
    assert len(PAPERS) == 54


def test_ris_records_are_read_and_an_unclosed_one_is_refused_with_its_line(hub: Hub) -> None:
    g0 = ids("graph", old=True)[0]
    ris = (
        f"TY  - JOUR\nTI  - Anything\nUR  - https://arxiv.org/abs/{g0}\nID  - one\nER  - \n\n"
        f"TY  - JOUR\nT1  - Entangled\nN2  - {QUANTUM_WORDS}\nDO  - 10.1000/Q\nER  - \n"
    )
    file_format, entries = read_library(ris.encode())
    assert file_format == "ris"
    assert [(e.key, e.line, e.arxiv_id, e.doi) for e in entries] == [
        ("one", 1, g0, None),
        ("record 2", 7, None, "10.1000/q"),
    ]
    assert entries[1].title == "Entangled" and entries[1].abstract == QUANTUM_WORDS
    reader = make_reader(hub, "ris@example.org")
    report = import_(hub, reader, ris.encode())
    assert report.summary() == (  # type: ignore[attr-defined]
        "2 entries: 1 matched to papers here, 1 embedded from their title and abstract, 0 skipped"
    )
    unclosed = ris + "\nTY  - JOUR\nTI  - Cut off\n"
    with pytest.raises(LibraryFileError, match="line 13: a record with no closing 'ER  -' line"):
        read_library(unclosed.encode())
