"""Members' @handles: what one may be, the one a new member gets from their address, and the
@mentions in a text. Pure: the store keeps handles unique (users.handle)."""

from __future__ import annotations

import re
from collections.abc import Callable

MIN_HANDLE = 3
MAX_HANDLE = 30
# Lower-case letters, digits and "_", starting with a letter or digit: safe in URLs, HTML and
# mail, and never an address (no "@" or ".").
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9_]{2,29}$")
# A mention is "@" + a handle, not inside a word or an address ("me@host.org" mentions nobody).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_]{2,29})(?![\w@])")
# Names the site uses, or that would read as addressing everyone.
RESERVED = frozenset(
    {"admin", "admins", "all", "curator", "curators", "everyone", "here", "member", "members"}
    | {"moderator", "moderators", "notifications", "paperfeed", "root", "staff", "system"}
)


class HandleRefused(ValueError):
    """Not a handle one may take; the message says why, for the reader."""


def checked_handle(text: str) -> str:
    """The handle `text` asks for (lower case, without a leading @); `HandleRefused` if it is
    not one."""
    handle = text.strip().removeprefix("@").lower()
    if not _HANDLE.match(handle):
        raise HandleRefused(
            f"A handle is {MIN_HANDLE}–{MAX_HANDLE} letters, digits or “_”, "
            "starting with a letter or digit."
        )
    if handle in RESERVED:
        raise HandleRefused(f"“{handle}” is kept for the site; choose another.")
    return handle


def handle_base(address: str) -> str:
    """The handle an address suggests: its local part in handle letters (never the domain)."""
    local = address.split("@", 1)[0].split("+", 1)[0].lower()
    base = re.sub(r"[^a-z0-9_]+", "_", local).strip("_")
    base = re.sub(r"_+", "_", base)[: MAX_HANDLE - 4].strip("_")
    if len(base) < MIN_HANDLE or base in RESERVED:
        base = f"{base}_member" if base else "member"
    return base


def derive_handle(address: str, taken: Callable[[str], bool]) -> str:
    """A free handle for a new member with `address`: its local part, then with 2, 3, … added."""
    base = handle_base(address)
    if not taken(base):
        return base
    number = 2
    while taken(f"{base}{number}"):
        number += 1
    return f"{base}{number}"


def mentioned_handles(text: str) -> list[str]:
    """The handles `text` mentions, lower case, each once, in order of first mention."""
    found = [m.group(1).lower() for m in MENTION.finditer(text)]
    return list(dict.fromkeys(h for h in found if h not in RESERVED))
