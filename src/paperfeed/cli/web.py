"""`paperfeed serve`: run the web hub with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from paperfeed.cli._console import err, make_hub


def register(app: typer.Typer) -> None:
    """Add the web commands to the main app."""
    app.command()(serve)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8000].")] = None,
) -> None:
    """Serve the hub: the daily feed and paper pages at http://HOST:PORT/."""
    import uvicorn

    from paperfeed.web.app import create_app

    hub = make_hub()
    host = host or hub.settings.host
    port = port or hub.settings.port
    err.print(f"paperfeed: serving http://{host}:{port}/  (Ctrl+C stops)")
    uvicorn.run(create_app(hub), host=host, port=port, log_level="info")
