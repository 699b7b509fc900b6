"""The knobs, the clock and the test-only crash points of digest delivery, and what a run
reports: what `deliver` and its callers share."""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import signal
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from paperfeed.db.digests import Issue, IssueCounts, LedgerRow
from paperfeed.settings import Settings

CRASH_ENV = "PAPERFEED_DIGEST_CRASH_AT"
CRASH_POINTS = ("issue_created", "row_claimed", "data_sent", "reply_received", "committed")


class Clock(Protocol):
    """Time as the engine sees it; tests pass a fake one that sleeps instantly."""

    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: naive UTC, like every time in the store."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class CrashPoints:
    """Test-only: kill this process with SIGKILL at the n-th pass of a named point.

    PAPERFEED_DIGEST_CRASH_AT=data_sent:3 dies the third time a message's data is handed over
    before its reply is read. Unset (always, outside the crash tests), it does nothing.
    """

    def __init__(self, spec: str | None) -> None:
        self.point: str | None = None
        self.at = 1
        if spec:
            name, _, count = spec.partition(":")
            if name not in CRASH_POINTS:
                raise ValueError(f"{CRASH_ENV}: unknown point {name!r}; one of {CRASH_POINTS}")
            self.point, self.at = name, int(count or 1)
        self._seen = 0
        self._lock = threading.Lock()

    def __call__(self, point: str) -> None:
        if point != self.point:
            return
        with self._lock:
            self._seen += 1
            if self._seen >= self.at:
                os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The knobs of delivery (Settings `digest_*`, docs/digests.md)."""

    concurrency: int = 4
    processes: int = 1
    batch: int = 10
    rate_per_minute: int = 0
    lease_s: float = 300.0
    retry_base_s: float = 60.0
    retry_max_s: float = 3600.0
    max_attempts: int = 8
    pause_ratio: float = 0.2
    pause_min_sample: int = 50
    bounce_threshold: int = 3
    connect_backoff_max_s: float = 60.0
    max_wait_s: float = 900.0
    poll_s: float = 1.0
    # Rows one run claims at most (0: until none is left): a queued delivery job's share of an
    # issue (the PostgreSQL engine's fan-out, docs/daily-loop.md).
    max_rows: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            concurrency=settings.digest_concurrency,
            processes=settings.digest_processes,
            rate_per_minute=settings.digest_rate_per_minute,
            lease_s=settings.digest_lease_s,
            retry_base_s=settings.digest_retry_base_s,
            retry_max_s=settings.digest_retry_max_s,
            max_attempts=settings.digest_max_attempts,
            pause_ratio=settings.digest_pause_ratio,
            bounce_threshold=settings.digest_bounce_threshold,
            max_wait_s=settings.digest_max_wait_s,
        )

    def retry_delay(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: base · 2^(attempts-1), capped, times 0.5 to 1.0.

        Jitter spreads the retries of a batch deferred together (AWS Architecture Blog,
        "Exponential Backoff And Jitter", 2015: "equal jitter").
        """
        ceiling = min(self.retry_max_s, self.retry_base_s * 2 ** max(0, attempts - 1))
        return float(ceiling / 2 + rng.random() * ceiling / 2)


@dataclass(frozen=True, slots=True)
class Built:
    """A rendered digest for one ledger row (the message's bytes), and the papers in it."""

    raw: bytes
    paper_ids: tuple[str, ...]


class DigestBuilder(Protocol):
    """Composes and renders the digest of one row; None when there is nothing to send.

    A builder may also have `prepare(*, rows, issue)`, called with each claimed batch before
    its rows are built (work the batch's mails share); an exception there is logged and the
    rows are built one by one as usual.
    """

    def build(self, *, row: LedgerRow, issue: Issue) -> Built | None: ...


@dataclass
class DeliveryReport:
    """What one run did, and where the issue stands."""

    issue: Issue
    counts: IssueCounts
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    ambiguous: int = 0
    skipped: int = 0
    connections: int = 0
    connect_failures: int = 0
    elapsed_s: float = 0.0


def message_id_for(issue_id: int, subscriber_id: int, domain: str) -> str:
    """A Message-ID fixed when the ledger row is written, so every resend reuses it."""
    return f"<digest.{issue_id}.{subscriber_id}.{secrets.token_hex(6)}@{domain}>"
