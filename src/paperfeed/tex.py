"""TeX text commands in titles and abstracts, turned into the plain text they stand for.

arXiv abstracts are written in LaTeX: `\\textbf{Personalize Anything}`, `\\emph{i.e.}`,
`{\\it target similarity}`, `\\href{https://…}{code}`, `~\\cite{key}`, and macros only the
authors' preamble defined (`\\method{}`). Outside math, `clean_tex` keeps the text those
commands wrap and drops the rest; math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`) is left exactly as
written, for KaTeX to render in the browser. The result is plain text (still to be escaped).
"""

from __future__ import annotations

import re
import unicodedata

# Math spans, kept as written: display before inline so `$$` is not read as two `$`.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<!\\)\$(?:\\\$|[^$])+?\$", re.DOTALL)

# Commands dropped with their argument: references, citations, notes and labels.
_DROPPED = re.compile(
    r"~?\\(?:cite[tp]?|citep|citet|ref|eqref|label|footnote|thanks|vspace|hspace)\*?"
    r"(?:\[[^\]]*\])?\{[^{}]*\}"
)
_HREF = re.compile(r"\\href\{([^{}]*)\}\{([^{}]*)\}")
# Any other command with one braced argument keeps the argument: \textbf{x}, \emph{x}, \method{}.
_WITH_ARGUMENT = re.compile(r"\\[A-Za-z]+\*?\{([^{}]*)\}")
# Old-style font switches inside a group: {\it x}, {\bf x}, {\em x}.
_SWITCH = re.compile(r"\\(?:it|bf|em|sc|tt|rm|sf|sl|small|large|Large|footnotesize)\b\s*")
_WORDS = {"ie": "i.e.", "eg": "e.g.", "etal": "et al.", "etc": "etc.", "vs": "vs.", "wrt": "w.r.t."}
_ABBREVIATION = re.compile(r"\\(" + "|".join(_WORDS) + r")\b(?:\{\})?\.?")
_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303"}
_ACCENTS["c"] = "\u0327"  # \c{c}: ç
_ACCENT = re.compile(r"\{?\\([`'\"^~]|c )\{?([A-Za-z])\}?\}?")
_ESCAPED = re.compile(r"\\([%&_#{}])")
_BARE_COMMAND = re.compile(r"\\[A-Za-z]+\*?(?:\{\})?\s?")
_TEX = re.compile(r"[\\{}~`]|--|''")  # text without any of these is left as it is
_SPACES = re.compile(r"[ \t]{2,}")
_BEFORE_PUNCTUATION = re.compile(r" +([,.;:)])")  # "we propose \method{}, which"
_PLACEHOLDERS = {"{": "\1", "}": "\2"}  # escaped braces survive the removal of grouping ones


def _accent(match: re.Match[str]) -> str:
    mark = _ACCENTS[match.group(1).strip()]
    return unicodedata.normalize("NFC", match.group(2) + mark)


def _clean_text(text: str) -> str:
    text = _DROPPED.sub("", text)
    text = _HREF.sub(lambda m: m.group(2) or m.group(1), text)
    text = _ABBREVIATION.sub(lambda m: _WORDS[m.group(1)], text)
    text = _ACCENT.sub(_accent, text)
    text = _SWITCH.sub("", text)
    previous = None
    while previous != text:  # innermost first: \textbf{\emph{x}} → \textbf{x} → x
        previous = text
        text = _WITH_ARGUMENT.sub(r"\1", text)
    text = text.replace("\\\\", " ").replace("\\ ", " ")  # a line break, a control space
    text = _BARE_COMMAND.sub("", text.replace("\\$", "\0"))  # \$ is a dollar sign: keep it
    # Grouping braces are gone with their commands; escaped ones become the character.
    text = _ESCAPED.sub(lambda m: _PLACEHOLDERS.get(m.group(1), m.group(1)), text)
    text = text.replace("{", "").replace("}", "").replace("\1", "{").replace("\2", "}")
    text = text.replace("``", "“").replace("''", "”").replace("---", "—").replace("--", "–")
    text = text.replace("~", "\u00a0").replace("\0", "\\$")
    return _BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text))


def clean_tex(text: str | None) -> str:
    """Replace TeX text commands outside math with the text they show; keep math as written."""
    if not text or not _TEX.search(text):
        return text or ""
    parts: list[str] = []
    position = 0
    for match in _MATH.finditer(text):
        parts.append(_clean_text(text[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(_clean_text(text[position:]))
    return "".join(parts).strip()
