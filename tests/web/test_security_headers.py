"""Community pages keep the site's security headers; the mailbox's HTML part is sandboxed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperfeed.hub import Hub
from tests.web.community_helpers import ask_for_link, sign_in


def _directives(policy: str) -> dict[str, str]:
    found = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            found[name] = value
    return found


def test_community_pages_send_the_security_headers(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "ada@example.org")
    for path in ("/sign-in", "/dev/mailbox", "/collections", "/submit", "/settings", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _directives(response.headers["content-security-policy"])
        assert policy["script-src"] == "'self'", path  # no unsafe-inline, no eval
        assert "unsafe" not in policy.get("default-src", ""), path
        assert policy["frame-ancestors"] == "'none'", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        # No inline code anywhere: every script is a file from this site.
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, flags=re.S)
        assert all(' src="/static/' in attrs and not body for attrs, body in scripts), path


def test_the_mail_html_part_is_sandboxed(client: TestClient, sample_hub: Hub) -> None:
    ask_for_link(client, "bea@example.org")
    mailbox = client.get("/dev/mailbox").text
    found = re.search(r'href="/dev/mailbox/(\d+)"', mailbox)
    assert found
    part = client.get(f"/dev/mailbox/{found.group(1)}/html")
    policy = _directives(part.headers["content-security-policy"])
    assert policy["sandbox"] == ""  # no allow-scripts, no allow-same-origin
    assert policy["default-src"] == "'none'"
    assert "script-src" not in policy
    assert policy["frame-ancestors"] == "'self'"  # framed by the mailbox page only
    assert part.headers["x-content-type-options"] == "nosniff"


def test_katex_is_served_by_the_hub_itself(client: TestClient) -> None:
    page = client.get("/").text
    for path in (
        "/static/katex/katex.min.css",
        "/static/katex/katex.min.js",
        "/static/katex/contrib/auto-render.min.js",
    ):
        assert f'"{path}"' in page, f"{path} not linked (is KaTeX installed? make install)"
        response = client.get(path)
        assert response.status_code == 200 and len(response.content) > 1000
    site = re.search(r'<script defer src="(/static/site\.js\?v=[0-9a-f]+)"></script>', page)
    assert site and "renderMathInElement" in client.get(site.group(1)).text
    fonts = re.findall(
        r"url\((fonts/[^)]+\.woff2)\)", client.get("/static/katex/katex.min.css").text
    )
    assert fonts and client.get(f"/static/katex/{fonts[0]}").status_code == 200
