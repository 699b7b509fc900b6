"""The API's documentation: named after the site, versioned, tagged, with readable operation
titles, and linked from every page (web/app.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paperfeed import __version__
from tests.web.conftest import SITE_NAME


def test_the_api_docs_are_branded_and_linked_from_every_page(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["info"]["title"] == f"{SITE_NAME} API"
    assert spec["info"]["version"] == __version__
    assert "huggingface_hub" in spec["info"]["description"]
    assert {tag["name"] for tag in spec["tags"]} == {"papers", "community", "digest", "curators"}
    operations = [op for ops in spec["paths"].values() for op in ops.values()]
    summaries = [op["summary"] for op in operations]
    assert not [s for s in summaries if s.startswith("Api ")], summaries
    assert "Upvote a paper" in summaries and "Make a collection" in summaries
    assert "Feature a paper on a day's feed" in summaries
    assert all(op["tags"] for op in operations)
    assert '<a href="/api/docs">API documentation</a>' in client.get("/").text
