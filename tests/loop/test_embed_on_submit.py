"""A paper a member submits is embedded at once: semantic search finds it before any
`paperfeed index` or worker pass."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paperfeed.db.papers import upsert_papers
from paperfeed.db.vectors import count_vectors
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.search.hybrid import search
from paperfeed.search.index import contract_of
from paperfeed.web.app import create_app
from tests.web.community_helpers import csrf, sign_in

SUBMITTED = PaperRecord(
    paper_id="2603.12345",
    title="Tidal locking of exomoons around warm Jupiters",
    abstract="We model tidal locking timescales for exomoons orbiting warm Jupiters.",
)


def _missing(hub: Hub) -> int:
    assert hub.embedder is not None
    with hub.db.read() as conn:
        return count_vectors(conn, contract=contract_of(hub.embedder)).missing


def test_a_submitted_paper_is_found_by_vector_search_without_indexing(hub: Hub) -> None:
    with hub.db.write() as conn:  # held but never embedded, as after an `ingest` alone
        upsert_papers(conn, [SUBMITTED])
    assert _missing(hub) == 1
    before = search(hub.search_index, hub.embedder, "exomoons tidal locking")
    assert [h.paper.paper_id for h in before.hits] == [SUBMITTED.paper_id]
    assert before.hits[0].vector_rank is None  # a keyword hit only: no vector yet

    client = TestClient(create_app(hub), base_url="https://papers.example.org")
    sign_in(client, hub, "ada@example.org")
    form = {"paper": "arXiv:2603.12345v1", "csrf_token": csrf(client, "/submit")}
    done = client.post("/submit", data=form, follow_redirects=False)
    assert done.status_code == 303

    assert _missing(hub) == 0
    # Every search looks at the store at most once a second; this one is less than that later.
    hub.search_index.ensure_fresh(force=True)
    after = search(hub.search_index, hub.embedder, "exomoons tidal locking")
    assert after.mode == "hybrid"
    assert after.hits[0].paper.paper_id == SUBMITTED.paper_id
    assert after.hits[0].vector_rank == 1
