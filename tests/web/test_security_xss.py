"""The XSS corpus comes back escaped in every page that shows it (the browser check, with
zero script runs, is tests/browser/test_xss.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperfeed.hub import Hub
from paperfeed.web.linkify import linkify
from tests.web.community_helpers import sign_in
from tests.web.xss_corpus import PAPER_ID, plant

RAW = [
    "<script>",
    "<img src=x",
    "<svg onload",
    "<iframe",
    "<style>",
    "</textarea><",
    'href="javascript:',
    '"onmouseover="',
]


def _pages(client: TestClient, collection_id: int) -> dict[str, str]:
    return {
        path: client.get(path).text
        for path in (
            "/",
            f"/papers/{PAPER_ID}",
            f"/collections/{collection_id}",
            "/collections",
            "/search?q=" + "%3Cscript%3Ewindow.__xss%2B%2B%3C%2Fscript%3E",
            "/notifications",
            "/admin/reports",
            "/members/1",
        )
    }


def test_payloads_are_escaped_everywhere(client: TestClient, sample_hub: Hub) -> None:
    collection_id = plant(sample_hub, reader="reader@example.org")
    sign_in(client, sample_hub, "reader@example.org")
    for path, page in _pages(client, collection_id).items():
        for raw in RAW:
            # Our own templates have no <script> without src, no inline styles or handlers.
            assert raw not in page.replace("<script defer src=", ""), (path, raw)
        assert "window.__xss" in page or path == "/collections", path  # shown, as text
    # The reply, its notification and the report's reason came back (escaped) where expected.
    assert "replied to your comment on" in client.get("/notifications").text
    assert '<a class="mention" href="/members/' in client.get(f"/papers/{PAPER_ID}").text
    assert "An honest question?" in client.get("/admin/reports").text
    paper = client.get(f"/papers/{PAPER_ID}").text
    assert "&lt;script&gt;window.__xss++&lt;/script&gt;" in paper
    assert "$a&lt;b$" in paper
    assert not re.search(r"<a [^>]*href=\"(?!https?://|/|#|mailto:)", paper)


def test_linkify_makes_only_web_links() -> None:
    assert str(linkify("see https://a.test/x.")) == (
        'see <a href="https://a.test/x" rel="nofollow ugc noopener">https://a.test/x</a>.'
    )
    assert str(linkify("(https://en.wikipedia.org/wiki/Foo_(bar))")).endswith("_(bar)</a>)")
    assert str(linkify("javascript:alert(1) data:text/html,<b>x</b>")) == (
        "javascript:alert(1) data:text/html,&lt;b&gt;x&lt;/b&gt;"
    )
    assert str(linkify('http://x.test/"onmouseover="y')) == (
        '<a href="http://x.test/" rel="nofollow ugc noopener">http://x.test/</a>'
        "&#34;onmouseover=&#34;y"
    )
    assert str(linkify("https://")) == "https://"
    assert str(linkify(None)) == ""
    long = "https://a.test/" + "x" * 200
    assert "…</a>" in str(linkify(long)) and f'href="{long}"' in str(linkify(long))
