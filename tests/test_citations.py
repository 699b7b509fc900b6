"""BibTeX and CSL-JSON of papers: parsed back by bibtexparser, stable keys, TeX escaped."""

from __future__ import annotations

import datetime as dt
import json
import re

import bibtexparser
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text

from paperfeed.citations import (
    base_key,
    bibtex,
    bibtex_entry,
    citation_keys,
    csl_json,
    latex_escape,
    unique,
)
from paperfeed.models import PaperRecord, clean_text
from tests.web.xss_corpus import ALL, PAYLOADS

ATTENTION = PaperRecord(
    paper_id="1706.03762",
    title="Attention Is All You Need",
    abstract="The dominant sequence transduction models ...",
    version=7,
    authors=("Ashish Vaswani", "Noam Shazeer", "Niki Parmar"),
    categories=("cs.CL", "cs.LG"),
    primary_category="cs.CL",
    submitted=dt.datetime(2017, 6, 12, 17, 57, 34),
)
_TEXT = LatexNodes2Text(math_mode="verbatim")


def parse(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def fields(entry: bibtexparser.model.Entry) -> dict[str, str]:
    return {name: field.value for name, field in entry.fields_dict.items()}


def decoded(value: str) -> str:
    """What TeX typesets for a field value (pylatexenc writes `\\textasciicircum` as U+02C6)."""
    return " ".join(_TEXT.latex_to_text(value).replace("\u02c6", "^").split())


def test_an_arxiv_paper_is_a_misc_entry_with_eprint_fields() -> None:
    library = parse(bibtex([ATTENTION]))
    [entry] = library.entries
    assert entry.entry_type == "misc"
    assert entry.key == "vaswani2017attention"
    assert fields(entry) == {
        "title": "Attention Is All You Need",
        "author": "Ashish Vaswani and Noam Shazeer and Niki Parmar",
        "year": "2017",
        "eprint": "1706.03762",
        "archivePrefix": "arXiv",
        "primaryClass": "cs.CL",
        "url": "https://arxiv.org/abs/1706.03762",
    }


def test_without_a_primary_category_the_first_listed_is_the_primary_class() -> None:
    paper = PaperRecord(
        paper_id="2401.00009", title="T", abstract="", categories=("cs.CV", "cs.LG")
    )
    [entry] = parse(bibtex([paper])).entries
    assert fields(entry)["primaryClass"] == "cs.CV"
    [bare] = parse(bibtex([PaperRecord(paper_id="2401.00008", title="T", abstract="")])).entries
    assert "primaryClass" not in fields(bare) and fields(bare)["eprint"] == "2401.00008"


def test_a_paper_that_is_not_on_arxiv_has_no_eprint_but_keeps_its_doi() -> None:
    paper = PaperRecord(
        paper_id="cacm-1234",
        title="Go To Statement Considered Harmful",
        abstract="",
        authors=("Edsger W. Dijkstra",),
        announced=dt.date(1968, 3, 1),
        doi="10.1145/362929.362947",
        journal_ref="Commun. ACM 11(3) 147-148",
    )
    [entry] = parse(bibtex([paper])).entries
    assert entry.key == "dijkstra1968go"
    values = fields(entry)
    assert "eprint" not in values and "archivePrefix" not in values
    assert values["doi"] == "10.1145/362929.362947"
    assert values["note"] == "Commun. ACM 11(3) 147-148"


def test_keys_of_papers_alike_get_letters_in_order() -> None:
    papers = [
        ATTENTION,
        PaperRecord(paper_id="1706.00001", title="Attention again", abstract="",
                    authors=("A. Vaswani",), submitted=dt.datetime(2017, 1, 1)),
        PaperRecord(paper_id="1706.00002", title="The attention", abstract="",
                    authors=("Vaswani, Ashish",), submitted=dt.datetime(2017, 1, 1)),
    ]  # fmt: skip
    assert citation_keys(papers) == [
        "vaswani2017attention",
        "vaswani2017attentiona",
        "vaswani2017attentionb",
    ]
    # The same list gives the same keys; a paper's own key does not depend on the others.
    assert citation_keys(papers) == citation_keys(list(papers))
    assert citation_keys(papers[1:]) == ["vaswani2017attention", "vaswani2017attentiona"]
    library = parse(bibtex(papers))
    assert [e.key for e in library.entries] == citation_keys(papers)


def test_keys_fold_accents_and_fall_back_when_there_is_nothing_to_use() -> None:
    paper = PaperRecord(
        paper_id="2401.00001",
        title="Über die Ähnlichkeit",
        abstract="",
        authors=("Søren Kierkegård-Łukasz",),
        announced=dt.date(2024, 1, 2),
    )
    assert base_key(paper) == "kierkegardlukasz2024uber"
    bare = PaperRecord(paper_id="2401.00002", title="", abstract="")
    assert base_key(bare) == "anon"
    assert citation_keys([bare, bare, bare]) == ["anon", "anona", "anonb"]


def test_many_repeats_run_past_z() -> None:
    bare = PaperRecord(paper_id="x1", title="", abstract="")
    keys = citation_keys([bare] * 30)
    assert len(set(keys)) == 30
    assert keys[26:29] == ["anonz", "anonaa", "anonab"]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("R&D 100% $5 #1 a_b {x} ~y ^z \\w", r"R\&D 100\% \$5 \#1 a\_b \{x\} \textasciitilde{}y "
                                          r"\textasciicircum{}z \textbackslash{}w"),
        ("Poincaré façade Gödel Erdős Dvořák", r"Poincar{\'{e}} fa{\c{c}}ade G{\"{o}}del "
                                               r"Erd{\H{o}}s Dvo{\v{r}}{\'{a}}k"),
        ("Straße Łódź Ørsted", r"Stra{\ss}e {\L}{\'{o}}d{\'{z}} {\O}rsted"),
        ("Graph 图 Ω", "Graph 图 Ω"),
        ("line\x00break\n\tand  spaces", "linebreak and spaces"),
    ],
)  # fmt: skip
def test_latex_escape(text: str, escaped: str) -> None:
    assert latex_escape(text) == escaped
    assert decoded(escaped) == clean_text(text)


def test_an_author_named_with_and_stays_one_author() -> None:
    paper = PaperRecord(
        paper_id="2401.00003",
        title="T",
        abstract="",
        authors=("Simon and Garfunkel", "The ATLAS Collaboration", "Jane Doe"),
    )
    entry = bibtex_entry(paper, "k")
    [parsed] = parse(entry).entries
    assert fields(parsed)["author"] == (
        "{Simon and Garfunkel} and {The ATLAS Collaboration} and Jane Doe"
    )
    [item] = csl_json([paper])
    assert item["author"] == [
        {"literal": "Simon and Garfunkel"},
        {"literal": "The ATLAS Collaboration"},
        {"family": "Doe", "given": "Jane"},
    ]


def test_hostile_titles_and_authors_stay_inside_their_fields() -> None:
    paper = PaperRecord(
        paper_id="2603.66666",
        title=f"Attack $a<b$ {ALL} }} @misc{{evil, title={{x}}}} \\input{{/etc/passwd}} %",
        abstract=ALL,
        authors=(*PAYLOADS[:4], "} and {x"),
        primary_category="cs.CR",
        journal_ref=PAYLOADS[4],
    )
    text = bibtex([paper, ATTENTION])
    library = parse(text)
    hostile, attention = library.entries
    assert re.fullmatch(r"[a-z0-9]+attack", hostile.key)  # letters and digits only
    assert attention.key == "vaswani2017attention"
    title = fields(hostile)["title"]
    assert decoded(title) == clean_text(paper.title)
    assert "\\input" not in text and "%" not in text.replace("\\%", "")
    assert "<script>" in text  # BibTeX is plain text: HTML is served as text/x-bibtex, inert
    # One entry per paper: the hostile braces opened nothing.
    assert text.count("@misc{") == 2


def test_csl_json_of_an_arxiv_paper() -> None:
    [item] = csl_json([ATTENTION])
    assert item == {
        "id": "vaswani2017attention",
        "type": "article",
        "title": "Attention Is All You Need",
        "author": [
            {"family": "Vaswani", "given": "Ashish"},
            {"family": "Shazeer", "given": "Noam"},
            {"family": "Parmar", "given": "Niki"},
        ],
        "issued": {"date-parts": [[2017, 6, 12]]},
        "publisher": "arXiv",
        "number": "arXiv:1706.03762",
        "URL": "https://arxiv.org/abs/1706.03762",
        "DOI": "10.48550/arXiv.1706.03762",
        "abstract": "The dominant sequence transduction models ...",
        "keyword": "cs.CL, cs.LG",
    }
    json.dumps(item)  # serialisable as it is


def test_unique_keeps_the_first_of_each_paper() -> None:
    assert unique([ATTENTION, ATTENTION]) == [ATTENTION]


# Hypothesis: any title and authors, even TeX, BibTeX syntax and control characters.
_TRICKY = st.sampled_from([*"\\{}&%$#_~^@,=\"'`() \n\tàéîõüçøßŁ图Ω\x00\x7f", "and"])
_TEXTS = st.lists(st.one_of(st.text(max_size=8), _TRICKY), max_size=12).map("".join)


@given(title=_TEXTS, authors=st.lists(_TEXTS, max_size=4))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bibtexparser_reads_every_entry_back_with_the_same_title(
    title: str, authors: list[str]
) -> None:
    # pylatexenc turns TeX's ligatures into typographic characters, as TeX itself would.
    for ligature in ("--", "``", "''", "?`", "!`", "\u02c6"):
        assume(ligature not in clean_text(title))
    paper = PaperRecord(paper_id="2401.00001", title=title, abstract="", authors=tuple(authors))
    library = parse(bibtex([paper, ATTENTION]))
    assert len(library.entries) == 2
    entry, attention = library.entries
    assert attention.key == "vaswani2017attention"
    values = fields(entry)
    assert values["title"] == (latex_escape(title) or "Untitled")
    assert decoded(values["title"]) == (clean_text(title) or "Untitled")
    named = [a for a in (clean_text(a) for a in authors) if a]
    assert ("author" in values) == bool(named)
    [item] = csl_json([paper])
    assert item["title"] == clean_text(title)
