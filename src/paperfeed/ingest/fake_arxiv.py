"""A fake arXiv listing feed, for tests and the demo: Atom pages shaped like
rss.arxiv.org/atom/{category}, built from real records (the bundled sample, 2026-03-16 ..
2026-03-20, or any daily-listing file such as `../shared/data/arxiv_daily/`, by first_seen).

New submissions are the category's primary papers first seen that day, cross-lists the papers
listing it as a secondary category, replacements (v2) the first few of the listing day before.

`paperfeed dev fake-arxiv` serves it on 127.0.0.1 (docs/daily-loop.md, "Try the loop on the
demo"); the tests serve the same feeds from their scripted loopback server.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from paperfeed.ingest.snapshot import sample_path

log = logging.getLogger(__name__)


@cache
def sample_records() -> tuple[dict[str, Any], ...]:
    """The bundled sample's records (real arXiv metadata, 2026-03-16 .. 2026-03-20)."""
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f)


def corpus_records(
    path: Path,
    days: Iterable[dt.date],
    *,
    categories: Sequence[str] | None = None,
    per_day: int | None = None,
) -> tuple[dict[str, Any], ...]:
    """The records of a daily-listing file (sorted by first_seen, gzip or plain) first seen on
    `days` that list one of `categories` (any, when None), at most `per_day` of each day (the
    first by id). Reading stops after the last day."""
    wanted = {day.isoformat() for day in days}
    last = max(wanted)
    kept: Counter[str] = Counter()
    found = []
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            record = json.loads(line)
            seen = record["first_seen"]
            if seen > last:
                break
            if seen not in wanted or (per_day is not None and kept[seen] >= per_day):
                continue
            if categories is None or set(record["categories"] or []) & set(categories):
                kept[seen] += 1
                found.append(record)
    return tuple(sorted(found, key=lambda r: (r["first_seen"], r["id"])))


def day_listing(
    category: str,
    day: dt.date,
    *,
    replacements: int = 3,
    records: Sequence[dict[str, Any]] | None = None,
) -> list[tuple[dict[str, Any], str]]:
    """The (record, announce type) lines of a category's listing of `day`, from `records`
    (the bundled sample unless given)."""
    records = sample_records() if records is None else records
    today = [r for r in records if r["first_seen"] == day.isoformat()]
    new = [(r, "new") for r in today if r["primary_category"] == category]
    cross = [(r, "cross") for r in today if category in (r["categories"] or [])[1:]]
    before = max(
        (r["first_seen"] for r in records if r["first_seen"] < day.isoformat()), default=""
    )
    older = [r for r in records if r["first_seen"] == before and r["primary_category"] == category]
    return new + cross + [(r, "replace") for r in older[:replacements]]


def _entry(record: dict[str, Any], announce: str, day: dt.date) -> str:
    version = 2 if announce.startswith("replace") else 1
    stamp = f"{day.isoformat()}T00:00:00-04:00"
    pid = record["id"]
    categories = "".join(
        f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
        for c in record["categories"] or []
    )
    return (
        f"<entry><id>oai:arXiv.org:{pid}v{version}</id>"
        f"<title>{escape(record['title'])}</title><updated>{stamp}</updated>"
        f'<link href="https://arxiv.org/abs/{pid}" rel="alternate" type="text/html"/>'
        f"<summary>arXiv:{pid}v{version} Announce Type: {announce} \n"
        f"Abstract: {escape(record['abstract'])}</summary>{categories}"
        f"<published>{stamp}</published>"
        f"<arxiv:announce_type>{announce}</arxiv:announce_type>"
        "<rights>http://creativecommons.org/licenses/by/4.0/</rights>"
        f"<dc:creator>{escape(', '.join(record['authors'] or []))}</dc:creator></entry>"
    )


def listing_feed(
    category: str,
    day: dt.date,
    *,
    empty: bool = False,
    dated: dt.date | None = None,
    records: Sequence[dict[str, Any]] | None = None,
) -> bytes:
    """The Atom feed of a category's listing of `day` (`empty`: the day's feed, no entries;
    `dated`: the same papers dated another day, for runs on the real clock;
    `records`: another set of records than the bundled sample)."""
    lines = [] if empty else day_listing(category, day, records=records)
    day = dated or day
    entries = "".join(_entry(record, announce, day) for record, announce in lines)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="en-us">'
        f"<id>http://rss.arxiv.org/atom/{category}</id>"
        f"<title>{category} updates on arXiv.org</title>"
        f"<updated>{day.isoformat()}T04:00:00Z</updated>"
        f'<link href="http://rss.arxiv.org/atom/{category}" rel="self" '
        'type="application/atom+xml"/>'
        f"{entries}</feed>"
    ).encode()


def make_server(
    *,
    port: int,
    day: dt.date,
    dated: Callable[[], dt.date | None],
    records: Sequence[dict[str, Any]] | None = None,
) -> ThreadingHTTPServer:
    """A server on 127.0.0.1:`port` (0: any free port) answering `GET /atom/{category}` with
    the category's listing of `day` from `records`, dated `dated()` (asked at each request, so
    a long-running demo follows the schedule). Serve it with `serve_forever()`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            category = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            body = listing_feed(category, day, dated=dated(), records=records)
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s", format % args)

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
