"""A curator triages `/new` from the keyboard in headless Chromium: j / k move, f features and
unfeatures the paper in focus in place (no page load), and the store follows."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from paperfeed.community.accounts import Role, set_role_by_email
from paperfeed.db.announcements import Announcement, featured_on, record_announcements, vetoed_on
from paperfeed.db.feed import papers_for_day
from tests.browser.conftest import LiveHub, assert_clean, open_page
from tests.browser.test_journey import EMAIL, _sign_in

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 3, 24)  # a listing day after the sample's week: nothing featured on it


def test_a_curator_features_and_unfeatures_by_key_without_leaving_the_page(
    browser: Browser, live: LiveHub
) -> None:
    db = live.hub.db
    with db.read() as conn:
        listed = [item.paper.paper_id for item in papers_for_day(conn, dt.date(2026, 3, 20))][:4]
    with db.write() as conn:
        record_announcements(conn, [Announcement(DAY, "cs.CL", pid, "new") for pid in listed])
    page = open_page(browser)
    _sign_in(page, live)
    set_role_by_email(db=db, email=EMAIL, role=Role.CURATOR)
    page.goto(f"{live.url}/new?day={DAY.isoformat()}")
    expect(page.locator(".triage-item")).to_have_count(4)
    page.evaluate("window.__samePage = true")  # gone if anything reloads the page

    page.keyboard.press("j")
    page.keyboard.press("j")
    second = page.locator(".triage-item").nth(1)
    second_id = (second.get_attribute("id") or "").removeprefix("paper-")
    assert (
        page.evaluate("document.activeElement.closest('.triage-item').id") == f"paper-{second_id}"
    )
    page.keyboard.press("f")
    expect(second.locator(".feature-form button")).to_have_text("Featured ✓ · Unfeature")
    expect(second.locator(".feature-note")).to_have_text("Featured by you")
    with db.read() as conn:
        assert featured_on(conn, DAY) == {second_id}

    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("f")
    expect(second.locator(".feature-form button")).to_have_text("Feature")
    with db.read() as conn:
        assert featured_on(conn, DAY) == set()
        assert vetoed_on(conn, DAY) == {second_id}

    # A click on another row's button works in place too.
    first = page.locator(".triage-item").first
    first.locator(".feature-form button").click()
    expect(first.locator(".feature-form button")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__samePage") is True
    assert page.url.endswith(f"/new?day={DAY.isoformat()}")
    # Typing in the search box is not a key press for triage.
    page.locator("#site-q").focus()
    page.keyboard.press("f")
    with db.read() as conn:
        assert len(featured_on(conn, DAY)) == 1
    assert_clean(page)
    page.context.close()
