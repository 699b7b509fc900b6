"""Citations of papers: BibTeX entries and CSL-JSON items, pure formatting with no I/O.

Every face exports through here (the pages' Cite links, `/api/export`, `paperfeed export`), so
one paper gets the same key and the same entry everywhere. See docs/api.md ("Export").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paperfeed.models import PaperRecord, clean_text, parse_arxiv_id

# TeX's special characters, each written so that it typesets as itself and cannot open a
# group, a comment, math or a macro: `\` and braces first, so nothing added is escaped twice.
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# A Latin letter with one accent becomes the accent's macro around the plain letter, so classic
# BibTeX (which counts bytes) sorts and abbreviates it right; other characters stay UTF-8.
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
}
_LETTERS = {
    "ß": r"{\ss}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "ı": r"{\i}",
}
# For keys: letters NFKD does not take apart.
_KEY_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"}
)  # fmt: skip
# Words a key skips at the start of a title (Google Scholar's keys do the same).
_STOP_WORDS = frozenset(
    ["a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards", "toward", "via",
     "from", "is", "are", "do", "does", "how", "what", "why", "when", "can", "we", "beyond"]
)  # fmt: skip
_NON_KEY = re.compile(r"[^a-z0-9]+")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(?:collaboration|consortium|team|group|project)\b", re.IGNORECASE)
MAX_KEY_PART = 24


def latex_escape(text: str) -> str:
    """Write `text` for a BibTeX field: specials escaped, accented letters as macros."""
    out: list[str] = []
    for char in clean_text(text):
        if char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char.isascii():
            out.append(char)
        elif char in _LETTERS:
            out.append(_LETTERS[char])
        else:
            out.append(_accented(char))
    return "".join(out)


def _accented(char: str) -> str:
    parts = unicodedata.normalize("NFD", char)
    if len(parts) == 2 and parts[0].isascii() and parts[0].isalpha() and parts[1] in _ACCENTS:
        return "{\\" + _ACCENTS[parts[1]] + "{" + parts[0] + "}}"
    return char


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_KEY_LETTERS))
    return _NON_KEY.sub("", folded.encode("ascii", "ignore").decode().lower())


def _family_name(author: str) -> str:
    name = clean_text(author)
    if "," in name:  # "Family, Given"
        return name.split(",", 1)[0]
    words = name.split()
    return words[-1] if words else ""


def _year(paper: PaperRecord) -> int | None:
    moment = paper.submitted or paper.announced
    return moment.year if moment is not None else None


def base_key(paper: PaperRecord) -> str:
    """The key before de-duplication: first author's family name, year, first title word.

    `vaswani2017attention`, in ASCII letters and digits; `anon` without authors.
    """
    authors = [a for a in paper.authors or () if _ascii_word(a)]
    family = _ascii_word(_family_name(authors[0]))[:MAX_KEY_PART] if authors else ""
    words = (_ascii_word(word) for word in clean_text(paper.title).split())
    first = next((w for w in words if w and w not in _STOP_WORDS), "")[:MAX_KEY_PART]
    year = _year(paper)
    return f"{family or 'anon'}{year or ''}{first}"


def citation_keys(papers: Sequence[PaperRecord]) -> list[str]:
    """One key per paper, in order; a repeated key gets `a`, `b`, … (`smith2024deep`,
    `smith2024deepa`), so an export's keys are unique and the same for the same list."""
    used: set[str] = set()
    keys: list[str] = []
    for paper in papers:
        key = base = base_key(paper)
        n = 0
        while key in used:
            key = base + _suffix(n)
            n += 1
        used.add(key)
        keys.append(key)
    return keys


def _suffix(n: int) -> str:
    # a, b, …, z, aa, ab, …: spreadsheet columns.
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _bibtex_author(name: str) -> str:
    text = latex_escape(name)
    # "and" inside a name would split it; an organisation's name is not "Given Family".
    if _AND.search(text) or text.count(",") > 1 or _GROUP.search(text):
        return "{" + text + "}"
    return text


def bibtex_entry(paper: PaperRecord, key: str, annote: str = "") -> str:
    """One `@misc` entry (arXiv's own shape: eprint, archivePrefix, primaryClass, url), with a
    reader's note on it as `annote` when given."""
    fields: list[tuple[str, str]] = [
        ("title", latex_escape(paper.title) or "Untitled"),
    ]
    authors = [a for a in (clean_text(a) for a in paper.authors or ()) if a]
    if authors:
        fields.append(("author", " and ".join(_bibtex_author(a) for a in authors)))
    year = _year(paper)
    if year is not None:
        fields.append(("year", str(year)))
    arxiv = parse_arxiv_id(paper.paper_id)
    if arxiv is not None:
        fields.append(("eprint", arxiv[0]))
        fields.append(("archivePrefix", "arXiv"))
        # arXiv lists the primary category first when a source does not name it.
        primary = paper.primary_category or next(iter(paper.categories or ()), None)
        if primary:
            fields.append(("primaryClass", latex_escape(primary)))
        fields.append(("url", f"https://arxiv.org/abs/{arxiv[0]}"))
    if paper.doi:
        fields.append(("doi", latex_escape(paper.doi)))
    if paper.journal_ref:
        fields.append(("note", latex_escape(paper.journal_ref)))
    if annote.strip():
        fields.append(("annote", latex_escape(annote)))
    width = max(len(name) for name, _ in fields)
    lines = [f"  {name.ljust(width)} = {{{value}}}," for name, value in fields]
    return "@misc{" + key + ",\n" + "\n".join(lines) + "\n}\n"


def bibtex(papers: Sequence[PaperRecord], notes: Mapping[str, str] | None = None) -> str:
    """A BibTeX file of `papers`, in order, with unique keys (and `notes` by paper id as
    `annote` fields)."""
    notes = notes or {}
    return "\n".join(
        bibtex_entry(paper, key, notes.get(paper.paper_id, ""))
        for paper, key in zip(papers, citation_keys(papers), strict=True)
    )


def _csl_name(author: str) -> dict[str, str]:
    name = clean_text(author)
    if "," in name and name.count(",") == 1:
        family, given = (part.strip() for part in name.split(",", 1))
        return {"family": family, "given": given} if given else {"literal": family}
    words = name.split()
    if len(words) < 2 or _AND.search(name) or _GROUP.search(name):
        return {"literal": name}
    return {"family": words[-1], "given": " ".join(words[:-1])}


def csl_item(paper: PaperRecord, key: str, annote: str = "") -> dict[str, Any]:
    """One CSL-JSON item (Citation Style Language 1.0.2), as Zotero writes an arXiv preprint,
    with a reader's note as `annote` when given."""
    item: dict[str, Any] = {"id": key, "type": "article", "title": clean_text(paper.title)}
    authors = [clean_text(a) for a in paper.authors or () if clean_text(a)]
    if authors:
        item["author"] = [_csl_name(a) for a in authors]
    moment = paper.submitted or paper.announced
    if moment is not None:
        item["issued"] = {"date-parts": [[moment.year, moment.month, moment.day]]}
    arxiv = parse_arxiv_id(paper.paper_id)
    if arxiv is not None:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{arxiv[0]}"
        item["URL"] = f"https://arxiv.org/abs/{arxiv[0]}"
        # arXiv's own DOI (DataCite) unless the paper names its journal's.
        item["DOI"] = paper.doi or f"10.48550/arXiv.{arxiv[0]}"
    elif paper.doi:
        item["DOI"] = paper.doi
    if paper.abstract:
        item["abstract"] = clean_text(paper.abstract)
    if paper.categories:
        item["keyword"] = ", ".join(paper.categories)
    if paper.journal_ref:
        item["note"] = clean_text(paper.journal_ref)
    if annote.strip():
        item["annote"] = annote.strip()
    return item


def csl_json(
    papers: Sequence[PaperRecord], notes: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """CSL-JSON items of `papers`, in order, with the same ids as the BibTeX keys (and `notes`
    by paper id as `annote`)."""
    notes = notes or {}
    return [
        csl_item(paper, key, notes.get(paper.paper_id, ""))
        for paper, key in zip(papers, citation_keys(papers), strict=True)
    ]


def unique(papers: Iterable[PaperRecord]) -> list[PaperRecord]:
    """`papers` without repeats (the first of each id), in order."""
    seen: set[str] = set()
    kept = []
    for paper in papers:
        if paper.paper_id not in seen:
            seen.add(paper.paper_id)
            kept.append(paper)
    return kept
