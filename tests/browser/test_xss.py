"""The XSS corpus in titles, abstracts, author names, comments and replies, names,
collections, notifications and report reasons renders inert in Chromium: zero script runs, no
CSP violation, no dialog, no `javascript:` link and no event-handler attribute anywhere;
`$a<b$` becomes KaTeX math, not a tag."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Dialog

from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot
from tests.web.xss_corpus import PAPER_ID, plant

pytestmark = pytest.mark.slow

HANDLERS = """[...document.querySelectorAll('*')].flatMap(el =>
    [...el.attributes].filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name))"""
JS_LINKS = """[...document.querySelectorAll('a[href], iframe[src], form[action]')]
    .map(el => new URL(el.getAttribute('href') ?? el.getAttribute('src')
                       ?? el.getAttribute('action'), location.href).href)
    .filter(u => !/^(https?:|mailto:)/.test(u))"""


def test_the_xss_corpus_is_inert(browser: Browser, live: LiveHub) -> None:
    collection_id = plant(live.hub, reader="victim@example.org")
    page = open_page(browser)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # Signed in, so the paper page also shows forms (a textarea for the </textarea> payload).
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email address").fill("victim@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(f"{live.url}/dev/mailbox")
    page.get_by_role("link", name="Your sign-in link").first.click()
    page.locator("pre.mail-text a").click()
    page.get_by_role("button", name="Sign in", exact=True).click()

    paths = [
        "/",
        f"/papers/{PAPER_ID}",
        f"/collections/{collection_id}",
        "/collections",
        "/search?q=%3Cscript%3Ewindow.__xss%2B%2B%3C%2Fscript%3E",
        "/search?q=attack",
        "/notifications",
        "/admin/reports",
        "/members/1",
    ]
    for path in paths:
        page.goto(live.url + path)
        page.wait_for_load_state("load")
        # Open every abstract and hover the payload text, as a reader would.
        for summary in page.locator("details.abstract summary").all()[:5]:
            summary.click()
        page.mouse.move(200, 300)
        assert_clean(page)
        assert page.evaluate(HANDLERS) == [], path
        assert page.evaluate(JS_LINKS) == [], path
        # svg.bell: the header's notifications icon, our own markup.
        assert page.locator("iframe, svg:not(.katex svg):not(.bell), img, style").count() == 0, path
    assert dialogs == []

    page.goto(f"{live.url}/papers/{PAPER_ID}")
    title = page.locator("h1#paper-title")
    math = title.locator(".katex")
    assert math.count() == 1, "no KaTeX output: is KaTeX installed (make install)?"
    assert math.locator("annotation").text_content() == "a<b"  # $a<b$ is math...
    assert title.locator("b").count() == 0  # ...and not a <b> tag
    assert "<script>window.__xss++</script>" in title.inner_text()
    # \href is not trusted: KaTeX shows an error instead of making a javascript: link.
    assert page.locator(".abstract-text a").count() == 0
    shoot(page, "xss-paper")
    assert_clean(page)
    page.context.close()
