"""Author names as papers write them, read into keys that let one person's papers meet.

`parse_name("Ashish Vaswani")` and `parse_name("Vaswani, A.")` both fall in the bucket
`vaswani-a` (family name folded to ASCII letters and digits, then the first initial); the key of
a full given name is `vaswani-ashish`, of an initial alone the bucket. Whether an initial joins a
full name is decided by `group_people`, from shared co-authors. The rule is in docs/authors.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from paperfeed.tex import clean_tex

# Family-name particles: from the first of these (not the first word) to the end is the family
# name, "Aäron van den Oord" -> "van den Oord", "Nicola De Cao" -> "De Cao".
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "dei",
        "di",
        "da",
        "dal",
        "dos",
        "das",
        "du",
        "le",
        "la",
        "ter",
        "ten",
        "zu",
        "vom",
    ]
)
# Generational suffixes, dropped: "John Smith Jr.", "Smith, John, III".
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Not names at all ("et al.", "others"), as some sources write them.
_NOT_NAMES = frozenset({"etal", "al", "others", "and", "et"})
# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ð": "d", "Ð": "D"}
    | {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"}
)
# TeX letters that `clean_tex` would drop: {\o}, \L, \ss, {\ae}, and the dotless \i of {\'\i}.
_TEX_LETTERS = re.compile(r"\\(o|O|l|L|ss|ae|AE|oe|OE|i|j)(?![A-Za-z])\s?")
_TEX_LETTER_TEXT = {"o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ss": "ß", "ae": "æ", "AE": "Æ"}
_TEX_LETTER_TEXT |= {"oe": "œ", "OE": "Œ", "i": "i", "j": "j"}
# An initial, or several run together: "A", "A.", "J.-P.", "J.P.".
_INITIALS = re.compile(r"^(?:[^\W\d_][.\-]*){1,3}$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class AuthorName:
    """One author name as written on a paper, and its keys.

    `written` is the name shown, given names first ("Vaswani, Ashish" is "Ashish Vaswani"),
    `family` the folded family name ("vandenoord"), `given` the folded first given name
    ("ashish"), its initial alone ("a"), or "" when the name has one word. `key` is family and
    given name ("vaswani-ashish", the key of the name before grouping), `bucket` family and
    initial ("vaswani-a": every name that may be the same person shares it).
    """

    written: str
    family: str
    given: str
    key: str
    bucket: str

    @classmethod
    def of(cls, written: str, family: str, given: str) -> AuthorName:
        key = f"{family}-{given}" if given else family
        bucket = f"{family}-{given[:1]}" if given else family
        return cls(written, family, given, key, bucket)

    @property
    def initial(self) -> str:
        return self.given[:1]

    @property
    def is_initial(self) -> bool:
        """Whether the given name is only an initial ("A. Vaswani")."""
        return len(self.given) == 1


_NOT_ASCII_KEY = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase letters and digits only, accents dropped: "Müller" -> "muller"."""
    if text.isascii():  # most names: no Unicode work
        return _NOT_ASCII_KEY.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(
        c for c in decomposed.lower() if c.isalnum() and not unicodedata.combining(c)
    ).translate(_LETTERS)


def clean_name(text: str) -> str:
    """The name as shown: TeX accents decoded (`M{\\"u}ller` -> Müller), spaces squeezed."""
    if "\\" in text or "{" in text:
        text = _TEX_LETTERS.sub(lambda m: _TEX_LETTER_TEXT[m.group(1)], text)
        text = clean_tex(text)
    text = text.replace("\\", "").replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip(" ,;")


def _bare(word: str) -> str:
    return word.strip(" .").lower()


def _split(name: str) -> tuple[list[str], list[str]] | None:
    """(given words, family words) of a cleaned name."""
    parts = [p.strip() for p in name.split(",") if p.strip()]
    parts = [parts[0], *(p for p in parts[1:] if _bare(p) not in SUFFIXES)] if parts else []
    if len(parts) >= 2:  # "Vaswani, Ashish" (a third part is not a name: dropped)
        return parts[1].split(), parts[0].split()
    if not parts:
        return None
    words = parts[0].split()
    while len(words) > 2 and _bare(words[-1]) in SUFFIXES:
        words.pop()
    for i in range(1, len(words) - 1):
        if words[i].lower() in PARTICLES:
            return words[:i], words[i:]
    return words[:-1], words[-1:]


def _given_key(word: str) -> str:
    folded = fold(word)
    # "A", "A.", and initials run together ("J.-P.", "J.P."): the first initial.
    initials = len(word) <= 6 and _INITIALS.match(word) is not None
    if initials and (sum(c.isalpha() for c in word) == 1 or "." in word):
        return folded[:1]
    return folded


@lru_cache(maxsize=65536)
def parse_name(text: str) -> AuthorName | None:
    """Read one author name; None when nothing name-like is left ("et al.", "", a dash)."""
    written = clean_name(text)
    split = _split(written)
    if split is None:
        return None
    given_words, family_words = split
    family = fold("".join(family_words))
    if not family or family in _NOT_NAMES:
        return None
    given = next((g for w in given_words if (g := _given_key(w))), "")
    return AuthorName.of(" ".join([*given_words, *family_words]), family, given)


def split_key(key: str) -> tuple[str, str]:
    """(family, given) of a key: "vaswani-ashish" -> ("vaswani", "ashish")."""
    family, _, given = key.rpartition("-")
    return (family, given) if family else (given, "")


def bucket_of(key: str) -> str:
    """The bucket of a key: "vaswani-ashish" -> "vaswani-a"."""
    family, given = split_key(key)
    return f"{family}-{given[:1]}" if given else family


def is_key(key: str) -> bool:
    """Whether `key` is shaped like a key (folded family, optional folded given)."""
    family, given = split_key(key)
    rebuilt = f"{family}-{given}" if given else family
    return bool(family) and fold(family) == family and fold(given) == given and rebuilt == key


@dataclass(frozen=True, slots=True)
class Authorship:
    """One name on one paper, with the names of the paper's other authors."""

    paper_id: str
    name: AuthorName
    coauthors: frozenset[AuthorName]


# Co-authors on papers with more authors than this do not join an initial to a full name: in a
# collaboration of thousands, everyone shares someone.
MAX_TEAM = 100


def group_people(authorships: Sequence[Authorship]) -> dict[tuple[str, str], str]:
    """The person key of each (paper_id, name key) of one bucket.

    A full given name is its own person (`vaswani-ashish`); an initial alone (`vaswani-a`)
    joins the one full name of its bucket whose papers share a co-author with its paper, and
    stays apart when none or several do: never across people who share nobody. A full
    co-author matches the same full name or its initial; an initial co-author any name of its
    bucket. Papers of more than `MAX_TEAM` authors do not count.
    """
    by_key: dict[str, set[str]] = {}  # a co-author's key -> the full names it wrote with
    by_bucket: dict[str, set[str]] = {}  # a co-author's bucket -> the same
    for a in authorships:
        if a.name.given and not a.name.is_initial and len(a.coauthors) < MAX_TEAM:
            for other in a.coauthors:
                by_key.setdefault(other.key, set()).add(a.name.key)
                by_bucket.setdefault(other.bucket, set()).add(a.name.key)
    people: dict[tuple[str, str], str] = {}
    for a in authorships:
        person = a.name.key
        if a.name.is_initial and len(a.coauthors) < MAX_TEAM:
            matches: set[str] = set()
            for other in a.coauthors:
                if other.is_initial or not other.given:
                    matches |= by_bucket.get(other.bucket, set())
                else:
                    matches |= by_key.get(other.key, set()) | by_key.get(other.bucket, set())
            if len(matches) == 1:
                person = next(iter(matches))
        people[(a.paper_id, a.name.key)] = person
    return people
