"""A conversation in Chromium: Ada comments, Bob replies under her comment (the Reply form
opens in place, no script needed), and Ada's header shows the notification, which leads to the
reply. Screenshots of the thread and the notifications page, light, dark and phone-wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from paperfeed.db.feed import latest_feed_day, papers_for_day
from tests.browser.conftest import SCREENSHOTS, LiveHub, assert_clean, open_page, shoot

pytestmark = pytest.mark.slow


def _sign_in(page: Page, live: LiveHub, email: str) -> None:
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(f"{live.url}/dev/mailbox?to={email}")
    page.get_by_role("link", name=re.compile("Your sign-in link")).first.click()
    page.locator("pre.mail-text a").click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("a.notify-link:visible")).to_be_visible()  # signed in (the header bell)


def _a_paper(live: LiveHub) -> str:
    with live.hub.db.read() as conn:
        day = latest_feed_day(conn)
        assert day is not None
        return papers_for_day(conn, day)[0].paper.paper_id


def test_a_reply_notifies_the_parent_author(browser: Browser, live: LiveHub) -> None:
    paper = _a_paper(live)
    ada = open_page(browser)
    _sign_in(ada, live, "ada@example.org")
    ada.goto(f"{live.url}/papers/{paper}")
    ada.get_by_label("Add a comment").fill("Does the method hold up on long inputs?")
    ada.get_by_role("button", name="Post comment").click()
    expect(ada.locator(".comment-body", has_text="long inputs")).to_be_visible()
    expect(ada.locator("a.notify-link:visible .notify-count")).to_have_count(0)

    bob = open_page(browser, dark=True)
    _sign_in(bob, live, "bob@example.org")
    bob.goto(f"{live.url}/papers/{paper}")
    thread = bob.locator("li.comment", has_text="long inputs")
    thread.get_by_text("Reply", exact=True).click()
    bob.get_by_label("Reply to ada").fill("It does, @ada: see table 3.")
    bob.get_by_role("button", name="Post reply").click()
    reply = bob.locator("li.comment.depth-1", has_text="see table 3")
    expect(reply).to_be_visible()
    expect(reply.locator("a.mention")).to_have_text("@ada")
    shoot(bob, "conversation-thread-dark")
    assert_clean(bob)

    ada.reload()
    expect(ada.locator("a.notify-link:visible .notify-count")).to_have_text("1")
    shoot(ada, "conversation-thread-light")
    ada.get_by_role("link", name=re.compile("Notifications, 1 unread")).click()
    expect(ada.get_by_role("heading", name="Notifications")).to_be_visible()
    item = ada.locator("li.notification.unread")
    expect(item).to_contain_text("bob replied to your comment on")
    expect(item).to_contain_text("see table 3")
    shoot(ada, "notifications-light")
    item.get_by_role("link").nth(1).click()  # the paper's title, at the reply
    assert re.search(r"#comment-\d+$", ada.url)
    expect(ada.locator(":target")).to_contain_text("see table 3")
    ada.goto(f"{live.url}/notifications")
    ada.get_by_role("button", name="Mark all read").click()
    expect(ada.locator("a.notify-link:visible .notify-count")).to_have_count(0)
    assert_clean(ada)

    phone = open_page(browser, width=375)
    _sign_in(phone, live, "ada@example.org")
    for path, name in (
        (f"/papers/{paper}", "conversation-thread-mobile"),
        ("/notifications", "notifications-mobile"),
    ):
        phone.goto(live.url + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
        shoot(phone, name)
    # The parts that changed, at full size: the header with its bell, and the thread.
    phone.locator("header").screenshot(path=str(SCREENSHOTS / "header-mobile.png"))
    phone.goto(f"{live.url}/papers/{paper}")
    phone.locator("#comments").screenshot(path=str(SCREENSHOTS / "comments-mobile.png"))
    bob.goto(f"{live.url}/papers/{paper}")
    bob.locator("#comments").screenshot(path=str(SCREENSHOTS / "comments-dark.png"))
    for page in (ada, bob, phone):
        page.context.close()
