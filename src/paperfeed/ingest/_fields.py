"""Field readers shared by the file sources: each raises RecordError with a readable reason."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from paperfeed.models import (
    MAX_STORED_INT,
    Featuring,
    PaperRecord,
    clean_text,
    is_paper_id,
    paper_id_of,
)

MAX_TITLE = 2_000
MAX_ABSTRACT = 20_000


class RecordError(ValueError):
    """A record that cannot be imported; the message says why."""


def str_field(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key!r} must be a string, not {type(value).__name__}")
    return clean_text(value)


def str_list_field(obj: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{key!r} must be a list of strings")
    return tuple(clean_text(v) for v in value if v.strip())


def paper_id_field(obj: dict[str, Any]) -> tuple[str, int | None]:
    raw = obj.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise RecordError("missing 'id'")
    # An arXiv id, or any other id (CACM's numbered papers, say) kept as given if URL-safe.
    try:
        return paper_id_of(raw)
    except ValueError as exc:
        raise RecordError(f"bad 'id': {exc}") from None


def text_fields(obj: dict[str, Any], *keys: str) -> tuple[str, str]:
    title = str_field(obj, "title") or ""
    abstract = None
    for key in keys:
        abstract = str_field(obj, key)
        if abstract:
            break
    abstract = abstract or ""  # older collections (CACM) often have none
    if not title and not abstract:
        raise RecordError("missing 'title' and 'abstract'")
    if len(title) > MAX_TITLE:
        raise RecordError(f"title longer than {MAX_TITLE} characters")
    if len(abstract) > MAX_ABSTRACT:
        raise RecordError(f"abstract longer than {MAX_ABSTRACT} characters")
    return title, abstract


def keywords_field(obj: dict[str, Any]) -> tuple[str, ...] | None:
    """Read `keywords` given as a list or as one comma- or semicolon-separated string."""
    value = obj.get("keywords")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = [clean_text(part) for part in re.split(r"[,;]", value)]
        return tuple(part for part in parts if part) or None
    return str_list_field(obj, "keywords") or None


# A lone surrogate (JSON's "\\ud800", or its raw bytes, which json.loads lets through) cannot be
# encoded as UTF-8, so neither the database nor the keyword index can take it.
_SURROGATE = re.compile("[\ud800-\udfff]")


_TEXT_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "license",
    "keywords",
)


def _text_problem(name: str, value: object) -> str | None:
    values = value if isinstance(value, tuple) else (value,)
    for text in values:
        # Most metadata is ASCII, which holds no surrogate: str.isascii() is a flag look-up.
        if isinstance(text, str) and not text.isascii() and _SURROGATE.search(text):
            return f"{name!r} holds a lone surrogate (not valid Unicode)"
    return None


def check_record(record: PaperRecord) -> PaperRecord:
    """Refuse a record the store could not hold (bad id, lone surrogate, huge number)."""
    if not is_paper_id(record.paper_id):
        raise RecordError(f"{record.paper_id[:80]!r} is not usable as a paper id")
    if record.version is not None and not 0 <= record.version <= MAX_STORED_INT:
        raise RecordError(f"version {record.version} is out of range")
    # Most records are all ASCII, which holds no surrogate: one join and one flag look-up
    # for the whole record; the field-by-field walk only for the rest, to name the field.
    try:
        if _all_text(record).isascii():
            return record
    except TypeError:  # a field that is not text: the walk below skips it
        pass
    for name in _TEXT_FIELDS:
        problem = _text_problem(name, getattr(record, name))
        if problem:
            raise RecordError(problem)
    return record


def _all_text(record: PaperRecord) -> str:
    parts = [
        record.title,
        record.abstract,
        record.primary_category or "",
        record.comment or "",
        record.journal_ref or "",
        record.doi or "",
        record.license or "",
    ]
    parts.extend(record.authors or ())
    parts.extend(record.categories or ())
    parts.extend(record.keywords or ())
    return "".join(parts)


def check_featuring(featuring: Featuring) -> Featuring:
    """Refuse a featuring the store could not hold (upvotes beyond a 64-bit integer)."""
    if not 0 <= featuring.upvotes <= MAX_STORED_INT:
        raise RecordError(f"upvotes {featuring.upvotes} is out of range")
    problem = _text_problem("featured_by", featuring.featured_by)
    if problem:
        raise RecordError(problem)
    return featuring


def parse_day(value: object) -> dt.date | None:
    """Read a `YYYY-MM-DD` (or ISO timestamp) into a date; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    return dt.date.fromisoformat(value[:10])


def parse_time(value: object) -> dt.datetime | None:
    """Read an ISO timestamp into a naive UTC datetime; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValueError(f"{value[:40]!r} is out of range") from None
    return parsed
