"""Keyphrases on paper cards, paper pages and the API: chips that search, escaped text."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

from fastapi.testclient import TestClient
from sqlalchemy import select

from paperfeed.db.keyphrases import PaperKeyphrases, store_keyphrases
from paperfeed.db.schema import paper_keyphrases
from paperfeed.hub import Hub
from paperfeed.search.indexer import embed_papers
from paperfeed.search.keyphrases import KEYPHRASE_VERSION
from tests.search.fakes import FakeEmbedder
from tests.web.test_security_xss import RAW
from tests.web.xss_corpus import PAPER_ID, PAYLOADS, plant


def _store(hub: Hub, paper_id: str, phrases: list[str]) -> None:
    with hub.db.write() as conn:
        rows = [PaperKeyphrases(paper_id, "0" * 32, [(p, 0.5) for p in phrases])]
        store_keyphrases(conn, rows, version=KEYPHRASE_VERSION)


def test_cards_pages_and_api_show_keyphrases_linking_to_a_search(
    client: TestClient, sample_hub: Hub
) -> None:
    home = client.get("/").text
    paper_id = re.findall(r'href="/papers/([^"#]+)"', home)[0]
    assert 'class="badges keyphrases"' not in home  # nothing stored yet, nothing shown
    phrases = ["graph neural networks", "C++ & Rust", "message passing"]
    _store(sample_hub, paper_id, phrases)
    for page in (client.get("/").text, client.get(f"/papers/{paper_id}").text):
        chips = re.findall(
            r'<a class="badge badge-keyphrase" href="([^"]+)"[^>]*>([^<]+)</a>', page
        )
        assert chips[:3] == [
            ("/search?q=graph+neural+networks", "graph neural networks"),
            (f"/search?q={quote_plus('C++ & Rust')}", "C++ &amp; Rust"),
            ("/search?q=message+passing", "message passing"),
        ]
    assert "Keyphrases</h2>" in client.get(f"/papers/{paper_id}").text
    info = client.get(f"/api/papers/{paper_id}").json()
    assert info["keyphrases"] == phrases
    daily = client.get("/api/daily_papers").json()
    shown = {entry["paper"]["id"]: entry["paper"]["keyphrases"] for entry in daily}
    assert shown[paper_id] == phrases
    assert any(v == [] for k, v in shown.items() if k != paper_id)
    found = client.get("/search", params={"q": "message passing"})
    assert found.status_code == 200


def test_hostile_abstract_and_stored_phrases_are_escaped(
    client: TestClient, sample_hub: Hub
) -> None:
    plant(sample_hub)
    # The real path: candidates from the payload-laden title and abstract, stored.
    embed_papers(sample_hub.db, FakeEmbedder(), among=[PAPER_ID])
    with sample_hub.db.read() as conn:
        computed = [p for p, _ in conn.scalar(select(paper_keyphrases.c.phrases))]
    assert len(computed) == 5
    assert not any(set(p) & set("<>\"'=&$\\/") for p in computed), computed
    # Whatever a later method stores is escaped too.
    _store(sample_hub, PAPER_ID, PAYLOADS[:8])
    for path in ("/", f"/papers/{PAPER_ID}"):
        page = client.get(path).text
        for raw in RAW:
            assert raw not in page.replace("<script defer src=", ""), (path, raw)
        assert "/search?q=%3Cscript%3Ewindow.__xss%2B%2B%3C%2Fscript%3E" in page
        assert ">&lt;script&gt;window.__xss++&lt;/script&gt;</a>" in page
    assert client.get(f"/api/papers/{PAPER_ID}").json()["keyphrases"] == PAYLOADS[:8]
