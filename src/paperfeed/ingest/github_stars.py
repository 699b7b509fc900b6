"""GitHub stars of the repositories papers link to, read from the GitHub REST API
(`GET /repos/{owner}/{name}`, field `stargazers_count`).

Fenced and polite: only `api.github.com` is ever asked (`ALLOWED_GITHUB_HOSTS`; the base URL is
the `github_api_url` setting, tests pass their loopback fake's host); the path is built from an
owner and a name that must look like GitHub's, never from a member's text; requests go through
the shared `PoliteClient` (one connection, spaced, retried), carry the ETag of the last answer
(`If-None-Match`: a 304 costs nothing and changes nothing), and stop the run as soon as GitHub
says the rate limit is spent (`x-ratelimit-remaining: 0`, 403 or 429), until its reset time.
An optional token (`PAPERFEED_GITHUB_TOKEN`) raises the limit from 60 to 5,000 an hour.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from paperfeed.code_links import github_slug
from paperfeed.ingest._http import Clock, FetchError, PoliteClient
from paperfeed.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_GITHUB_HOSTS = frozenset({"api.github.com"})
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class HostRefused(Exception):
    """The configured GitHub API URL is not on the allowlist: nothing was asked."""


@dataclass(frozen=True, slots=True)
class StarCount:
    """What GitHub said about one repository: `counted` (stars, etag), `unchanged` (304),
    `gone` (404/410/451: no such repository any more)."""

    url: str
    state: str
    stars: int | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimitSpent:
    """GitHub's rate limit is spent: the run stops; `reset` is when GitHub says it refills."""

    reset: dt.datetime | None


def check_base(url: str, *, allowed_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS) -> str:
    """The API base URL without a trailing slash, if its host is allowed; HostRefused if not."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or host not in allowed_hosts:
        raise HostRefused(
            f"GitHub stars are read from {', '.join(sorted(allowed_hosts))} only, "
            f"not {host or url!r} (PAPERFEED_GITHUB_API_URL)"
        )
    return url.rstrip("/")


def _reset(headers: Mapping[str, str]) -> dt.datetime | None:
    value = headers.get("x-ratelimit-reset", "")
    if not value.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)


def count_stars(
    repos: Sequence[tuple[str, str | None]],
    *,
    settings: Settings,
    clock: Clock | None = None,
    allowed_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[StarCount | RateLimitSpent]:
    """Ask GitHub for the stars of each (repository URL, last ETag), one at a time; yield each
    answer, or `RateLimitSpent` once and stop. A repository GitHub refuses is skipped and
    logged; when GitHub does not answer at all (retries spent: no connection, timeouts, 5xx)
    `FetchError` ends the run, the counts yielded before it kept; the next run asks again."""
    base = check_base(settings.github_api_url, allowed_hosts=allowed_hosts)
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    if settings.github_token:
        headers["Authorization"] = f"Bearer {settings.github_token.get_secret_value()}"
    client = PoliteClient(
        min_interval_s=settings.github_request_interval_s,
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
        clock=clock,
        max_wait_s=120.0,
        max_bytes=1024 * 1024,
        transport=transport,
    )
    with client:
        for url, etag in repos:
            slug = github_slug(url)
            if slug is None or not _SLUG.match(slug[0]) or not _REPO.match(slug[1]):
                log.warning("not a GitHub repository, skipped: %s", url)
                continue
            asked = dict(headers)
            if etag:
                asked["If-None-Match"] = etag
            try:
                page = client.get(
                    f"{base}/repos/{slug[0]}/{slug[1]}",
                    accept=(304, 403, 404, 410, 451),
                    headers=asked,
                )
            except FetchError as exc:
                if exc.status is None and "HTTP 429" in str(exc):
                    yield RateLimitSpent(None)
                    return
                if exc.status is None:
                    # Retries spent without an answer of GitHub's about this repository (no
                    # connection, timeouts, 5xx): GitHub is not answering, so the others
                    # would wait as long each. The run stops; what it counted is kept.
                    raise
                log.warning("stars of %s not read: %s", url, exc)
                continue
            remaining = page.headers.get("x-ratelimit-remaining")
            if page.status == 403:
                if remaining == "0" or "rate limit" in page.body.decode("utf-8", "replace").lower():
                    yield RateLimitSpent(_reset(page.headers))
                    return
                log.warning("stars of %s refused (403)", url)
                continue
            if page.status in (404, 410, 451):
                yield StarCount(url, "gone")
            elif page.status == 304:
                yield StarCount(url, "unchanged", etag=etag)
            else:
                try:
                    stars = int(json.loads(page.body)["stargazers_count"])
                except (ValueError, KeyError, TypeError):
                    log.warning("stars of %s: an answer without stargazers_count", url)
                    continue
                yield StarCount(url, "counted", stars, page.headers.get("etag"))
            if remaining == "0":
                yield RateLimitSpent(_reset(page.headers))
                return
