"""Static assets the base template loads: the site script and, when installed, KaTeX.

KaTeX comes from the npm registry at install time (`make install` unpacks the pinned
tarball into static/katex, which git ignores); without it, math stays as written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"
KATEX_DIR = STATIC_DIR / "katex"
SITE_SCRIPT = "site.js"


def _versioned(name: str) -> str:
    # A content hash in the URL lets browsers cache the file for as long as it stays the same.
    digest = hashlib.blake2b((STATIC_DIR / name).read_bytes(), digest_size=6).hexdigest()
    return f"/static/{name}?v={digest}"


def katex_installed() -> bool:
    return (KATEX_DIR / "katex.min.js").is_file() and (
        KATEX_DIR / "contrib" / "auto-render.min.js"
    ).is_file()


def asset_globals() -> dict[str, Any]:
    """Template globals: `site_script` (URL) and `katex` (whether KaTeX is served)."""
    return {"site_script": _versioned(SITE_SCRIPT), "katex": katex_installed()}
