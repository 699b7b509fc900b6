"""Plain text to HTML with its web links made clickable, and nothing else.

Comments are stored as typed. At render time the text is escaped as a whole, and only
http(s) URLs become links (rel="nofollow ugc noopener"): no markup from users ever reaches
the page, and `javascript:` or `data:` addresses stay text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_MAX_LINK_TEXT = 80


def _split_url(candidate: str) -> tuple[str, str]:
    # Sentence punctuation after a link is not part of it; a ')' is, if the URL opened one.
    url = candidate
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url, candidate[len(url) :]


def linkify(text: str | None) -> Markup:
    """Escape `text` and turn its http(s) URLs into links."""
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url, rest = _split_url(match.group(0))
        if "://" not in url or len(url) <= len(url.split("://", 1)[0]) + 3:
            continue
        parts.append(escape(text[position : match.start()]))
        shown = url if len(url) <= _MAX_LINK_TEXT else url[: _MAX_LINK_TEXT - 1] + "…"
        parts.append(Markup('<a href="{}" rel="nofollow ugc noopener">{}</a>').format(url, shown))
        parts.append(escape(rest))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
