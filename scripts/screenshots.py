"""Screenshots of the main pages, for before/after comparisons of the web design.

Builds a demo store (`paperfeed init`) in a temporary folder, serves it on a loopback port,
and drives Debian's Chromium (Playwright, as the browser tests do) through home, the week,
trending, a paper, search, the signed-in header and the admin table, each at desktop
1280x900 (light), desktop dark and mobile 390x844. Each shot is the first screen (what a
visitor sees before scrolling), saved as OUT/MODE-PAGE.png.

    PYTHONPATH=src .venv/bin/python scripts/screenshots.py docs/screenshots/after [--port 8537]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
EMAIL = "admin@example.org"
MODES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
    "mobile": {"viewport": {"width": 390, "height": 844}, "color_scheme": "light"},
}


def _paperfeed() -> str:
    return str(Path(sys.executable).with_name("paperfeed"))


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PAPERFEED_SEMANTIC_SEARCH": "false",
    }
    subprocess.run([_paperfeed(), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [_paperfeed(), "users", "role", EMAIL, "admin", "--create"],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [_paperfeed(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("paperfeed serve did not start") from None
            time.sleep(0.3)


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("link", name="development mailbox").click()
    page.get_by_role("link", name=re.compile("Your sign-in link")).first.click()
    page.locator("pre.mail-text a").click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator('form[action="/sign-out"]').first).to_be_attached()


def _shoot_mode(browser: Browser, url: str, out: Path, mode: str) -> None:
    context = browser.new_context(**MODES[mode])  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(20_000)

    def shot(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(url + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / f"{mode}-{name}.png"))

    shot("home", "/")
    week = page.locator(".period-tabs a", has_text="Week").first.get_attribute("href")
    shot("week", week or "/")
    shot("trending", "/trending")
    paper = page.locator("article.card .card-title a").first.get_attribute("href")
    shot("paper", paper or "/")
    shot("search", "/search?q=language+models")
    _sign_in(page, url)
    shot("home-signed-in", "/")
    if mode == "mobile":
        page.get_by_text("Menu").click()
        shot("menu-signed-in")
    if mode != "mobile":
        page.set_viewport_size({"width": 1024, "height": 900})
        shot("home-signed-in-1024", "/")
    shot("admin", "/admin/users")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="Folder for the PNG files.")
    parser.add_argument("--port", type=int, default=8537)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        server = _serve(Path(data_dir), args.port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                for mode in MODES:
                    _shoot_mode(browser, f"http://127.0.0.1:{args.port}", args.out, mode)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    sys.stdout.write(f"screenshots in {args.out}\n")


if __name__ == "__main__":
    main()
