"""A reader's journey in headless Chromium, with a screenshot of each page, light and dark:
feed → paper → search → sign in through the dev mailbox → upvote → submit → comment →
collection → RSS."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin

import feedparser
import pytest
from playwright.sync_api import Browser, Page, expect

from paperfeed.db.feed import days_featured
from paperfeed.db.upvotes import card_stats
from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot

pytestmark = pytest.mark.slow

EMAIL = "reader@example.org"


def _sign_in(page: Page, live: LiveHub, shots: str | None = None) -> None:
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    if shots:
        shoot(page, f"sign-in-{shots}")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_role("link", name="development mailbox").click()
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    if shots:
        shoot(page, f"mailbox-{shots}")
    page.get_by_role("link", name=re.compile("Your sign-in link")).first.click()
    if shots:
        page.locator("iframe.mail-html").wait_for()
        shoot(page, f"mail-{shots}")
    page.locator("pre.mail-text a").click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reader_journey(browser: Browser, live: LiveHub, scheme: str) -> None:
    page = open_page(browser, dark=scheme == "dark")

    # The feed: cards with titles, authors, upvotes and expandable abstracts.
    page.goto(live.url + "/")
    cards = page.locator("article.card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 10
    first = cards.first.locator(".abstract")
    expect(first.locator("p")).to_be_visible()  # two lines of it, then "more"
    first.locator(".abstract-toggle").click()
    expect(first.locator(".abstract-toggle")).to_have_attribute("aria-expanded", "true")
    shoot(page, f"feed-{scheme}")
    assert_clean(page)

    # A paper's page.
    title = cards.nth(1).locator(".card-title a")
    title_text = title.inner_text()
    title.click()
    expect(page.locator("h1#paper-title")).to_be_visible()
    paper_path = page.url.removeprefix(live.url)
    paper_id = paper_path.removeprefix("/papers/")
    expect(page.get_by_role("heading", name="Abstract")).to_be_visible()
    expect(page.get_by_role("heading", name="Comments")).to_be_visible()
    shoot(page, f"paper-{scheme}")
    assert title_text.split()[0] in page.locator("h1#paper-title").inner_text()
    assert_clean(page)

    # Search from the header box.
    page.get_by_label("Search papers").fill("language models")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=language"))
    expect(page.locator("article.card").first).to_be_visible()
    shoot(page, f"search-{scheme}")
    assert_clean(page)

    # Trending (the lists' page).
    page.goto(live.url + "/trending")
    expect(page.locator("h1")).to_be_visible()
    shoot(page, f"trending-{scheme}")
    assert_clean(page)

    # Sign in through the development mailbox.
    _sign_in(page, live, shots=scheme)
    assert_clean(page)

    # Upvote the paper, then see the count and pressed state.
    page.goto(live.url + paper_path)
    with live.hub.db.read() as conn:
        before = card_stats(conn, [paper_id], user_id=None)[paper_id].upvotes
    button = page.locator("header.paper-head .upvote-button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    button = page.locator("header.paper-head .upvote-button")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".upvote-count")).to_have_text(str(before + 1))

    with live.hub.db.read() as conn:
        assert card_stats(conn, [paper_id], user_id=None)[paper_id].upvotes == before + 1

    # On the feed (home: this hub has no vectors, so no For you), an upvote far down the page
    # keeps the reader where they were.
    page.goto(live.url + "/")
    card = page.locator("article.card").nth(12)
    href = card.locator(".card-title a").get_attribute("href")
    card.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 500
    card.locator(".upvote-button").click()
    expect(card.locator(".upvote-button")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.scrollY") == scrolled
    expect(card.locator(".upvote-button")).to_have_attribute(
        "aria-label", re.compile(r"^Remove your upvote from .+ \(\d+ upvotes?\)$")
    )
    page.reload()  # the vote was stored (the paper may have moved up the list)
    voted = page.locator(f'article.card:has(.card-title a[href="{href}"])')
    expect(voted.locator(".upvote-button")).to_have_attribute("aria-pressed", "true")
    page.goto(live.url + paper_path)

    # Comment, with a link.
    page.get_by_label("Add a comment").fill("Worth reading: https://example.org/notes")
    page.get_by_role("button", name="Post comment").click()
    comment = page.locator("li.comment").last
    expect(comment).to_contain_text("Worth reading")
    expect(comment.locator(".comment-body a")).to_have_attribute(
        "href", "https://example.org/notes"
    )

    # Put it in a new collection.
    page.get_by_label("New collection with this paper").fill(f"Reading group {scheme}")
    page.get_by_label("Public").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("button", name=f"Remove from collection Reading group {scheme}"))
    shoot(page, f"paper-signed-in-{scheme}")
    assert_clean(page)
    page.get_by_role("link", name="open").first.click()
    expect(page.get_by_role("heading", name=f"Reading group {scheme}")).to_be_visible()
    assert page.locator("article.card").count() == 1
    # A note on it (links made), then one click marks it read in place, without a reload.
    page.get_by_text("Add a note").click()
    page.get_by_label(re.compile("^Your note on")).fill("Friday: https://example.org/slides")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".item-note-text a")).to_have_attribute(
        "href", "https://example.org/slides"
    )
    expect(page.locator("[data-unread-count]")).to_have_text("1")
    page.evaluate("window.__stayed = 1")
    page.get_by_role("button", name=re.compile("^Mark as read:")).click()
    expect(page.locator("[data-unread-count]")).to_have_text("0")
    expect(page.get_by_role("button", name=re.compile("^Mark as unread:"))).to_be_visible()
    assert page.evaluate("window.__stayed") == 1
    assert_clean(page)
    shoot(page, f"collection-{scheme}")
    collection_path = page.url.removeprefix(live.url).split("#", 1)[0]

    # Submit another paper: it is featured today.
    with live.hub.db.read() as conn:
        candidates = [
            pid
            for pid in conn.exec_driver_sql("SELECT paper_id FROM papers LIMIT 50").scalars()
            if dt.datetime.now(dt.UTC).date() not in days_featured(conn, pid)
        ]
    page.get_by_role("link", name="Submit").click()
    page.get_by_label("arXiv id or link").fill(f"https://arxiv.org/abs/{candidates[0]}")
    shoot(page, f"submit-{scheme}")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("featured today")
    with live.hub.db.read() as conn:
        assert dt.datetime.now(dt.UTC).date() in days_featured(conn, candidates[0])
    assert_clean(page)

    # The public collection's RSS lists the paper.
    page.goto(live.url + collection_path)
    rss = page.locator('link[rel="alternate"][type="application/rss+xml"]').get_attribute("href")
    assert rss
    response = page.request.get(urljoin(page.url, rss))
    assert response.ok
    parsed = feedparser.parse(response.body())
    assert not parsed.bozo
    assert [entry.link.rsplit("/papers/", 1)[1] for entry in parsed.entries] == [paper_id]
    assert parsed.entries[0].summary.startswith("<p>Note by ")  # the reading list's note
    assert '<a href="https://example.org/slides"' in parsed.entries[0].summary

    # The day's feed, in RSS, lists the paper submitted today.
    page.goto(f"{live.url}/papers?date={dt.datetime.now(dt.UTC).date().isoformat()}")
    day_rss = page.locator('link[rel="alternate"][type="application/rss+xml"]').first
    feed = feedparser.parse(
        page.request.get(urljoin(page.url, day_rss.get_attribute("href") or "")).body()
    )
    assert not feed.bozo
    assert any(entry.link.endswith(f"/papers/{candidates[0]}") for entry in feed.entries)

    # Settings: make an API token.
    page.goto(live.url + "/settings")
    page.get_by_label("Token name").fill("script")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator("#new-token")).to_contain_text("pf_")
    shoot(page, f"settings-{scheme}")
    page.context.close()


def test_keyboard_reaches_everything(browser: Browser, live: LiveHub) -> None:
    page = open_page(browser)
    page.goto(live.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Every button and link in the page has an accessible name.
    unnamed = page.evaluate(
        """[...document.querySelectorAll(
                'a[href], button, input:not([type=hidden]), textarea, select')]
            .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim()
                            || (el.id && document.querySelector(`label[for="${el.id}"]`))))
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    # j and k move between papers.
    titles = page.locator(".card-title a")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.href") == titles.nth(1).evaluate("a => a.href")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.href") == titles.nth(0).evaluate("a => a.href")
    page.keyboard.press("Enter")
    expect(page.locator("h1#paper-title")).to_be_visible()
    page.go_back()
    # The abstract opens from the keyboard.
    toggle = page.locator(".abstract-toggle").first
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.context.close()


def test_narrow_screens_do_not_scroll_sideways(browser: Browser, live: LiveHub) -> None:
    page = open_page(browser, width=375)
    for path in ("/", "/sign-in", "/collections", "/search?q=graph"):
        page.goto(live.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    page.goto(live.url + "/")
    shoot(page, "feed-mobile")
    page.context.close()
