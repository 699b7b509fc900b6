"""A fake arXiv listing feed: Atom pages shaped like rss.arxiv.org/atom/{category}, built from
the real records of the bundled sample (a week of `../shared/data/arxiv_daily/`, by first_seen).

New submissions are the category's primary papers first seen that day, cross-lists the papers
listing it as a secondary category, replacements (v2) the first few of the listing day before.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Sequence
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from paperfeed.ingest.snapshot import sample_path


@cache
def sample_records() -> tuple[dict[str, Any], ...]:
    """The bundled sample's records (real arXiv metadata, 2026-03-16 .. 2026-03-20)."""
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f)


def day_listing(
    category: str,
    day: dt.date,
    *,
    replacements: int = 3,
    records: Sequence[dict[str, Any]] | None = None,
) -> list[tuple[dict, str]]:
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
    `dated`: the same papers dated another day, for tests that run on the real clock;
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


def serve(*, port: int, day: dt.date, dated: dt.date | None) -> None:
    """Serve `/atom/{category}`: the sample's listing of `day`, dated `dated` (until Ctrl-C)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            category = self.path.rstrip("/").rsplit("/", 1)[-1]
            body = listing_feed(category, day, dated=dated)
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with ThreadingHTTPServer(("127.0.0.1", port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    # The demo's fake arXiv (docs/daily-loop.md): the real listing of a sample day, dated as
    # the listing the worker expects now, so `paperfeed worker --once` fetches it.
    import argparse

    from paperfeed.loop.schedule import Schedule
    from paperfeed.settings import Settings

    parser = argparse.ArgumentParser(description="A fake arXiv listing feed on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 3, 17))
    args = parser.parse_args()
    expected, _fire = Schedule.from_settings(Settings()).fetch_period(dt.datetime.now(dt.UTC))
    serve(port=args.port, day=args.day, dated=expected)
