"""The feed by day, ISO week and month: order, pagination, navigation, empty and bad periods."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.feed import count_featured, feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from paperfeed.web.feed_pages import PAGE_SIZE
from paperfeed.wording import human_date

WEEK_12 = (dt.date(2026, 3, 16), dt.date(2026, 3, 23))  # the sample week, Monday to Sunday


def add(hub: Hub, paper_id: str, title: str, days: list[dt.date], upvotes: int = 0) -> None:
    record = PaperRecord(paper_id=paper_id, title=title, abstract="An abstract.")
    with hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring(paper_id, day, "test", upvotes=upvotes) for day in days])


def card_titles(page: str) -> list[str]:
    return re.findall(r'<h2 class="card-title[^"]*"[^>]*><a href="[^"]+">([^<]+)</a>', page)


def card_upvotes(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<span class="upvote-count"[^>]*>(\d+)</span>', page)]


def test_a_week_lists_its_papers_once_each_most_upvoted_first(
    client: TestClient, sample_hub: Hub
) -> None:
    add(sample_hub, "2603.90001", "Tuesday Star", [dt.date(2026, 3, 17)], upvotes=50)
    add(sample_hub, "2603.90002", "Friday Star", [dt.date(2026, 3, 20)], upvotes=70)
    # Featured twice in the week: listed once, with its highest imported count.
    add(
        sample_hub, "2603.90003", "Twice Featured", [dt.date(2026, 3, 16), dt.date(2026, 3, 19)], 60
    )
    response = client.get("/papers", params={"week": "2026-W12"})
    assert response.status_code == 200
    page = response.text
    assert "<title>Weekly papers · Week 12 · 16–22 March 2026 · " in page
    titles = card_titles(page)
    assert titles[:3] == ["Friday Star", "Twice Featured", "Tuesday Star"]
    assert len(titles) == PAGE_SIZE and titles.count("Twice Featured") == 1
    upvotes = card_upvotes(page)
    assert upvotes == sorted(upvotes, reverse=True)
    with sample_hub.db.read() as conn:
        total = count_featured(conn, *WEEK_12)
    assert f"{total:,} papers · page 1 of {-(-total // PAGE_SIZE)}" in page


def test_a_month_is_paginated_without_gaps_or_repeats(client: TestClient, sample_hub: Hub) -> None:
    with sample_hub.db.read() as conn:
        total = count_featured(conn, dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    pages = -(-total // PAGE_SIZE)
    first = client.get("/papers?month=2026-03").text
    assert 'href="/papers?month=2026-03&amp;page=2">Next page' in first
    seen: list[str] = []
    for number in (1, 2, pages):
        page = client.get(f"/papers?month=2026-03&page={number}").text
        seen += card_titles(page)
    last = client.get(f"/papers?month=2026-03&page={pages}").text
    assert len(card_titles(last)) == total - (pages - 1) * PAGE_SIZE
    assert "Next page" not in last and "Previous page" in last
    assert len(seen) == len(set(seen))
    beyond = client.get(f"/papers?month=2026-03&page={pages + 1}")
    assert beyond.status_code == 404
    assert f"has {pages} pages of papers" in beyond.text


def test_tabs_switch_between_the_day_week_and_month_of_the_same_day(client: TestClient) -> None:
    page = client.get("/papers?date=2026-03-18").text
    tabs = page[page.index('<nav class="period-tabs"') :]
    tabs = tabs[: tabs.index("</nav>")]
    assert '<a href="/papers?date=2026-03-18" aria-current="page">Day</a>' in tabs
    assert '<a href="/papers?week=2026-W12">Week</a>' in tabs
    assert '<a href="/papers?month=2026-03">Month</a>' in tabs
    # From a month, the day tab goes to its latest day with papers, not to the 1st.
    month = client.get("/papers?month=2026-03").text
    assert '<a href="/papers?date=2026-03-20">Day</a>' in month


def test_week_and_month_navigation_skips_empty_periods(client: TestClient, sample_hub: Hub) -> None:
    add(sample_hub, "2602.90001", "February Paper", [dt.date(2026, 2, 4)])
    add(sample_hub, "2606.90001", "June Paper", [dt.date(2026, 6, 10)])
    week = client.get("/papers?week=2026-W12").text
    assert 'rel="prev" href="/papers?week=2026-W06"' in week
    assert 'rel="next" href="/papers?week=2026-W24"' in week
    month = client.get("/papers?month=2026-03").text
    assert 'rel="prev" href="/papers?month=2026-02"' in month
    assert 'rel="next" href="/papers?month=2026-06"' in month
    assert "Previous month:</span> Feb 2026" in month


def test_an_empty_week_links_to_the_nearest_days_with_papers(
    client: TestClient, sample_hub: Hub
) -> None:
    add(sample_hub, "2606.90001", "June Paper", [dt.date(2026, 6, 10)])
    response = client.get("/papers?week=2026-W20")
    assert response.status_code == 200
    page = response.text
    assert "No papers were featured in Week 20 · 11–17 May 2026." in page
    before, after = human_date(dt.date(2026, 3, 20)), human_date(dt.date(2026, 6, 10))
    assert f'<a href="/papers?date=2026-03-20">{before}</a> (before)' in page
    assert f'<a href="/papers?date=2026-06-10">{after}</a> (after)' in page
    assert "paperfeed ingest sample" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("week=2026-W54", "is not an ISO week"),
        ("week=2026-12", "is not an ISO week"),
        ("month=2026-13", "is not a month"),
        ("month=March", "is not a month"),
        ("date=2026-03-20&week=2026-W12", "not date and week together"),
        ("date=2026-03-20&page=0", "whole number from 1 up"),
        ("week=2026-W12&page=two", "whole number from 1 up"),
    ],
)
def test_bad_parameters_are_a_400_page(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/papers?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text


def test_readers_upvotes_count_and_show_at_once(client: TestClient, sample_hub: Hub) -> None:
    add(sample_hub, "2603.90001", "Imported Favourite", [dt.date(2026, 3, 20)], upvotes=5)
    add(sample_hub, "2603.90002", "Readers Favourite", [dt.date(2026, 3, 20)], upvotes=4)
    before = client.get("/").text  # also fills the page cache
    assert card_titles(before)[:2] == ["Imported Favourite", "Readers Favourite"]
    with sample_hub.db.write() as conn:
        for n in range(2):
            user = get_or_create_user(conn, f"reader{n}@example.org")
            set_upvote(conn, user.user_id, "2603.90002", on=True)
    after = client.get("/").text
    assert card_titles(after)[:2] == ["Readers Favourite", "Imported Favourite"]
    assert card_upvotes(after)[:2] == [6, 5]


def test_feed_pages_advertise_rss_and_atom(client: TestClient) -> None:
    page = client.get("/papers?week=2026-W12").text
    assert (
        '<link rel="alternate" type="application/rss+xml" '
        'title="Week 12 · 16–22 March 2026 (RSS)" href="/papers.rss?week=2026-W12">'
    ) in page
    assert 'type="application/atom+xml"' in page and 'href="/papers.atom?week=2026-W12"' in page


def test_signed_in_readers_get_their_own_page_not_the_cached_one(
    client: TestClient, sample_hub: Hub
) -> None:
    from paperfeed.db.sessions import create_session
    from paperfeed.web.cookies import cookie_policy

    anonymous = client.get("/").text  # fills the shared cache
    assert 'name="csrf_token"' not in anonymous
    with sample_hub.db.write() as conn:
        user = get_or_create_user(conn, "reader@example.org")
        set_upvote(conn, user.user_id, "2603.19235", on=True)
        token = create_session(conn, user.user_id)
    client.cookies.set(cookie_policy(sample_hub.settings).session, token)
    # This store has no vectors, so For you cannot rank and home stays the feed (docs/for-you.md).
    assert client.get("/", follow_redirects=False).status_code == 200
    page = client.get("/?feed=community").text
    assert 'name="csrf_token"' in page  # the upvote forms, for this browser only
    assert 'aria-pressed="true"' in page  # the reader's own upvote
    client.cookies.clear()
    assert 'aria-pressed="true"' not in client.get("/").text


@pytest.mark.parametrize("path", ["/search?q=graph&page=0", "/trending?page=x", "/?page=-1"])
def test_every_list_refuses_a_bad_page_number_with_a_400_page(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "whole number from 1 up" in response.text
