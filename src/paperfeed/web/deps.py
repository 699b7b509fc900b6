"""Request dependencies: routes receive the Hub by name (`hub: HubDep`), kept on `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperfeed.hub import Hub


def get_hub(request: Request) -> Hub:
    """Return the Hub that `create_app` stored on the application."""
    hub = request.app.state.hub
    if not isinstance(hub, Hub):  # pragma: no cover - a wiring mistake, not a request error
        raise RuntimeError("app.state.hub is not set; build the app with create_app(hub)")
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]
