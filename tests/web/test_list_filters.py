"""Category filter, sort and totals on the day, week and month pages, and the category chips
that lead to them (web/feed_pages.py, db/feed_facets.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.feed import count_featured, feature_paper, feature_papers
from paperfeed.db.feed_facets import category_counts, featurings
from paperfeed.db.users import get_or_create_user, set_display_name
from paperfeed.hub import Hub
from paperfeed.models import Featuring
from paperfeed.periods import Period
from paperfeed.wording import human_date

DAY = dt.date(2026, 3, 20)
WEEK = Period("week", dt.date(2026, 3, 16))


def upvote_an_earlier_paper(hub: Hub) -> str:
    """Give a paper featured on Monday 16 March 50 imported upvotes; return its id."""
    with hub.db.write() as conn:
        paper_id = conn.exec_driver_sql(
            "SELECT paper_id FROM feed_entries WHERE day = '2026-03-16' LIMIT 1"
        ).scalar_one()
        feature_papers(conn, [Featuring(paper_id, dt.date(2026, 3, 16), "test", upvotes=50)])
    return str(paper_id)


def card_days(page: str) -> list[str]:
    return re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})" title="Featured', page)


def card_categories(page: str) -> list[list[str]]:
    cards = page.split('<article class="card')[1:]
    return [re.findall(r'class="badge[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', c) for c in cards]


def test_a_category_narrows_the_day_and_says_how_many_of_all(
    client: TestClient, sample_hub: Hub
) -> None:
    with sample_hub.db.read() as conn:
        total = count_featured(conn, DAY, DAY + dt.timedelta(days=1))
        in_cv = count_featured(conn, DAY, DAY + dt.timedelta(days=1), category="cs.CV")
    assert 30 < in_cv < total
    page = client.get("/papers?date=2026-03-20&category=cs.CV").text
    assert f"{in_cv} papers in " in page and f">cs.CV</a>, of {total}" in page
    assert '<a href="/categories/cs.CV" title="Every paper featured in cs.CV">' in page
    cards = card_categories(page)
    assert len(cards) == 30
    assert all("cs.CV" in names for names in cards)
    assert f'<option value="cs.CV" selected>cs.CV ({in_cv})</option>' in page
    assert f'<option value="">All ({total})</option>' in page
    # The next page keeps the filter.
    assert 'href="/papers?date=2026-03-20&amp;category=cs.CV&amp;page=2"' in page


def test_the_filter_lists_each_category_with_its_total(client: TestClient, sample_hub: Hub) -> None:
    with sample_hub.db.read() as conn:
        counts = category_counts(conn, WEEK.start, WEEK.end)
    assert counts == sorted(counts, key=lambda item: (-item[1], item[0]))
    page = client.get(f"/papers?{WEEK.query()}").text
    for name, n in counts[:5]:
        assert f'<option value="{name}">{name} ({n:,})</option>' in page


def test_newest_first_sorts_a_week_by_featured_day(client: TestClient, sample_hub: Hub) -> None:
    upvote_an_earlier_paper(sample_hub)
    by_upvotes = card_days(client.get(f"/papers?{WEEK.query()}").text)
    newest = card_days(client.get(f"/papers?{WEEK.query()}&sort=newest").text)
    assert len(newest) == 30
    assert newest == sorted(newest, reverse=True)
    assert newest[0] == "2026-03-20"
    assert by_upvotes[0] == "2026-03-16"  # the most upvoted paper comes first by default
    page = client.get(f"/papers?{WEEK.query()}&sort=newest").text
    assert '<option value="newest" selected>Newest</option>' in page
    # Pages and the period tabs keep the order.
    assert "sort=newest&amp;page=2" in page
    assert '<a href="/papers?date=2026-03-20&amp;sort=newest">Day</a>' in page


def test_cards_in_multi_day_lists_carry_their_day(client: TestClient, sample_hub: Hub) -> None:
    upvote_an_earlier_paper(sample_hub)
    page = client.get("/papers?month=2026-03").text
    days = card_days(page)
    assert len(days) == 30
    assert len(set(days)) > 1


def test_category_chips_lead_to_the_same_list_in_that_category(client: TestClient) -> None:
    page = client.get(f"/papers?{WEEK.query()}&sort=newest").text
    chip = re.search(r'class="badge badge-primary" href="([^"]+)"', page)
    assert chip is not None
    assert chip[1].startswith("/papers?week=2026-W12&amp;sort=newest&amp;category=")
    followed = client.get(chip[1].replace("&amp;", "&"))
    assert followed.status_code == 200
    assert "papers in " in followed.text or "paper in " in followed.text


def test_a_category_alone_on_the_search_page_lists_its_latest_papers(
    client: TestClient,
) -> None:
    page = client.get("/search?category=cs.CL").text
    assert "<h1>Latest papers in cs.CL</h1>" in page
    cards = card_categories(page)
    assert 0 < len(cards) <= 50
    assert all("cs.CL" in names for names in cards)


@pytest.mark.parametrize(
    "query", ["date=2026-03-20&sort=best", "date=2026-03-20&category=cs%22CL", "category=%3Cx%3E"]
)
def test_bad_filters_are_a_400_page(client: TestClient, query: str) -> None:
    assert client.get(f"/papers?{query}").status_code == 400


def test_an_empty_category_says_so_and_links_back_to_all(client: TestClient) -> None:
    page = client.get("/papers?date=2026-03-20&category=nucl-th.XX").text
    assert "No papers in nucl-th.XX were featured on" in page
    assert '<a href="/papers?date=2026-03-20">See all categories</a>' in page


def test_featurings_name_the_submitter_and_the_latest_day(sample_hub: Hub) -> None:
    with sample_hub.db.read() as conn:
        paper_id = conn.exec_driver_sql(
            "SELECT paper_id FROM feed_entries WHERE day = '2026-03-20' LIMIT 1"
        ).scalar_one()
        found = featurings(conn, [paper_id, "no-such-paper"])
    assert list(found) == [paper_id]
    assert found[paper_id].day == DAY
    assert found[paper_id].submitter is None  # imported, not featured by a reader


def test_a_papers_page_says_when_and_by_whom_it_was_featured(
    client: TestClient, sample_hub: Hub
) -> None:
    with sample_hub.db.write() as conn:
        user = get_or_create_user(conn, "curator@example.org")
        set_display_name(conn, user.user_id, "Ada Curator")
        feature_paper(
            conn, "2603.12270", dt.date(2026, 3, 21), user_id=user.user_id, source="curator"
        )
    page = client.get("/papers/2603.12270").text
    assert f'Featured <time datetime="2026-03-21">{human_date(dt.date(2026, 3, 21))}</time>' in page
    assert "submitted by <strong>Ada Curator</strong>" in page
    # On the day's list, the card names the submitter too.
    day = client.get("/papers?date=2026-03-21").text
    assert "Submitted by <strong>Ada Curator</strong>" in day
