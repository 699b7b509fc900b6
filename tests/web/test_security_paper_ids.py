"""Paper ids in URLs: a hostile id stored in the database never makes a link that a browser
resolves to another page of the site; arXiv ids keep their readable form."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from paperfeed.web.rendering import paper_url

HOSTILE_IDS = [
    "../../dev/mailbox",
    "..",
    ".",
    "a/../../sign-out",
    "%2e%2e/%2e%2e/dev/mailbox",
    "x?next=//evil.example",
    "x#frag",
    "//evil.example/path",
    "\\\\evil.example",
    "a/./b",
]
DAY = dt.date(2031, 1, 6)


# Segments a browser treats as `.` and `..` (WHATWG URL standard, "single/double-dot segment").
_DOT_SEGMENTS = {".": ".", "%2e": ".", "..": "..", ".%2e": "..", "%2e.": "..", "%2e%2e": ".."}
BASE = "https://hub.example.org"


def _resolved(href: str) -> str:
    """The path a browser requests for `href` on a paper page."""
    if urlsplit(href).scheme:  # an absolute link (RSS): its path on the public host
        href = urlsplit(href).path
    href = href.replace("\\", "/")
    segments = [_DOT_SEGMENTS.get(segment.lower(), segment) for segment in href.split("/")]
    return urljoin(f"{BASE}/papers/2603.12270", "/".join(segments)).removeprefix(BASE)


@pytest.mark.parametrize("paper_id", HOSTILE_IDS)
def test_paper_url_stays_one_segment_under_papers(paper_id: str) -> None:
    url = paper_url(paper_id)
    assert url.startswith("/papers/")
    segment = url.removeprefix("/papers/")
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert "\\" not in segment
    assert segment.lower().replace("%2e", ".") not in {".", ".."}
    assert _resolved(url).startswith("/papers/")
    assert _resolved(url + "/upvote").startswith("/papers/")


def test_arxiv_ids_keep_their_form() -> None:
    assert paper_url("2603.12270") == "/papers/2603.12270"
    assert paper_url("hep-th/9901001") == "/papers/hep-th/9901001"
    assert paper_url("math.NT/0501001v2") == "/papers/math.NT/0501001v2"
    assert paper_url("cacm-123") == "/papers/cacm-123"


def test_a_hostile_id_in_the_store_links_to_its_own_page(
    client: TestClient, sample_hub: Hub
) -> None:
    hostile = "../../dev/mailbox"
    with sample_hub.db.write() as conn:
        upsert_papers(conn, [PaperRecord(paper_id=hostile, title="Hostile", abstract="x")])
        feature_papers(conn, [Featuring(paper_id=hostile, day=DAY, source="test")])
    feed = client.get(f"/papers?date={DAY.isoformat()}")
    assert feed.status_code == 200
    hrefs = re.findall(r'(?:href|action)="([^"]+)"', feed.text)
    paper_links = [h for h in hrefs if h.startswith("/papers/") and "mailbox" in h]
    assert paper_links, "the card links to the paper"
    for href in paper_links:
        assert _resolved(href).startswith("/papers/"), href
    page = client.get(paper_links[0])
    assert page.status_code == 200
    assert "Hostile" in page.text
    rss = client.get(f"/papers.rss?date={DAY.isoformat()}")
    links = [link for link in re.findall(r"<link>([^<]+)</link>", rss.text) if "mailbox" in link]
    assert links, "the feed links to the paper"
    for link in links:
        assert _resolved(link).startswith("/papers/"), link
