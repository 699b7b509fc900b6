"""Field readers shared by the file sources: each raises RecordError with a readable reason."""

from __future__ import annotations

import re
from typing import Any

from paperfeed.models import clean_text, parse_arxiv_id

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
    parsed = parse_arxiv_id(raw)
    if parsed:
        return parsed
    # Not an arXiv id (CACM's numbered papers, say): keep it as given.
    paper_id = raw.strip()
    if len(paper_id) > 64 or any(c.isspace() for c in paper_id):
        raise RecordError(f"id {paper_id[:80]!r} is not usable as a paper id")
    return paper_id, None


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
