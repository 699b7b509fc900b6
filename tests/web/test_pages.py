"""The HTML pages, through the real app over the real sample week (2026-03-16..20)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from paperfeed.db.feed import feature_papers, papers_for_day
from paperfeed.db.papers import upsert_papers
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord, PaperStatus
from paperfeed.web.app import SECURITY_HEADERS
from paperfeed.wording import human_date, long_date, short_authors
from tests.web.conftest import SITE_NAME

LAST_DAY = dt.date(2026, 3, 20)


def add_paper(
    hub: Hub, record: PaperRecord, *, day: dt.date | None = LAST_DAY, upvotes: int = 0
) -> None:
    """Store a paper and feature it on `day`."""
    with hub.db.write() as conn:
        upsert_papers(conn, [record])
        if day is not None:
            feature_papers(conn, [Featuring(record.paper_id, day, "test", upvotes=upvotes)])


def titles_on(hub: Hub, day: dt.date) -> list[str]:
    with hub.db.read() as conn:
        return [item.paper.title for item in papers_for_day(conn, day)]


def test_home_shows_the_latest_day_with_its_papers(client: TestClient, sample_hub: Hub) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    titles = titles_on(sample_hub, LAST_DAY)
    assert '<h1><time datetime="2026-03-20">Friday, 20 March 2026</time></h1>' in page
    assert f"{len(titles)} papers" in page
    for title in titles[:30]:  # the first page of the feed (feed_pages.PAGE_SIZE)
        assert str(escape(title)) in page
    assert f"<title>Daily papers · Friday, 20 March 2026 · {SITE_NAME}</title>" in page


def test_home_links_to_the_previous_day_and_not_to_a_later_one(client: TestClient) -> None:
    page = client.get("/").text
    assert 'rel="prev" href="/papers?date=2026-03-19"' in page
    assert 'rel="next"' not in page


def test_feed_of_a_given_day_shows_that_day_and_its_neighbours(
    client: TestClient, sample_hub: Hub
) -> None:
    response = client.get("/papers", params={"date": "2026-03-18"})
    assert response.status_code == 200
    page = response.text
    assert "Wednesday, 18 March 2026" in page
    assert 'rel="prev" href="/papers?date=2026-03-17"' in page
    assert 'rel="next" href="/papers?date=2026-03-19"' in page
    for title in titles_on(sample_hub, dt.date(2026, 3, 18))[:20]:
        assert str(escape(title)) in page
    assert str(escape(titles_on(sample_hub, LAST_DAY)[0])) not in page


def test_feed_navigation_skips_days_without_papers(client: TestClient) -> None:
    # The sample has no weekend: a Sunday's previous day is the Friday before it.
    page = client.get("/papers?date=2026-03-22").text
    assert 'rel="prev" href="/papers?date=2026-03-20"' in page
    assert 'rel="next"' not in page


def test_a_day_without_papers_is_a_friendly_empty_page(client: TestClient) -> None:
    response = client.get("/papers?date=2026-03-21")
    assert response.status_code == 200
    assert "No papers were featured on Saturday, 21 March 2026." in response.text
    assert "paperfeed ingest sample" not in response.text


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-02-30", "20260320", "2026-W12-5"])
def test_a_malformed_date_is_a_400_page(client: TestClient, bad: str) -> None:
    response = client.get("/papers", params={"date": bad})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert f"“{bad}” is not a date" in response.text
    assert "YYYY-MM-DD" in response.text
    assert "Traceback" not in response.text


def test_papers_without_a_date_go_to_the_latest_feed(client: TestClient) -> None:
    response = client.get("/papers", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/"


def test_feed_cards_show_upvotes_categories_authors_and_links(
    client: TestClient, sample_hub: Hub
) -> None:
    authors = tuple(f"Author {n}" for n in range(1, 10))
    add_paper(
        sample_hub,
        PaperRecord(
            paper_id="2603.99999",
            title="A Much Upvoted Paper",
            abstract="An abstract worth opening.",
            authors=authors,
            categories=("cs.AI", "cs.LG", "stat.ML"),
            primary_category="cs.LG",
        ),
        upvotes=42,
    )
    page = client.get("/").text
    card = page[page.index('<article class="card"') : page.index("</article>")]
    assert "A Much Upvoted Paper" in card, "the most upvoted paper comes first"
    assert '<span class="upvote-count">42</span>' in card
    # Each name links to its author page.
    assert "Author 1, Author 2, Author 3 … and 6 more" in re.sub(r"<[^>]+>", "", card)
    assert '<a class="author-link" href="/authors/1-author">Author 1</a>' in card
    badges = re.findall(r'<a class="badge[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', card)
    assert badges == ["cs.LG", "cs.AI", "stat.ML"]
    # Each category chip narrows the same day's list to its category.
    day = re.search(r"date=(\d{4}-\d{2}-\d{2})", card)
    assert day is not None
    assert f'class="badge badge-primary" href="/papers?date={day[1]}&amp;category=cs.LG"' in card
    assert '<div class="abstract">' in card and "An abstract worth opening." in card
    assert 'class="abstract-toggle"' in card
    assert 'href="/papers/2603.99999"' in card
    assert 'href="https://arxiv.org/abs/2603.99999"' in card
    assert 'href="https://arxiv.org/pdf/2603.99999"' in card


def test_paper_page_shows_the_paper_and_the_days_it_was_featured(client: TestClient) -> None:
    response = client.get("/papers/2603.12270")
    assert response.status_code == 200
    page = response.text
    assert "Task-Specific Knowledge Distillation via Intermediate Probes" in page
    assert "Knowledge distillation from large language models (LLMs) assumes" in page
    assert "Ryan Brown, Chris Russell" in re.sub(r"<[^>]+>", "", page)
    assert '<a class="author-link" href="/authors/brown-ryan">Ryan Brown</a>' in page
    assert '<a class="badge badge-primary" href="/categories/cs.CL"' in page
    assert '<a class="badge" href="/categories/cs.AI"' in page
    assert 'href="https://arxiv.org/abs/2603.12270"' in page
    assert 'href="https://arxiv.org/pdf/2603.12270"' in page
    assert '<a href="/papers?date=2026-03-16"><time datetime="2026-03-16">' in page
    assert "Announced" in page and human_date(dt.date(2026, 3, 16)) in page


def test_paper_page_lists_every_author_and_the_publication_details(
    client: TestClient, sample_hub: Hub
) -> None:
    authors = tuple(f"Author {n}" for n in range(1, 13))
    add_paper(
        sample_hub,
        PaperRecord(
            paper_id="2603.99998",
            version=3,
            title="Published Paper",
            abstract="Text.",
            authors=authors,
            submitted=dt.datetime(2026, 3, 2, 17, 59),
            updated=dt.datetime(2026, 3, 18, 9, 0),
            comment="12 pages, 4 figures",
            journal_ref="J. Test. 12 (2026) 1-12",
            doi="10.1000/xyz<123>",
        ),
        day=None,
    )
    page = client.get("/papers/2603.99998").text
    assert ", ".join(authors) in re.sub(r"<[^>]+>", "", page)
    assert "arXiv:2603.99998v3" in page
    for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 18)):
        assert f'<time datetime="{day.isoformat()}">{human_date(day)}</time>' in page
    assert "12 pages, 4 figures" in page and "J. Test. 12 (2026) 1-12" in page
    assert 'href="https://doi.org/10.1000/xyz%3C123%3E">10.1000/xyz&lt;123&gt;</a>' in page
    assert "Not featured in the daily feed yet." in page


@pytest.mark.parametrize("path", ["/papers/2603.12270v2", "/papers/arXiv:2603.12270v1"])
def test_a_versioned_id_redirects_to_the_paper(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/papers/2603.12270"


def test_old_style_ids_keep_their_slash(client: TestClient, sample_hub: Hub) -> None:
    add_paper(sample_hub, PaperRecord("astro-ph/0703001", "An Old Paper", "From 2007."))
    assert 'href="/papers/astro-ph/0703001"' in client.get("/").text
    page = client.get("/papers/astro-ph/0703001").text
    assert "An Old Paper" in page
    assert 'href="https://arxiv.org/abs/astro-ph/0703001"' in page
    redirect = client.get("/papers/astro-ph/0703001v2", follow_redirects=False)
    assert redirect.headers["location"] == "/papers/astro-ph/0703001"


def test_papers_with_other_ids_get_no_arxiv_links(client: TestClient, sample_hub: Hub) -> None:
    add_paper(sample_hub, PaperRecord("1410", "", "", authors=("Coffman, E. G.",)))
    page = client.get("/papers/1410").text
    assert "Untitled paper 1410" in page
    assert "arxiv.org/abs/1410" not in page and "arxiv.org/pdf/1410" not in page
    assert "arxiv.org/abs/1410" not in client.get("/").text


def test_an_unknown_paper_is_a_404_page(client: TestClient) -> None:
    response = client.get("/papers/2603.00000")
    assert response.status_code == 404
    assert "There is no paper “2603.00000” here" in response.text
    assert 'href="https://arxiv.org/abs/2603.00000"' in response.text


def test_a_withdrawn_paper_is_a_404_page_and_leaves_the_feed(
    client: TestClient, sample_hub: Hub
) -> None:
    title = "Task-Specific Knowledge Distillation via Intermediate Probes"
    add_paper(
        sample_hub,
        PaperRecord("2603.12270", title, "Withdrawn.", version=2, status=PaperStatus.WITHDRAWN),
        day=None,
    )
    response = client.get("/papers/2603.12270")
    assert response.status_code == 404
    assert "has been withdrawn" in response.text
    assert title not in client.get("/papers?date=2026-03-16").text


def test_pages_answer_head_requests(client: TestClient) -> None:
    for path in ("/", "/papers?date=2026-03-19", "/papers/2603.12270"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b""


def test_a_wrong_method_is_an_html_405_page(client: TestClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert "This page cannot be used that way." in response.text


def test_an_unknown_address_is_an_html_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is nothing at this address." in response.text


def test_hostile_text_is_escaped(client: TestClient, sample_hub: Hub) -> None:
    hostile = "<script>alert(1)</script>"
    add_paper(
        sample_hub,
        PaperRecord(
            "2603.99997",
            hostile,
            f"Abstract {hostile}",
            authors=(hostile,),
            categories=(hostile,),
            comment=hostile,
        ),
    )
    for path in ("/", "/papers/2603.99997"):
        page = client.get(path).text
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.get("/papers", params={"date": hostile})
    assert response.status_code == 400
    assert hostile not in response.text


@pytest.mark.parametrize(
    "path", ["/", "/papers/2603.12270", "/papers?date=nope", "/papers/nope", "/static/style.css"]
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_the_stylesheet_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/").text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert href is not None and href.group(1).startswith("/static/style.css?v=")
    response = client.get(href.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in response.text


def test_pages_have_landmarks_and_no_inline_code(client: TestClient) -> None:
    page = client.get("/").text
    assert '<nav class="site-nav" aria-label="Main">' in page
    assert '<main id="main"' in page and "<header" in page and "<footer" in page
    assert '<a href="/" aria-current="page">Daily papers</a>' in page
    # Scripts only as files from this site (defer), never inline code or inline styles.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all(' src="/static/' in attrs and not body for attrs, body in scripts)
    assert "style=" not in page and " on" + "click=" not in page
    assert SITE_NAME in page


def test_an_empty_store_explains_how_to_load_papers(empty_client: TestClient) -> None:
    for path in ("/", "/papers?date=2026-03-20"):
        response = empty_client.get(path)
        assert response.status_code == 200
        assert "This hub has no papers yet." in response.text
        assert "paperfeed ingest sample" in response.text


def test_long_author_lists_are_shortened() -> None:
    assert short_authors(None) == ""
    assert short_authors(["A", "B", "C", "D", "E"]) == "A, B, C, D, E"
    assert short_authors(["A", "B", "C", "D", "E", "F"]) == "A, B, C … and 3 more"


def test_dates_read_in_english_whatever_the_locale() -> None:
    assert long_date(dt.date(2026, 3, 20)) == "Friday, 20 March 2026"
