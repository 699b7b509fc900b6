"""For you on the demo, end to end in headless Chromium (#13's must-show): a reader signs in,
upvotes three papers, and home becomes For you with explained picks; the private feed carries
the same reasons; following an author brings their papers in ("you follow …"); the next digest
mailed to the reader explains its personal picks. Screenshots: for-you-{light,dark}.png."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request

import feedparser
import pytest
from playwright.sync_api import Browser, Page, expect

from paperfeed.db.feed import home_day
from paperfeed.digest.service import send_issue
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import load_sample_vectors
from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot
from tests.browser.test_journey import EMAIL, _sign_in

pytestmark = pytest.mark.slow

BECAUSE = re.compile(r"^because you upvoted “.+”$")


def _with_vectors(live: LiveHub) -> None:
    """The demo's shipped vectors, as `paperfeed init` loads them."""
    hub = live.hub
    assert hub.embedder is not None
    load_sample_vectors(db=hub.db, contract=contract_of(hub.embedder))
    hub.search_index.refresh_vectors()


def _upvote_three(page: Page, live: LiveHub) -> list[str]:
    page.goto(live.url + "/")  # the community feed: no signals yet
    cards = page.locator("article.card")
    voted = []
    for n in range(3):
        card = cards.nth(n)
        voted.append(card.locator(".card-title a").get_attribute("href") or "")
        card.locator(".upvote-button").click()
        expect(card.locator(".upvote-button")).to_have_attribute("aria-pressed", "true")
    return voted


def test_upvotes_make_for_you_home_with_reasons_in_page_feed_and_mail(
    browser: Browser, live: LiveHub
) -> None:
    _with_vectors(live)
    page = open_page(browser)
    _sign_in(page, live)
    voted = _upvote_three(page, live)

    # Home is now For you: picks, each explained by the upvoted paper nearest to it.
    page.goto(live.url + "/")
    expect(page).to_have_url(re.compile(r"/for-you$"))
    cards = page.locator("ol.cards article.card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 10
    reasons = cards.locator(".card-note").all_inner_texts()
    assert len(reasons) == cards.count()
    assert sum(bool(BECAUSE.match(r)) for r in reasons) >= cards.count() // 2
    shown = {cards.nth(i).locator(".card-title a").get_attribute("href") for i in range(10)}
    assert not shown & set(voted)  # what the reader upvoted is not offered back
    shoot(page, "for-you-light")
    assert_clean(page)
    dark = browser.new_context(
        color_scheme="dark",
        viewport={"width": 1280, "height": 900},
        storage_state=page.context.storage_state(),
    ).new_page()
    dark.goto(live.url + "/for-you")
    expect(dark.locator(".card-note").first).to_be_visible()
    shoot(dark, "for-you-dark")
    dark.context.close()

    # The private feed: the same picks, each item starting with its reason.
    page.get_by_role("button", name="Make a feed link").click()
    rss = page.locator("#new-feed").inner_text()
    with urllib.request.urlopen(rss) as answer:
        feed = feedparser.parse(answer.read())
    assert len(feed.entries) >= 10
    assert BECAUSE.match(feed.entries[0].summary.split("\n")[0].split(". ")[0].strip("<p>"))

    # Follow the first author of a paper in the window the reader did not upvote: their
    # papers come first, "you follow …".
    first = cards.nth(cards.count() - 1)
    first.locator(".card-title a").click()
    author = page.locator("header.paper-head a[href^='/authors/']").first
    name = author.inner_text()
    author.click()
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name="Following")).to_be_visible()
    page.goto(live.url + "/for-you")
    expect(page.locator(".card-note", has_text=f"you follow {name}").first).to_be_visible()

    # The next digest: the reader subscribes (personal picks on by default), and the mail
    # explains its personal picks.
    page.goto(live.url + "/digest")
    page.get_by_role("button", name=re.compile("Subscribe")).click()
    hub = live.hub
    with hub.db.read() as conn:
        day = home_day(conn)
    assert isinstance(day, dt.date)
    report = send_issue(hub, kind="daily", period=day)
    assert report.sent >= 1
    page.goto(live.url + "/dev/mailbox")
    page.locator("a.mail-item", has_text="Daily papers").first.click()
    assert EMAIL in page.content()
    mail = page.locator("pre.mail-text").inner_text()
    assert "because you upvoted" in mail or f"you follow {name}" in mail
    assert_clean(page)
