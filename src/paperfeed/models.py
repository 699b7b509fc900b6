"""Domain records shared by every layer: plain dataclasses, no I/O, no project imports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

# New-style ids (0704.0001 .. 2603.12345) and old-style ids (astro-ph/0703001, math.NT/0501001).
_NEW_ID = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?$")
_OLD_ID = re.compile(r"^(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?$")
# An id that is not an arXiv id (CACM's numbered papers): a plain token a URL path can carry
# as it is, so no `/`, `?`, `#`, `%`, spaces or control characters, and no leading dot.
_OTHER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
# The largest integer the store's columns hold (SQLite and PostgreSQL BIGINT).
MAX_STORED_INT = 2**63 - 1
MAX_VERSION_DIGITS = 6
_URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", re.IGNORECASE
)


class PaperStatus(StrEnum):
    """Whether a paper is shown: withdrawn and deleted papers are hidden, never removed."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    DELETED = "deleted"


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Split an arXiv id, `arXiv:` label or abs/pdf URL into (id without version, version)."""
    candidate = text.strip()
    candidate = _URL_PREFIX.sub("", candidate)
    if candidate.lower().startswith("arxiv:"):
        candidate = candidate[6:]
    candidate = candidate.removesuffix(".pdf").strip("/")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(candidate)
        if match:
            version = match.group("version")
            if version and len(version) > MAX_VERSION_DIGITS:
                return None  # no paper has a million versions; int() of 5,000 digits fails
            return match.group("id"), int(version) if version else None
    return None


def is_paper_id(text: str) -> bool:
    """Tell whether `text` is a paper id the store may hold and a URL may carry unescaped.

    That is an arXiv id without version (`2403.01234`, `hep-th/9901001`) or a plain token of
    letters, digits, `.`, `_`, `:` and `-` (at most 64, starting with a letter or digit).
    """
    arxiv = _NEW_ID.fullmatch(text) or _OLD_ID.fullmatch(text)
    if arxiv is not None:
        return arxiv.group("version") is None
    return _OTHER_ID.fullmatch(text) is not None and ".." not in text


def paper_id_of(text: str) -> tuple[str, int | None]:
    """Read an id a source gives into (paper id, version); raise ValueError if it is unusable.

    arXiv ids, labels and URLs give the id without version; any other id is kept as given
    when `is_paper_id` accepts it (`../../dev/mailbox`, `a b`, `x?y` are refused).
    """
    parsed = parse_arxiv_id(text)
    if parsed is not None:
        return parsed
    candidate = text.strip()
    if not is_paper_id(candidate):
        raise ValueError(f"{candidate[:80]!r} is not usable as a paper id")
    return candidate, None


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts at 80 columns)."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as a source delivered it, ready to be upserted into the store.

    `paper_id` is an arXiv id without version, or any other id kept as given
    (CACM's numbered papers, for instance). Optional fields are None when the
    source did not say; they never overwrite what the store already knows.
    """

    paper_id: str
    title: str
    abstract: str
    version: int | None = None
    authors: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    primary_category: str | None = None
    submitted: dt.datetime | None = None
    updated: dt.datetime | None = None
    announced: dt.date | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    keywords: tuple[str, ...] | None = None
    status: PaperStatus = PaperStatus.ACTIVE
    # content_hash(), once computed (here, or by the process that parsed the record); not a
    # field of the paper: never compared, printed or copied by `dataclasses.replace`.
    _digest: str | None = field(default=None, init=False, repr=False, compare=False)

    def with_digest(self, digest: str) -> PaperRecord:
        """This record, its content hash known (computed by the parsing process)."""
        object.__setattr__(self, "_digest", digest)
        return self

    def content_hash(self) -> str:
        """Hash the fields a new version may change, to detect a re-import that changes nothing."""
        if self._digest is not None:
            return self._digest
        digest = self._compute_hash()
        object.__setattr__(self, "_digest", digest)
        return digest

    def _compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.version,
                self.title,
                self.abstract,
                self.authors,
                self.categories,
                self.primary_category,
                _iso(self.submitted),
                _iso(self.updated),
                _iso(self.announced),
                self.comment,
                self.journal_ref,
                self.doi,
                self.license,
                self.keywords,
                self.status.value,
            ],
            ensure_ascii=False,
        )
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class Featuring:
    """A paper featured on the feed of one day (by a curator, a source, or an import)."""

    paper_id: str
    day: dt.date
    source: str
    upvotes: int = 0
    featured_by: str | None = None


@dataclass(frozen=True, slots=True)
class HfFacts:
    """What Hugging Face's daily papers say of a paper beyond the paper itself: who submitted
    it there, its AI summary and keywords, and its repository and project page."""

    paper_id: str
    submitter: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] | None = None
    github_repo: str | None = None
    project_page: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record a source could not read: where it was, and why."""

    location: str
    reason: str


@dataclass(slots=True)
class ImportSummary:
    """What one ingest run did."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    featured: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    # The papers one batch stored, as stored (set by the store; `add` does not sum them).
    changed: list[PaperRecord] = field(default_factory=list, repr=False, compare=False)

    @property
    def seen(self) -> int:
        return self.imported + self.updated + self.unchanged + len(self.rejected)

    def add(self, other: ImportSummary) -> None:
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.featured += other.featured
        self.rejected.extend(other.rejected)


_WITHDRAWN = re.compile(r"\b(?:paper|article|submission)?\s*(?:has been|is)?\s*withdrawn\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def status_from_comment(comment: str | None) -> PaperStatus:
    """arXiv marks withdrawals in the comment ("This paper has been withdrawn by the author")."""
    if comment and _WITHDRAWN.search(comment) and "withdrawn" in comment.lower()[:200]:
        return PaperStatus.WITHDRAWN
    return PaperStatus.ACTIVE


def clean_text(text: str) -> str:
    """Drop control characters (NUL and friends) and collapse whitespace."""
    if text.isprintable():  # no control character (a C flag walk, far cheaper than the regex)
        # Printable text holds no whitespace but the ASCII space: most names and ids are clean
        # already, and three scans cost less than splitting and joining them.
        if "  " not in text and not text.startswith(" ") and not text.endswith(" "):
            return text
        return " ".join(text.split())
    return normalize_space(_CONTROL.sub("", text))
