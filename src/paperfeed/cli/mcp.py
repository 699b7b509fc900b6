"""`paperfeed mcp`: the MCP server for agents over stdio (web/mcp.py holds its tools)."""

from __future__ import annotations

from paperfeed.cli._console import err, make_hub


def mcp_command() -> None:
    """Serve the MCP server over stdio, for agents (Claude Desktop, Claude Code, any MCP client).

    Read-only tools: daily_papers, trending, search_papers, similar_papers, paper_details, each
    answering as the JSON API does. stdout carries only the protocol; messages go to stderr.
    The running hub serves the same tools over streamable HTTP at /mcp (docs/api.md).
    """
    from paperfeed.web.mcp import build_server

    hub = make_hub()
    try:
        server = build_server(hub)
        err.print(f"paperfeed MCP server on stdio ({hub.settings.site_name})")
        server.run("stdio")
    finally:
        hub.close()
