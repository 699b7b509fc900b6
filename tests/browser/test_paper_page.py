"""The rich paper page in headless Chromium, light and dark (#14's must-show): a paper's code
link with the stars the daily loop counted from a fake GitHub on 127.0.0.1, its keyphrases as
links to a search, its BibTeX; and a public collection whose notes travel in its BibTeX export.
Screenshots: test-artifacts/screenshots/paper-rich-{light,dark}.png."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request

import bibtexparser
import pytest
from playwright.sync_api import Browser, expect

from paperfeed.db.collections import create_collection, set_in_collection, update_item_note
from paperfeed.db.links import links_of
from paperfeed.db.users import get_or_create_user
from paperfeed.loop.jobs import refresh_stars
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import load_sample_vectors
from tests.browser.conftest import LiveHub, assert_clean, open_page, shoot
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.fake_github import FakeGitHub

pytestmark = pytest.mark.slow

LOOPBACK = frozenset({"127.0.0.1"})
NOW = dt.datetime(2026, 3, 21, 9, 0, tzinfo=dt.UTC)
STARS = 4321


def _paper_with_code(live: LiveHub) -> tuple[str, str]:
    """A sample paper whose abstract links a GitHub repository, and that repository's slug."""
    with live.hub.db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT paper_id FROM paper_links WHERE kind = 'github' ORDER BY paper_id"
        ).fetchall()
        found = links_of(conn, [r[0] for r in rows])
    for paper_id, links in found.items():
        for link in links.links:
            if link.kind == "github" and link.url.count("/") == 4:
                return paper_id, link.url.removeprefix("https://github.com/")
    raise AssertionError("the sample has no paper linking a GitHub repository")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_paper_page_shows_code_stars_keyphrases_and_bibtex(
    browser: Browser, live: LiveHub, scheme: str
) -> None:
    hub = live.hub
    paper_id, slug = _paper_with_code(live)
    # The shipped sample keyphrases, as `paperfeed init` loads them with the sample vectors.
    assert hub.embedder is not None
    load_sample_vectors(db=hub.db, contract=contract_of(hub.embedder))
    server = ScriptedServer(FakeClock())
    server.route(FakeGitHub(stars={slug: STARS}, remaining=5_000))
    try:
        hub.settings.github_api_url = server.url
        hub.settings.github_stars_per_run = 1_000  # the tests turn the job off by default
        counts = refresh_stars(hub, now=NOW, http_clock=server.clock, allowed_hosts=LOOPBACK)
    finally:
        server.close()
    assert counts["counted"] >= 1, counts

    page = open_page(browser, dark=scheme == "dark")
    page.goto(f"{live.url}/papers/{paper_id}")
    expect(page.locator("h1#paper-title")).to_be_visible()
    repo = page.locator(f'a[href="https://github.com/{slug}"]').first
    expect(repo).to_be_visible()
    expect(page.locator(".stars").first).to_have_text(f"★ {STARS}")
    chips = page.locator("section[aria-labelledby=keyphrases-title] a")
    expect(chips.first).to_be_visible()
    assert chips.count() >= 3
    assert re.search(r"/search\?q=", chips.first.get_attribute("href") or "")
    bibtex = page.locator("pre.cite-bibtex").inner_text()
    entry = bibtexparser.parse_string(bibtex).entries[0]
    assert entry.fields_dict["eprint"].value == paper_id
    shoot(page, f"paper-rich-{scheme}")
    assert_clean(page)

    # A keyphrase chip leads to a search that finds the paper.
    chips.first.click()
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator(f'article.card a[href="/papers/{paper_id}"]').first).to_be_visible()


def test_a_public_collection_exports_its_notes_as_bibtex(browser: Browser, live: LiveHub) -> None:
    hub = live.hub
    paper_id, _ = _paper_with_code(live)
    with hub.db.write() as conn:
        owner = get_or_create_user(conn, "group@example.org")
        collection = create_collection(conn, owner.user_id, "Reading group", is_public=True)
        assert set_in_collection(conn, collection, owner.user_id, paper_id, present=True)
        update_item_note(
            conn, collection, owner.user_id, paper_id, note="Discuss section 3 & the {ablation}"
        )

    page = open_page(browser)
    page.goto(f"{live.url}/collections/{collection}")
    expect(page.get_by_text("Discuss section 3 & the {ablation}")).to_be_visible()
    link = page.get_by_role("link", name=re.compile("BibTeX"))
    href = link.first.get_attribute("href")
    assert href
    with urllib.request.urlopen(live.url + href.replace("&amp;", "&")) as answer:
        text = answer.read().decode("utf-8")
    entries = bibtexparser.parse_string(text).entries
    assert [e.fields_dict["eprint"].value for e in entries] == [paper_id]
    annote = entries[0].fields_dict["annote"].value
    assert "Discuss section 3" in annote and "ablation" in annote
    assert_clean(page)
