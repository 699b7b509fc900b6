"""The page layout in headless Chromium: the header stays one row at 1024 px, signed in too;
the menu opens on a phone; abstracts show two lines and open in place; nothing, the admin
table included, scrolls sideways at 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from paperfeed.db.users import Role, get_or_create_user, set_role
from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot
from tests.browser.test_journey import EMAIL, _sign_in

pytestmark = pytest.mark.slow


def _header_rows(page: Page) -> int:
    """How many rows the header's items take (distinct tops of its visible children)."""
    return int(
        page.evaluate(
            """new Set([...document.querySelector('.site-header-inner').children]
                .filter(el => el.offsetParent !== null)
                .map(el => Math.round(el.getBoundingClientRect().top
                                      + el.getBoundingClientRect().height / 2))).size"""
        )
    )


def test_the_signed_in_header_is_one_row_from_1024_px(browser: Browser, live: LiveHub) -> None:
    with live.hub.db.write() as conn:
        set_role(conn, get_or_create_user(conn, EMAIL).user_id, Role.ADMIN)
    page = open_page(browser, width=1024)
    _sign_in(page, live)
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live.url + "/")
        assert _header_rows(page) == 1, width
        header = page.locator("header.site-header").bounding_box()
        assert header is not None and header["height"] < 70, width
        box = page.get_by_label("Search papers").bounding_box()
        assert box is not None and box["width"] >= 150, width  # room to type a query
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    shoot(page, "header-signed-in-1024")
    page.context.close()


def test_the_phone_menu_opens_and_nothing_scrolls_sideways(browser: Browser, live: LiveHub) -> None:
    with live.hub.db.write() as conn:
        set_role(conn, get_or_create_user(conn, EMAIL).user_id, Role.ADMIN)
    page = open_page(browser, width=390)
    page.goto(live.url + "/")
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] < 70
    assert _header_rows(page) == 1
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_text("Menu").click()
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="Trending").click()
    expect(page.locator("h1")).to_have_text("This week")
    _sign_in_on_a_phone(page, live)
    for path in ("/", "/trending", "/search?q=graph", "/admin/users", "/settings"):
        page.goto(live.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    shoot(page, "admin-mobile")
    assert_clean(page)
    page.context.close()


def _sign_in_on_a_phone(page: Page, live: LiveHub) -> None:
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("link", name="development mailbox").click()
    page.get_by_role("link", name="Your sign-in link").first.click()
    page.locator("pre.mail-text a").click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Menu").click()
    expect(page.get_by_role("navigation", name="Menu").get_by_role("button", name="Sign out"))


def test_abstracts_show_two_lines_and_open_in_place(browser: Browser, live: LiveHub) -> None:
    page = open_page(browser)
    page.goto(live.url + "/")
    card = page.locator("article.card").first
    text = card.locator(".abstract-text")
    closed = text.bounding_box()
    line = float(text.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    assert closed is not None and closed["height"] <= 2 * line + 1
    toggle = card.locator(".abstract-toggle")
    expect(toggle).to_have_text("more of the abstract")
    url = page.url
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    opened = text.bounding_box()
    assert opened is not None and opened["height"] > closed["height"] + line
    assert page.url == url  # in place, no navigation
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # Six or more cards fit in a 900 px desktop screen once past the page head.
    heights = page.evaluate(
        "[...document.querySelectorAll('ol.cards > li')].slice(0, 12)"
        ".map(li => li.getBoundingClientRect().height)"
    )
    average = sum(heights) / len(heights)
    assert 900 / (average + 10) >= 6, average
    page.context.close()
