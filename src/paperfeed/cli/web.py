"""`paperfeed serve`: run the web hub with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from paperfeed.cli._console import err, make_hub
from paperfeed.settings import Settings
from paperfeed.web.hosts import is_loopback

PUBLIC_DEV_MAILBOX_REFUSED = """\
paperfeed: refusing to serve on {host}: no SMTP server is set, so every sign-in link goes to \
the development mailbox at /dev/mailbox, and anyone who can reach this address could sign in \
as anyone, admins included.
Either set PAPERFEED_SMTP_HOST (and its PAPERFEED_SMTP_* settings) so mail is really sent, or \
serve on 127.0.0.1 only, or, on a network you trust completely, set \
PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true to serve anyway."""


def register(app: typer.Typer) -> None:
    """Add the web commands to the main app."""
    app.command()(serve)


def public_dev_mailbox_problem(*, host: str, settings: Settings) -> str | None:
    """Why serving on `host` would expose the development mailbox, or None when it would not."""
    if is_loopback(host) or not settings.dev_mailbox or settings.allow_public_dev_mailbox:
        return None
    return PUBLIC_DEV_MAILBOX_REFUSED.format(host=host)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8000].")] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated proxy addresses whose X-Forwarded-For/-Proto are trusted "
            "[default: PAPERFEED_FORWARDED_ALLOW_IPS, else none].",
        ),
    ] = None,
) -> None:
    """Serve the hub: the daily feed and paper pages at http://HOST:PORT/.

    Refuses (exit 2) a non-loopback HOST while mail goes to the development mailbox (no
    PAPERFEED_SMTP_HOST), unless PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true.
    """
    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    problem = public_dev_mailbox_problem(host=host, settings=settings)
    if problem is not None:
        err.print(problem, markup=False)
        raise typer.Exit(code=2)
    proxies = settings.forwarded_allow_ips
    if forwarded_allow_ips is not None:
        proxies = [ip.strip() for ip in forwarded_allow_ips.split(",") if ip.strip()]

    import uvicorn

    from paperfeed.web.app import create_app

    hub = make_hub()
    err.print(f"paperfeed: serving http://{host}:{port}/  (Ctrl+C stops)")
    if proxies:
        err.print(f"paperfeed: trusting X-Forwarded-For/-Proto from {', '.join(proxies)}")
    # uvicorn trusts X-Forwarded-* from 127.0.0.1 unless told otherwise: off unless configured.
    uvicorn.run(
        create_app(hub),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
