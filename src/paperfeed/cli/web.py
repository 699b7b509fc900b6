"""`paperfeed serve`: run the web hub with uvicorn."""

from __future__ import annotations

import errno
import socket
from typing import Annotated, Any

import typer

from paperfeed.cli._console import EXIT_USAGE, err, make_hub
from paperfeed.settings import Settings, served_url
from paperfeed.web.hosts import is_loopback

PUBLIC_DEV_MAILBOX_REFUSED = """\
paperfeed: refusing to serve on {host}: no SMTP server is set, so every sign-in link goes to \
the development mailbox at /dev/mailbox, and anyone who can reach this address could sign in \
as anyone, admins included.
Either set PAPERFEED_SMTP_HOST (and its PAPERFEED_SMTP_* settings) so mail is really sent, or \
serve on 127.0.0.1 only, or, on a network you trust completely, set \
PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true to serve anyway."""

PORT_IN_USE = """\
paperfeed: port {port} on {host} is already in use (another `paperfeed serve`?).
Serve on another port with `paperfeed serve --port {other}` (or PAPERFEED_PORT={other}), or stop \
the server that holds it."""
CANNOT_LISTEN = """\
paperfeed: cannot listen on {host} port {port}: {reason}.
Pick another address or port with --host and --port (or PAPERFEED_HOST and PAPERFEED_PORT)."""


def register(app: typer.Typer) -> None:
    """Add the web commands to the main app."""
    app.command()(serve)


def public_dev_mailbox_problem(*, host: str, settings: Settings) -> str | None:
    """Why serving on `host` would expose the development mailbox, or None when it would not."""
    if is_loopback(host) or not settings.dev_mailbox or settings.allow_public_dev_mailbox:
        return None
    return PUBLIC_DEV_MAILBOX_REFUSED.format(host=host)


def listen_problem(*, host: str, port: int) -> str | None:
    """Why `serve` could not listen on host:port (a busy port, most often), or None.

    Binds each address the host resolves to as uvicorn would (SO_REUSEADDR), then lets go.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        return CANNOT_LISTEN.format(host=host, port=port, reason=getattr(exc, "strerror", exc))
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    other = port + 1 if port < 65535 else 8000
                    return PORT_IN_USE.format(host=host, port=port, other=other)
                return CANNOT_LISTEN.format(host=host, port=port, reason=exc.strerror or exc)
    return None


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind [default: PAPERFEED_HOST, else 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port [default: PAPERFEED_PORT, else 8000]."),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated proxy addresses whose X-Forwarded-For/-Proto are trusted "
            "[default: PAPERFEED_FORWARDED_ALLOW_IPS, else none].",
        ),
    ] = None,
) -> None:
    """Serve the hub: the daily feed and paper pages at http://HOST:PORT/.

    Links in sign-in mails and feeds start with PAPERFEED_PUBLIC_URL, by default
    http://HOST:PORT. Exits 2 when the port is in use (pick another with --port), and
    refuses (exit 2) a non-loopback HOST while mail goes to the development mailbox (no
    PAPERFEED_SMTP_HOST), unless PAPERFEED_ALLOW_PUBLIC_DEV_MAILBOX=true.
    """
    chosen: dict[str, Any] = {"host": host, "port": port}
    settings = Settings(**{name: value for name, value in chosen.items() if value is not None})
    host, port = settings.host, settings.port
    problem = public_dev_mailbox_problem(host=host, settings=settings) or listen_problem(
        host=host, port=port
    )
    if problem is not None:
        err.print(problem, markup=False, soft_wrap=True)
        raise typer.Exit(code=EXIT_USAGE)
    proxies = settings.forwarded_allow_ips
    if forwarded_allow_ips is not None:
        proxies = [ip.strip() for ip in forwarded_allow_ips.split(",") if ip.strip()]

    import uvicorn

    from paperfeed.web.app import create_app

    hub = make_hub(settings=settings)
    err.print(f"paperfeed: serving http://{host}:{port}/  (Ctrl+C stops)")
    if settings.public_url.rstrip("/") != served_url(host=host, port=port):
        err.print(f"paperfeed: links in mails and feeds start with {settings.public_url}")
    if proxies:
        err.print(f"paperfeed: trusting X-Forwarded-For/-Proto from {', '.join(proxies)}")
    # uvicorn trusts X-Forwarded-* from 127.0.0.1 unless told otherwise: off unless configured.
    try:
        uvicorn.run(
            create_app(hub),
            host=host,
            port=port,
            log_level="info",
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or None,
        )
    except SystemExit as exc:  # uvicorn exits 1 when it cannot start: not "records rejected"
        if exc.code in (None, 0):
            raise
        problem = listen_problem(host=host, port=port) or "paperfeed: the server could not start"
        err.print(problem, markup=False, soft_wrap=True)
        raise typer.Exit(code=EXIT_USAGE) from None
