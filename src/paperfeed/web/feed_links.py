"""The `<link rel="alternate">` entries by which list pages advertise their RSS and Atom feeds."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
# An arXiv category name (cs.LG, astro-ph.GA, hep-th): safe in a path and in a LIKE pattern.
CATEGORY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)?$")


def alternate_links(name: str, params: dict[str, str], label: str) -> list[dict[str, Any]]:
    """The RSS and Atom links of the list `/{name}.rss?{params}` (see web/feeds.py)."""
    query = urlencode({k: v for k, v in params.items() if v})
    suffix = f"?{query}" if query else ""
    return [
        {"type": RSS_TYPE, "title": f"{label} (RSS)", "href": f"/{name}.rss{suffix}"},
        {"type": ATOM_TYPE, "title": f"{label} (Atom)", "href": f"/{name}.atom{suffix}"},
    ]
