"""Plain text to HTML with its web links made clickable, and nothing else.

Comments are stored as typed. At render time the text is escaped as a whole, and only
http(s) URLs become links (rel="nofollow ugc noopener"): no markup from users ever reaches
the page, and `javascript:` or `data:` addresses stay text. A comment's recorded @mentions
become links to the members' pages (`/members/{user id}`); other "@words" stay text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from paperfeed.handles import MENTION

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


def _mentions(text: str, mentions: dict[str, int] | None) -> Markup:
    """Escape `text` (no links in it), making its recorded mentions links."""
    if not mentions:
        return escape(text)
    parts: list[str] = []
    position = 0
    for match in MENTION.finditer(text):
        user_id = mentions.get(match.group(1).lower())
        if user_id is None:
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(
            Markup('<a class="mention" href="/members/{}">@{}</a>').format(
                int(user_id), match.group(1)
            )
        )
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def linkify(text: str | None, mentions: dict[str, int] | None = None) -> Markup:
    """Escape `text` and turn its http(s) URLs into links (and, given `mentions`, handle as
    written → user id, those @mentions into links to the members)."""
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url, rest = _split_url(match.group(0))
        if "://" not in url or len(url) <= len(url.split("://", 1)[0]) + 3:
            continue
        parts.append(_mentions(text[position : match.start()], mentions))
        shown = url if len(url) <= _MAX_LINK_TEXT else url[: _MAX_LINK_TEXT - 1] + "…"
        parts.append(Markup('<a href="{}" rel="nofollow ugc noopener">{}</a>').format(url, shown))
        parts.append(_mentions(rest, mentions))
        position = match.end()
    parts.append(_mentions(text[position:], mentions))
    return Markup("").join(parts)
