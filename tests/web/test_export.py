"""Export as BibTeX and CSL-JSON: a paper, a collection, a search and a day's feed, from the
pages' Cite links (`/export`) and the API (`/api/export`), parsed back by bibtexparser."""

from __future__ import annotations

import datetime as dt
import json

import bibtexparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.citations import citation_keys
from paperfeed.community.accounts import create_api_token
from paperfeed.db.collections import create_collection, set_in_collection
from paperfeed.db.feed import papers_for_period
from paperfeed.db.papers import get_paper
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.search.hybrid import search
from tests.web.community_helpers import sign_in
from tests.web.xss_corpus import PAPER_ID as HOSTILE_ID
from tests.web.xss_corpus import plant

DAY = dt.date(2026, 3, 20)


def parse(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return library


def _day_papers(hub: Hub, day: dt.date = DAY) -> list[str]:
    with hub.db.read() as conn:
        items = papers_for_period(conn, day, day + dt.timedelta(days=1), limit=-1)
    return [item.paper.paper_id for item in items]


def test_one_paper_as_bibtex(client: TestClient, sample_hub: Hub) -> None:
    paper_id = _day_papers(sample_hub)[0]
    response = client.get("/api/export", params={"paper": f"arXiv:{paper_id}v2"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    assert response.headers["x-paper-count"] == "1"
    assert "content-disposition" not in response.headers
    [entry] = parse(response.text).entries
    assert entry.entry_type == "misc"
    assert entry.fields_dict["eprint"].value == paper_id
    assert entry.fields_dict["archivePrefix"].value == "arXiv"
    assert entry.fields_dict["primaryClass"].value


def test_a_days_feed_in_both_formats_has_the_same_papers_and_keys(
    client: TestClient, sample_hub: Hub
) -> None:
    expected = _day_papers(sample_hub)
    assert len(expected) > 50  # all of the day, not the feed's first page
    bib = client.get("/api/export", params={"date": DAY.isoformat()})
    library = parse(bib.text)
    assert [e.fields_dict["eprint"].value for e in library.entries] == expected
    keys = [e.key for e in library.entries]
    assert len(set(keys)) == len(keys)
    csl = client.get("/api/export", params={"date": DAY.isoformat(), "format": "csljson"})
    assert csl.headers["content-type"].startswith("application/vnd.citationstyles.csl+json")
    items = json.loads(csl.text)
    assert [item["id"] for item in items] == keys
    assert [item["number"] for item in items] == [f"arXiv:{p}" for p in expected]


def test_a_days_feed_narrowed_to_a_category(client: TestClient, sample_hub: Hub) -> None:
    everything = parse(client.get("/api/export", params={"date": DAY.isoformat()}).text)
    narrowed = parse(
        client.get("/api/export", params={"date": DAY.isoformat(), "category": "cs.CL"}).text
    )
    assert 0 < len(narrowed.entries) < len(everything.entries)


def test_a_search_exports_its_best_matches_in_order(client: TestClient, sample_hub: Hub) -> None:
    results = search(sample_hub.search_index, None, "language models", limit=10)
    expected = [hit.paper.paper_id for hit in results.hits]
    assert expected
    response = client.get("/api/export", params={"q": "language models", "limit": 10})
    assert [e.fields_dict["eprint"].value for e in parse(response.text).entries] == expected


def test_a_collection_public_or_private(client: TestClient, sample_hub: Hub) -> None:
    papers = _day_papers(sample_hub)[:3]
    with sample_hub.db.write() as conn:
        owner = get_or_create_user(conn, "owner@example.org")
        public = create_collection(conn, owner.user_id, "Reading group", is_public=True)
        private = create_collection(conn, owner.user_id, "Mine")
        for collection_id in (public, private):
            for paper_id in papers:
                set_in_collection(conn, collection_id, owner.user_id, paper_id, present=True)
    shown = client.get("/api/export", params={"collection": public})
    assert shown.status_code == 200
    # Newest additions first, as the collection's page lists them.
    assert [e.fields_dict["eprint"].value for e in parse(shown.text).entries] == papers[::-1]
    assert client.get("/api/export", params={"collection": private}).status_code == 404
    assert client.get(f"/export?collection={private}").status_code == 404
    token = create_api_token(db=sample_hub.db, user_id=owner.user_id, name="script")
    bearer = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/export", params={"collection": private}, headers=bearer)
    assert mine.status_code == 200 and len(parse(mine.text).entries) == 3
    bad = client.get("/api/export", params={"collection": private}, headers={
        "Authorization": "Bearer pf_not-a-token-at-all"})  # fmt: skip
    assert bad.status_code == 401
    # The page's link works with the owner's session cookie, as a download.
    sign_in(client, sample_hub, "owner@example.org")
    page = client.get(f"/collections/{private}")
    assert f'href="/export?collection={private}&amp;format=bibtex"' in page.text
    download = client.get(f"/export?collection={private}&format=bibtex")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        f'attachment; filename="collection-{private}.bib"'
    )
    assert len(parse(download.text).entries) == 3


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"paper": "2401.99999"}, 404),
        ({"paper": "x", "date": "2026-03-20"}, 400),
        ({"date": "20260320"}, 400),
        ({"date": "2026-03-20", "week": "2026-W12"}, 400),
        ({"q": "  "}, 400),
        ({"q": "x", "since": "yesterday"}, 400),
        ({"collection": "0"}, 422),
        ({"paper": "2401.00001", "format": "ris"}, 422),
    ],
)
def test_export_answers_errors_in_words(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    response = client.get("/api/export", params=params)
    assert response.status_code == status
    assert response.json()["error"]


def test_the_pages_link_their_exports(client: TestClient, sample_hub: Hub) -> None:
    paper_id = _day_papers(sample_hub)[0]
    paper = client.get(f"/papers/{paper_id}").text
    assert 'id="cite-title"' in paper
    assert f"eprint        = {{{paper_id}}}" in paper
    assert f'href="/export?paper={paper_id}&amp;format=csljson"' in paper
    feed = client.get(f"/papers?date={DAY.isoformat()}").text
    assert 'href="/export?date=2026-03-20&amp;format=bibtex"' in feed
    filtered = client.get(f"/papers?date={DAY.isoformat()}&category=cs.CL").text
    assert 'href="/export?category=cs.CL&amp;date=2026-03-20&amp;format=bibtex"' in filtered
    found = client.get("/search?q=language+models").text
    assert 'href="/export?q=language+models&amp;format=bibtex"' in found
    download = client.get(f"/export?paper={paper_id}&format=csljson")
    assert download.headers["content-disposition"] == f'attachment; filename="{paper_id}.json"'
    [item] = download.json()
    assert item["id"] == citation_keys([_record(sample_hub, paper_id)])[0]


def _record(hub: Hub, paper_id: str) -> PaperRecord:
    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id)
    assert stored is not None
    return stored.record


def test_hostile_papers_export_inert_and_well_formed(client: TestClient, sample_hub: Hub) -> None:
    collection_id = plant(sample_hub)
    for params in ({"paper": HOSTILE_ID}, {"collection": collection_id}):
        response = client.get("/api/export", params=params)
        assert response.status_code == 200
        assert "html" not in response.headers["content-type"]
        assert response.headers["x-content-type-options"] == "nosniff"
        [entry] = parse(response.text).entries
        assert entry.fields_dict["title"].value.startswith(r"Attack \$a<b\$ <script>")
        if "collection" in params:  # the owner's note, as hostile as the rest
            assert entry.fields_dict["annote"].value.startswith(r"<script>window.\_\_xss")
    csl = client.get("/api/export", params={"paper": HOSTILE_ID, "format": "csljson"})
    assert json.loads(csl.text)[0]["title"].startswith("Attack $a<b$ <script>")
