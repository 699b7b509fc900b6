"""An author page in headless Chromium: a name on a card leads to it, a member follows the author
and claims the page, a curator approves the claim on the queue, and the page says "claimed by";
light, dark and a 375 px phone, with screenshots, never scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from paperfeed.community.accounts import Role, set_role_by_email
from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot
from tests.browser.test_journey import EMAIL, _sign_in

pytestmark = pytest.mark.slow


def test_a_member_follows_and_claims_an_author_and_a_curator_approves(
    browser: Browser, live: LiveHub
) -> None:
    page = open_page(browser)
    page.goto(f"{live.url}/papers?date=2026-03-20")
    first = page.locator(".card .author-link").first
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    author_url = page.url
    expect(page.get_by_role("heading", name="Co-authors")).to_be_visible()
    expect(page.locator(".author-actions").get_by_role("link", name="Sign in")).to_be_visible()
    shoot(page, "author-light")

    _sign_in(page, live)
    page.goto(author_url)
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".count")).to_contain_text("1 follower")

    page.get_by_text("This is me").click()
    page.get_by_label("A word for the curator").fill("My page: https://example.org/me")
    page.get_by_role("button", name="Claim this author page").click()
    expect(page.get_by_text("Your claim of this page waits for a curator.")).to_be_visible()

    set_role_by_email(db=live.hub.db, email=EMAIL, role=Role.CURATOR)
    page.goto(f"{live.url}/admin/claims")
    expect(page.get_by_role("cell", name="My page: https://example.org/me")).to_be_visible()
    shoot(page, "author-claims-light")
    page.get_by_role("button", name=f"Approve {EMAIL.split('@')[0]} as {name}").click()
    expect(page.get_by_text("No claim is waiting.")).to_be_visible()

    page.goto(author_url)
    expect(page.locator(".count")).to_contain_text(f"claimed by {EMAIL.split('@')[0]}")
    page.goto(f"{live.url}/settings")
    expect(page.get_by_role("heading", name="My papers")).to_be_visible()
    expect(page.locator("#my-papers").get_by_role("link", name=name)).to_be_visible()
    assert_clean(page)
    page.context.close()

    for dark, width, label in ((True, 1280, "dark"), (False, 375, "mobile")):
        other = open_page(browser, dark=dark, width=width)
        other.goto(author_url)
        expect(other.get_by_role("heading", level=1, name=name)).to_be_visible()
        assert other.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(other, f"author-{label}")
        assert_clean(other)
        other.context.close()
