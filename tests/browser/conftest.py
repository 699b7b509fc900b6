"""Browser fixtures: the real app served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

No browser is downloaded: Playwright launches /usr/bin/chromium (`make test` installs it with
apt where it is missing). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.live_server import serve_app
from tests.web.conftest import SITE_NAME, sample_db_file

__all__ = ["sample_db_file"]

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Counts, in every page, the things that must never happen: script run by injected markup
# (payloads set window.__xss) and CSP violations (injected code the browser had to block).
WATCH = """
window.__xss = window.__xss || 0;
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@dataclass
class LiveHub:
    url: str
    hub: Hub


@pytest.fixture
def live(tmp_path: Path, sample_db_file: Path) -> Iterator[LiveHub]:
    """The app over a private copy of the sample, served on a free loopback port."""
    shutil.copyfile(sample_db_file, tmp_path / "paperfeed.db")
    shutil.copytree(sample_db_file.parent / "paperfeed-search", tmp_path / "paperfeed-search")
    hubs: list[Hub] = []

    def make_app(url: str) -> FastAPI:
        settings = Settings(data_dir=tmp_path, site_name=SITE_NAME, public_url=url)
        hubs.append(Hub.from_settings(settings, migrate=False))
        return create_app(hubs[0])

    try:
        with serve_app(make_app) as url:
            yield LiveHub(url, hubs[0])
    finally:
        for hub in hubs:
            hub.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an asyncio loop running in the
    # main thread while it is open, and later tests that run a loop of their own (Procrastinate,
    # the MCP clients) fail with "asyncio.run() cannot be called from a running event loop".
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make test` (it installs it with apt)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


def open_page(browser: Browser, *, dark: bool = False, width: int = 1280) -> Page:
    """A page in a fresh context (own cookies) that records XSS runs and CSP violations."""
    context = browser.new_context(
        color_scheme="dark" if dark else "light", viewport={"width": width, "height": 900}
    )
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_clean(page: Page) -> None:
    """No injected script ran and the CSP blocked nothing on this page."""
    assert page.evaluate("window.__xss") == 0
    assert page.evaluate("window.__csp") == []
