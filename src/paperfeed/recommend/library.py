"""A reader's imported library: BibTeX, CSL-JSON or RIS files (what Zotero, Mendeley and
Paperpile export) read into entries, matched to the store's papers, and turned into For you seeds.

- **Read.** BibTeX through `bibtexparser` (LaTeX in titles decoded by `pylatexenc`), CSL-JSON
  through `json`, RIS through `rispy`. A file that is not UTF-8, too large, or has a block the
  parser cannot read is refused whole with every problem and its line (`LibraryFileError`);
  nothing is stored.
- **Match**, in this order: the arXiv id (an `eprint`, an arxiv.org URL, a DOI 10.48550/arXiv.*,
  or "arXiv:ID" in any field), then the DOI, then the exact title (`title_key`: spaces, case and a
  final period do not count).
- **Embed.** An entry the hub does not hold but that has a title and an abstract is embedded with
  the hub's embedder (the first `MAX_EMBEDDED` of them), so it still steers recommendations.
- **Skip** the rest, each with its reason.

`library_seeds` gives `recommend()` the library as seeds ("from your library: “Title”"), so every
face of For you (page, API, private feed, digest) sees it through the one function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import rispy  # type: ignore[import-untyped]
from bibtexparser.entrypoint import parse_string
from bibtexparser.model import DuplicateBlockKeyBlock
from pylatexenc.latex2text import LatexNodes2Text  # type: ignore[import-untyped]

from paperfeed.db import Database
from paperfeed.db.library import (
    LibraryInfo,
    StoredEntry,
    delete_library,
    has_library,
    library_info,
    library_of,
    papers_by_doi,
    papers_by_id,
    replace_library,
)
from paperfeed.db.papers import get_words
from paperfeed.search.embedder import Embedder, embedding_text
from paperfeed.search.facets import title_key
from paperfeed.search.index import SearchIndex

# Bounds on what one import may cost: the file, its entries, and the entries embedded.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_EMBEDDED = 500
# At most this many library entries become seeds of one ranking (matched papers first).
MAX_SEEDS = 500
# A library entry weighs as much as one upvote.
LIBRARY_WEIGHT = 1.0
# Problems listed in an error message at most.
MAX_PROBLEMS = 20
MAX_TITLE = 1_000
MAX_ABSTRACT = 10_000

_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?"
# "arXiv:2401.00001", "arXiv 2401.00001", "10.48550/arXiv.2401.00001", arxiv.org/abs|pdf/ID.
_ARXIV_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf)/|\barxiv[:.\s]\s*){_ARXIV_ID}", re.IGNORECASE
)
_ARXIV_ALONE = re.compile(rf"\s*(?:arxiv:\s*)?{_ARXIV_ID}\s*", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
# Where a BibTeX block starts: counted before parsing, so a flood of blocks is refused cheaply.
_BLOCK_START = re.compile(r"@\s*[A-Za-z]+\s*[{(]")
_LATEX = LatexNodes2Text()


class LibraryFileError(ValueError):
    """The file cannot be imported; `problems` says where and why (nothing was stored)."""

    def __init__(self, problems: Sequence[str]) -> None:
        shown = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS} more")
        super().__init__("This library file cannot be imported:\n" + "\n".join(shown))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One entry of a library file, as read: what matching and embedding need."""

    key: str
    line: int | None
    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    doi: str | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: each entry's fate, in file order."""

    source: str
    file_format: str
    entries: list[StoredEntry] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def matched(self) -> int:
        return self.count("matched")

    @property
    def embedded(self) -> int:
        return self.count("embedded")

    @property
    def skipped(self) -> list[StoredEntry]:
        return [e for e in self.entries if e.status == "skipped"]

    def summary(self) -> str:
        return (
            f"{len(self.entries)} entries: {self.matched} matched to papers here, "
            f"{self.embedded} embedded from their title and abstract, "
            f"{len(self.skipped)} skipped"
        )


def _clean(value: object, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return " ".join(text.replace("{", "").replace("}", "").split())[:limit]


def arxiv_id_of(fields: dict[str, str], *, strict: Sequence[str]) -> str | None:
    """The arXiv id (no version) that fields name: a `strict` field holding just an id (an
    `eprint`), or an arXiv URL, DOI or "arXiv:ID" in any field."""
    for name in strict:
        value = fields.get(name, "")
        if (alone := _ARXIV_ALONE.fullmatch(value)) is not None:
            return alone.group(1)
    for value in fields.values():
        if (found := _ARXIV_IN_TEXT.search(value)) is not None:
            return found.group(1)
    return None


def doi_of(value: str) -> str | None:
    """The DOI in a field (a bare DOI, doi:…, or a doi.org URL), lower-cased."""
    found = _DOI.search(value)
    return found.group(1).rstrip(".,;").lower() if found else None


def latex_title(raw: str) -> str:
    """A BibTeX title as text: LaTeX accents and commands decoded (`{\\"u}` is ü), braces gone.
    Only titles are decoded: decoding whole entries costs ~10 ms each (pylatexenc)."""
    raw = raw[: 2 * MAX_TITLE]
    try:
        return _clean(_LATEX.latex_to_text(raw), MAX_TITLE)
    except Exception:  # pylatexenc is tolerant; anything else it raises, keep the raw text
        return _clean(raw, MAX_TITLE)


def _entry(
    key: str, line: int | None, fields: dict[str, str], strict: Sequence[str]
) -> LibraryEntry:
    doi = doi_of(fields.get("doi", "")) or doi_of(fields.get("url", ""))
    return LibraryEntry(
        key=key,
        line=line,
        title=_clean(fields.get("title"), MAX_TITLE),
        abstract=_clean(fields.get("abstract"), MAX_ABSTRACT),
        arxiv_id=arxiv_id_of(fields, strict=strict),
        doi=doi,
    )


def read_bibtex(text: str) -> list[LibraryEntry]:
    """The entries of a BibTeX file; `LibraryFileError` listing every block that cannot be read."""
    blocks = len(_BLOCK_START.findall(text))
    if blocks > MAX_ENTRIES:
        raise LibraryFileError(
            [f"the file has {blocks:,} entries; at most {MAX_ENTRIES:,} are imported"]
        )
    library = parse_string(text)
    problems = []
    found: list[LibraryEntry] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            continue
        raw = (block.raw or "").strip()
        first = raw.splitlines()[0][:80] if raw else ""
        problems.append(f"line {line}: cannot read the entry starting {first!r}")
    if problems:
        raise LibraryFileError(problems)
    for entry in library.entries:
        fields = {
            f.key.lower(): f.value if isinstance(f.value, str) else str(f.value)
            for f in entry.fields
        }
        fields["title"] = latex_title(fields.get("title", ""))
        found.append(_entry(entry.key, (entry.start_line or 0) + 1, fields, ("eprint",)))
    duplicates = [b for b in library.failed_blocks if isinstance(b, DuplicateBlockKeyBlock)]
    for block in duplicates:
        found.append(
            LibraryEntry(
                key=block.key, line=(block.start_line or 0) + 1, title="", duplicate_of=block.key
            )
        )
    found.sort(key=lambda e: e.line or 0)
    return found


def _csl_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return ""


def read_csl_json(text: str) -> list[LibraryEntry]:
    """The items of a CSL-JSON file (a list of objects, or one object)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LibraryFileError([f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise LibraryFileError(["line 1: CSL-JSON is a list of items (objects)"])
    problems = [
        f"item {i + 1}: an item is an object, not {type(item).__name__}"
        for i, item in enumerate(items)
        if not isinstance(item, dict)
    ]
    if problems:
        raise LibraryFileError(problems)
    found = []
    for i, item in enumerate(items):
        fields = {str(k).lower(): _csl_text(v) for k, v in item.items()}
        key = fields.get("id") or fields.get("citation-key") or f"item {i + 1}"
        found.append(_entry(key, None, fields, ("number", "archive_location")))
    return found


_RIS_START = re.compile(r"^TY  -", re.MULTILINE)
_RIS_END = re.compile(r"^ER  -", re.MULTILINE)


def read_ris(text: str) -> list[LibraryEntry]:
    """The records of a RIS file (`rispy`); a record without its closing ER line is refused with
    its line (rispy would drop it silently)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _RIS_START.match(line)]
    problems = []
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        if not any(_RIS_END.match(line) for line in lines[start:stop]):
            problems.append(f"line {start + 1}: a record with no closing 'ER  -' line")
    if problems:
        raise LibraryFileError(problems)
    try:
        records = rispy.loads(text)
    except Exception as exc:  # rispy raises plain exceptions on tags it cannot place
        raise LibraryFileError([f"cannot read the RIS file: {exc}"]) from None
    found = []
    for i, (record, start) in enumerate(zip(records, starts, strict=False)):
        fields = {
            str(k).lower(): " ".join(map(str, v)) if isinstance(v, list) else _csl_text(v)
            for k, v in record.items()
        }
        fields["title"] = fields.get("title") or fields.get("primary_title", "")
        fields["abstract"] = fields.get("abstract") or fields.get("notes_abstract", "")
        fields["url"] = fields.get("urls", "")
        key = fields.get("id") or f"record {i + 1}"
        found.append(_entry(key, start + 1, fields, ()))
    return found


def read_library(data: bytes) -> tuple[str, list[LibraryEntry]]:
    """(format, entries) of a library file's bytes: CSL-JSON when it starts with [ or {, RIS
    when with "TY  -", else BibTeX. `LibraryFileError` when it is too large, not UTF-8,
    malformed or has too many entries."""
    if len(data) > MAX_FILE_BYTES:
        raise LibraryFileError(
            [f"the file has {len(data):,} bytes; at most {MAX_FILE_BYTES:,} are imported"]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LibraryFileError([f"line {line}: not UTF-8 text (byte {exc.start})"]) from None
    if "\x00" in text:
        raise LibraryFileError(["the file is binary (it holds NUL bytes), not BibTeX or JSON"])
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        file_format, entries = "csl-json", read_csl_json(text)
    elif stripped.startswith("TY  -"):
        if len(_RIS_START.findall(text)) > MAX_ENTRIES:
            raise LibraryFileError([f"the file has more than {MAX_ENTRIES:,} records"])
        file_format, entries = "ris", read_ris(text)
    else:
        file_format, entries = "bibtex", read_bibtex(text)
    if len(entries) > MAX_ENTRIES:
        raise LibraryFileError(
            [f"the file has {len(entries):,} entries; at most {MAX_ENTRIES:,} are imported"]
        )
    if not entries:
        raise LibraryFileError([f"no entries found (read as {file_format})"])
    return file_format, entries


def match_entries(
    db: Database,
    search_index: SearchIndex,
    embedder: Embedder | None,
    entries: Sequence[LibraryEntry],
) -> list[StoredEntry]:
    """Each entry's fate: matched (arXiv id, DOI, title), embedded, or skipped with why."""
    with db.read() as conn:
        by_id = papers_by_id(conn, [e.arxiv_id for e in entries if e.arxiv_id])
        by_doi = papers_by_doi(conn, [e.doi for e in entries if e.doi])
    search_index.ensure_fresh()
    titles = search_index.titles
    fates: list[StoredEntry | None] = []
    to_embed: list[int] = []
    seen: dict[str, int] = {}
    for position, e in enumerate(entries, start=1):
        if e.duplicate_of is not None:
            fates.append(
                StoredEntry(
                    position, e.key, e.title, "skipped", note=f"a second entry with key {e.key!r}"
                )
            )
            continue
        paper: tuple[str, str] | None = None
        how = None
        if e.arxiv_id and e.arxiv_id in by_id:
            paper, how = (e.arxiv_id, by_id[e.arxiv_id]), "arxiv"
        elif e.doi and e.doi in by_doi:
            paper, how = by_doi[e.doi], "doi"
        elif e.title and (pid := titles.get(title_key(e.title))) is not None:
            with db.read() as conn:
                paper, how = (pid, papers_by_id(conn, [pid]).get(pid, e.title)), "title"
        if paper is not None:
            pid, title = paper
            if pid in seen:
                note = f"the same paper as entry {seen[pid]}"
                fates.append(StoredEntry(position, e.key, title, "skipped", note=note))
            else:
                seen[pid] = position
                fates.append(StoredEntry(position, e.key, title, "matched", how, pid))  # type: ignore[arg-type]
            continue
        if not e.title:
            fates.append(StoredEntry(position, e.key, "", "skipped", note="no title"))
        elif not e.abstract:
            note = "not in this hub, and no abstract to embed"
            fates.append(StoredEntry(position, e.key, e.title, "skipped", note=note))
        elif embedder is None:
            note = "not in this hub, and this hub embeds nothing (semantic search is off)"
            fates.append(StoredEntry(position, e.key, e.title, "skipped", note=note))
        elif len(to_embed) >= MAX_EMBEDDED:
            note = f"not in this hub, and {MAX_EMBEDDED} entries were embedded already"
            fates.append(StoredEntry(position, e.key, e.title, "skipped", note=note))
        else:
            to_embed.append(position - 1)
            fates.append(None)
    if to_embed and embedder is not None:
        texts = [
            embedding_text(title=entries[i].title, abstract=entries[i].abstract) for i in to_embed
        ]
        vectors = embedder.embed(texts)
        for i, vector in zip(to_embed, vectors, strict=True):
            e = entries[i]
            fates[i] = StoredEntry(
                i + 1,
                e.key,
                e.title,
                "embedded",
                model_id=embedder.model_id,
                vector=np.asarray(vector, dtype=np.float32),
            )
    return [f for f in fates if f is not None]


def import_library(
    *,
    db: Database,
    search_index: SearchIndex,
    embedder: Embedder | None,
    user_id: int,
    data: bytes,
    source: str,
) -> ImportReport:
    """Read, match and embed a library file and store it as the reader's library (replacing
    theirs) in one transaction; `LibraryFileError` stores nothing."""
    file_format, entries = read_library(data)
    fates = match_entries(db, search_index, embedder, entries)
    with db.write() as conn:
        replace_library(
            conn, user_id=user_id, source=source, file_format=file_format, entries=fates
        )
    return ImportReport(source, file_format, fates)


def library_summary(*, db: Database, user_id: int) -> LibraryInfo | None:
    with db.read() as conn:
        return library_info(conn, user_id=user_id)


def forget_library(*, db: Database, user_id: int) -> bool:
    with db.write() as conn:
        return delete_library(conn, user_id=user_id)


def show_library(*, db: Database, user_id: int) -> tuple[LibraryInfo | None, list[StoredEntry]]:
    with db.read() as conn:
        return library_info(conn, user_id=user_id), library_of(conn, user_id=user_id)


def reader_has_library(*, db: Database, user_id: int) -> bool:
    with db.read() as conn:
        return has_library(conn, user_id=user_id)


@dataclass(frozen=True, slots=True)
class LibrarySeeds:
    """A reader's library as `recommend()` uses it: the matched papers (kept out of the picks)
    and one vector per usable entry with its reason and its words (a matched paper's title,
    abstract and keywords, an embedded entry's title) for the exact-term evidence."""

    paper_ids: list[str]
    vectors: npt.NDArray[np.float32]
    reasons: list[str]
    texts: list[str] = field(default_factory=list)


def library_reason(title: str) -> str:
    return f"from your library: \u201c{title}\u201d"


def library_seeds(db: Database, search_index: SearchIndex, *, user_id: int) -> LibrarySeeds:
    """The reader's library entries that can steer a ranking (at most `MAX_SEEDS`, matched
    papers with a vector first, then embedded entries of the search index's model)."""
    with db.read() as conn:
        entries = library_of(conn, user_id=user_id, statuses=("matched", "embedded"))
    contract = search_index.contract
    matched = [e for e in entries if e.status == "matched" and e.paper_id]
    rows: list[npt.NDArray[np.float32]] = []
    reasons: list[str] = []
    texts: list[str] = []
    if matched and search_index.vectors is not None:
        by_id = {e.paper_id: e for e in matched if e.paper_id}
        found, matrix = search_index.vectors.vectors_of(list(by_id))
        with db.read() as conn:
            stored = get_words(conn, found[:MAX_SEEDS])
        for pid, vector in zip(found, matrix, strict=True):
            rows.append(vector)
            reasons.append(library_reason(by_id[pid].title))
            texts.append(stored.get(pid, by_id[pid].title))
    for e in entries:
        if (
            e.status == "embedded"
            and e.vector is not None
            and e.model_id == contract.model_id
            and len(e.vector) == contract.dim
        ):
            rows.append(e.vector)
            reasons.append(library_reason(e.title))
            texts.append(e.title)
    rows, reasons, texts = rows[:MAX_SEEDS], reasons[:MAX_SEEDS], texts[:MAX_SEEDS]
    matrix = np.stack(rows).astype(np.float32) if rows else np.zeros((0, contract.dim), np.float32)
    return LibrarySeeds([e.paper_id for e in matched if e.paper_id], matrix, reasons, texts)
