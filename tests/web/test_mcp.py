"""The MCP server through the SDK's own client: `paperfeed mcp` spawned over stdio on a copy of
the demo sample, and streamable HTTP at /mcp on the hub served by a real uvicorn on loopback.
Each tool must answer exactly what the JSON API answers."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

import paperfeed
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.live_server import serve_app
from tests.web.conftest import SITE_NAME

TOOLS = {"daily_papers", "trending", "search_papers", "similar_papers", "paper_details"}
DAY = "2026-03-20"
T = TypeVar("T")


def _run(session_of: Callable[[], Any], body: Callable[[ClientSession], Awaitable[T]]) -> T:
    """Open a client session over a transport and run `body` in it."""

    async def main() -> T:
        async with session_of() as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return anyio.run(main)


async def _call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


@pytest.fixture
def keyword_hub(sample_hub: Hub, tmp_path: Path) -> Iterator[Hub]:
    """The sample as the spawned server sees it: keyword search only (no model to load)."""
    settings = Settings(
        data_dir=tmp_path, database_url=None, site_name=SITE_NAME, semantic_search=False
    )
    hub = Hub.from_settings(settings, migrate=False)
    yield hub
    hub.close()


def _stdio(data_dir: Path) -> Callable[[], Any]:
    source = Path(paperfeed.__file__).resolve().parents[1]  # this checkout's src/
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "paperfeed", "mcp"],
        env={
            "PYTHONPATH": os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")]),
            "PAPERFEED_DATA_DIR": str(data_dir),
            "PAPERFEED_SEMANTIC_SEARCH": "false",
            "PAPERFEED_SITE_NAME": SITE_NAME,
        },
    )
    return lambda: stdio_client(params)


def test_paperfeed_mcp_answers_over_stdio_as_the_api_does(keyword_hub: Hub, tmp_path: Path) -> None:
    api = TestClient(create_app(keyword_hub))
    paper_id = api.get("/api/daily_papers", params={"date": DAY}).json()[0]["paper"]["id"]

    async def body(session: ClientSession) -> dict[str, Any]:
        listed = await session.list_tools()
        missing = await session.call_tool("paper_details", {"paper_id": "2401.99999"})
        empty = await session.call_tool("search_papers", {"query": "   "})
        return {
            "tools": listed.tools,
            "search": await _call(session, "search_papers", query="language models", limit=7),
            "daily": await _call(session, "daily_papers", date=DAY, limit=5),
            "details": await _call(session, "paper_details", paper_id=f"arXiv:{paper_id}v1"),
            "missing": missing,
            "empty": empty,
        }

    answers = _run(_stdio(tmp_path), body)
    assert {tool.name for tool in answers["tools"]} == TOOLS
    for tool in answers["tools"]:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.description and tool.output_schema
    search = api.get("/api/papers/search", params={"q": "language models", "limit": 7}).json()
    assert len(search) == 7
    assert answers["search"] == {"query": "language models", "papers": search}
    daily = api.get("/api/daily_papers", params={"date": DAY, "limit": 5}).json()
    assert answers["daily"] == {"papers": daily}
    assert answers["details"] == api.get(f"/api/papers/{paper_id}").json()
    assert answers["missing"].is_error
    assert "There is no paper '2401.99999' here." in answers["missing"].content[0].text
    assert answers["empty"].is_error


@pytest.fixture
def endpoint(sample_hub: Hub) -> Iterator[str]:
    """The hub served by a real uvicorn on a free loopback port (no lifespan: /mcp needs none)."""
    with serve_app(lambda _url: create_app(sample_hub)) as url:
        yield url


def test_the_hub_serves_the_same_tools_over_streamable_http(endpoint: str, sample_hub: Hub) -> None:
    api = TestClient(create_app(sample_hub))
    paper_id = api.get("/api/daily_papers", params={"date": DAY}).json()[0]["paper"]["id"]

    async def body(session: ClientSession) -> dict[str, Any]:
        listed = await session.list_tools()
        bad_day = await session.call_tool("daily_papers", {"date": "20260320"})
        return {
            "tools": {tool.name for tool in listed.tools},
            "trending": await _call(session, "trending", window="month", limit=5),
            "similar": await _call(session, "similar_papers", paper_id=paper_id, limit=4),
            "details": await _call(session, "paper_details", paper_id=paper_id),
            "latest": await _call(session, "daily_papers", limit=3),
            "bad_day": bad_day,
        }

    answers = _run(lambda: streamable_http_client(f"{endpoint}/mcp"), body)
    assert answers["tools"] == TOOLS
    trending = api.get("/api/trending", params={"window": "month", "limit": 5}).json()
    assert answers["trending"] == trending
    similar = api.get(f"/api/papers/{paper_id}/similar", params={"limit": 4}).json()
    assert len(similar) == 4
    assert answers["similar"] == {"paperId": paper_id, "papers": similar}
    assert answers["details"] == api.get(f"/api/papers/{paper_id}").json()
    assert answers["latest"] == {"papers": api.get("/api/daily_papers?limit=3").json()}
    assert answers["bad_day"].is_error
    assert "is not a date" in answers["bad_day"].content[0].text


def test_mcp_takes_posts_without_csrf_token_from_allowed_hosts_only(
    client: TestClient,
) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    answer = client.post("/mcp", json=hello, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["serverInfo"]["name"] == "paperfeed"
    rebinding = client.post("/mcp", json=hello, headers={**headers, "Host": "evil.example"})
    assert rebinding.status_code == 400
    # Stateless: no session to end, nothing to push on a GET stream that would only stay open.
    for method in ("GET", "DELETE"):
        refused = client.request(method, "/mcp", headers=headers)
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"
        assert refused.json()["error"]["message"]
