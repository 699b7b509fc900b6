"""The polite HTTP client the network sources share, and the safe parse of the XML it fetches.

One reused connection, requests spaced on an injectable clock, retries with backoff.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import httpx
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _defused_fromstring

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from paperfeed.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "paperfeed/0.1 (self-hosted research-paper hub; +https://pypi.org/project/paperfeed/)"
RETRY_STATUSES = frozenset({429, *range(500, 600)})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class Clock(Protocol):
    """Where the client reads the time and waits; tests pass a fake one that never sleeps."""

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemClock:
    """The real clock: `time.monotonic` and `time.sleep`."""

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Call `time.sleep`."""
        time.sleep(seconds)


class FetchError(Exception):
    """A request that failed for good: retries spent, a refused URL, or an answer we cannot use."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


class PageError(ValueError):
    """A fetched page that cannot be read: malformed, refused as unsafe, or reporting an error."""


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched response: its final URL (with the query string), status, body and headers
    (names in lower case)."""

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def check_url(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL; raise ValueError otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a usable URL: {url!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"only absolute http and https URLs are fetched, not {url!r}")
    return url


def retry_after_seconds(
    value: str | None, *, date_header: str | None = None, now: dt.datetime | None = None
) -> float | None:
    """Read a `Retry-After` header (seconds or HTTP-date) into seconds from now; None if absent.

    An HTTP-date is measured against the response's own `Date` header when there is one,
    so a skewed local clock does not matter.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    reference = now or dt.datetime.now(dt.UTC)
    if date_header:
        with contextlib.suppress(TypeError, ValueError):
            reference = email.utils.parsedate_to_datetime(date_header)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=dt.UTC)
    return max(0.0, (when - reference).total_seconds())


class PoliteClient:
    """GET pages over one reused connection, at most one request per `min_interval_s`.

    Retries 5xx, 429, timeouts and dropped connections (`httpx.TransportError`) up to
    `retries` times, waiting `backoff_s * 2**attempt` (capped at `max_backoff_s`, never less
    than `min_interval_s`) or what `Retry-After` asks. No jitter: one harvester per install.
    Follows redirects on the same host only. Raises `FetchError` when it gives up.
    """

    def __init__(
        self,
        *,
        min_interval_s: float,
        timeout_s: float,
        retries: int,
        clock: Clock | None = None,
        backoff_s: float = 4.0,
        max_backoff_s: float = 120.0,
        max_wait_s: float = 600.0,
        max_bytes: int = 32 * 1024 * 1024,
        user_agent: str = USER_AGENT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.min_interval_s = min_interval_s
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.clock: Clock = clock or SystemClock()
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_wait_s = max_wait_s
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._transport = transport
        self._client: httpx.Client | None = None
        self._last_request: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> PoliteClient:
        """Build the client arXiv asks for: `arxiv_request_interval_s`, timeouts, retries."""
        return cls(
            min_interval_s=settings.arxiv_request_interval_s,
            timeout_s=settings.http_timeout_s,
            retries=settings.http_retries,
            clock=clock,
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later request opens a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        accept: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """Fetch `url` (with extra request `headers`); 2xx and the statuses in `accept` come
        back, anything else raises."""
        check_url(url)
        current = httpx.URL(url, params=dict(params) if params else None)
        redirects = 0
        attempt = 0
        while True:
            self._wait_turn()
            retry_after: float | None = None
            try:
                status, answer, body = self._send(current, headers)
            except httpx.TimeoutException as exc:
                problem = f"timed out after {self.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"connection failed: {type(exc).__name__}: {exc}"
            else:
                if status in REDIRECT_STATUSES and "location" in answer:
                    current = self._redirect(current, answer["location"], status)
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise FetchError(f"more than {MAX_REDIRECTS} redirects", url=str(current))
                    continue
                if status in RETRY_STATUSES:
                    problem = f"HTTP {status}"
                    retry_after = retry_after_seconds(
                        answer.get("retry-after"), date_header=answer.get("date")
                    )
                elif status < 300 or status in accept:
                    kept = {name.lower(): value for name, value in answer.items()}
                    return Page(url=str(current), status=status, body=body, headers=kept)
                else:
                    raise FetchError(f"HTTP {status}", url=str(current), status=status)
            if attempt >= self.retries:
                raise FetchError(
                    f"gave up after {attempt + 1} attempts; last: {problem}", url=str(current)
                )
            if retry_after is not None and retry_after > self.max_wait_s:
                raise FetchError(
                    f"{problem} asks to retry after {retry_after:.0f} s, "
                    f"more than the {self.max_wait_s:.0f} s we wait",
                    url=str(current),
                )
            delay = retry_after
            if delay is None:
                delay = min(self.backoff_s * 2**attempt, self.max_backoff_s)
            delay = max(delay, self.min_interval_s)
            log.warning("%s: %s; retry %d in %.0f s", current, problem, attempt + 1, delay)
            self.clock.sleep(delay)
            attempt += 1

    def _wait_turn(self) -> None:
        # arXiv: "no more than one request every three seconds" (measured start to start).
        if self._last_request is not None:
            wait = self._last_request + self.min_interval_s - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        self._last_request = self.clock.monotonic()

    def _send(
        self, url: httpx.URL, headers: Mapping[str, str] | None = None
    ) -> tuple[int, httpx.Headers, bytes]:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout_s),
                headers={"User-Agent": self.user_agent},
                follow_redirects=False,
                transport=self._transport,
            )
        with self._client.stream("GET", url, headers=dict(headers or {})) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(f"response larger than {self.max_bytes} bytes", url=str(url))
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _redirect(self, current: httpx.URL, location: str, status: int) -> httpx.URL:
        target = current.join(location)
        if target.host != current.host or target.scheme not in ("http", "https"):
            raise FetchError(
                f"HTTP {status} redirects to another host ({target}); set that URL instead",
                url=str(current),
                status=status,
            )
        return target


def parse_xml(body: bytes) -> Element:
    """Parse a fetched XML page with defusedxml: DTDs, entities and external references refused.

    arXiv never sends a DTD, and DTD entities are how XML bombs ("billion laughs") and
    external-entity (XXE) attacks work, so any page declaring one is refused outright.
    """
    try:
        root: Element = _defused_fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden as exc:
        raise PageError(
            f"refused unsafe XML: the page declares a DTD (<!DOCTYPE {exc.name}>); arXiv never "
            "sends one, and DTD entities are how XML bombs and external-entity (XXE) attacks work"
        ) from None
    except EntitiesForbidden as exc:
        raise PageError(f"refused unsafe XML: entity declaration {exc.name!r}") from None
    except ExternalReferenceForbidden as exc:
        raise PageError(f"refused unsafe XML: external reference {exc.sysid!r}") from None
    except DefusedXmlException as exc:
        raise PageError(f"refused unsafe XML: {exc}") from None
    except ParseError as exc:
        raise PageError(f"malformed XML: {exc}") from None
    return root
