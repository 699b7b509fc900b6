"""Fetching one paper by id from the arXiv API, for a reader's submission.

The only outbound request a reader can cause, so it is fenced: the arXiv API URL in settings is
fetched only if its host is on `ALLOWED_ARXIV_HOSTS` and resolves to public addresses only,
never loopback, private, link-local or reserved ones. Entries are parsed by the arXiv API
source (`arxiv_api.parse_feed`, `arxiv_api.record_from_entry`).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from paperfeed.ingest._fields import RecordError
from paperfeed.ingest._http import FetchError, PageError, PoliteClient
from paperfeed.ingest.arxiv_api import parse_feed, record_from_entry
from paperfeed.models import PaperRecord
from paperfeed.settings import Settings

logger = logging.getLogger(__name__)

ALLOWED_ARXIV_HOSTS = frozenset({"export.arxiv.org", "arxiv.org"})


class FetchRefused(Exception):
    """The paper was not fetched (a host not allowed, no answer); the message says why, for
    the reader."""


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass
class ArxivFetcher:
    """Fetches one paper from the arXiv API, refusing any host but arXiv's public ones.

    `transport` and `resolve` are seams for tests, which cannot reach the internet.
    """

    settings: Settings
    transport: httpx.BaseTransport | None = None
    resolve: Callable[[str], list[str]] = field(default=resolve_host)

    def check_target(self) -> str:
        """The API URL, if it may be fetched; FetchRefused otherwise."""
        url = self.settings.arxiv_api_url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or host not in ALLOWED_ARXIV_HOSTS:
            raise FetchRefused(
                "This hub only fetches papers from arXiv, and its arXiv API address "
                f"({host or url!r}) is not arXiv's; ask the operator."
            )
        try:
            addresses = self.resolve(host)
        except OSError:
            raise FetchRefused("arXiv cannot be reached right now; try again later.") from None
        if not addresses or not all(_is_public(a) for a in addresses):
            raise FetchRefused("arXiv's address resolves to a private network here; not fetched.")
        return url

    def fetch(self, paper_id: str) -> PaperRecord | None:
        """The paper from the arXiv API, or None if arXiv does not know it."""
        url = self.check_target()
        client = PoliteClient(
            min_interval_s=0.0,
            timeout_s=min(self.settings.http_timeout_s, 15.0),
            retries=1,
            backoff_s=1.0,
            max_wait_s=5.0,
            max_bytes=2 * 1024 * 1024,
            transport=self.transport,
        )
        try:
            with client:
                page = client.get(url, params={"id_list": paper_id, "max_results": 1})
            feed = parse_feed(page.body)
        except (FetchError, PageError) as exc:
            logger.warning("fetching %s from arXiv failed: %s", paper_id, exc)
            raise FetchRefused("arXiv did not answer properly; try again later.") from None
        for entry in feed.entries:
            try:
                record = record_from_entry(entry)
            except RecordError:
                continue
            if record.paper_id == paper_id:
                return record
        return None
