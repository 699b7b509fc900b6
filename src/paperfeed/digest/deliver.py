"""Digest delivery through the ledger: open an issue, claim rows under leases, send, record.

Runs from `paperfeed digest send` and the worker's schedule. The ledger decides: an issue is
made once per (kind, period), its rows are written before any send, and every outcome is
committed right after the server's reply, so a crash at any point and a restart lose nobody.
The crash points (docs/digests.md) can be triggered in tests with PAPERFEED_DIGEST_CRASH_AT.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from paperfeed.db import Database
from paperfeed.db.digests import (
    Issue,
    IssueCounts,
    LedgerRow,
    claim_rows,
    count_in_window,
    due_subscriber_ids,
    failure_ratio,
    fill_ledger,
    get_issue,
    get_or_create_issue,
    issue_counts,
    next_wakeup,
    rate_window,
    record_deferred,
    record_failed,
    record_sent,
    record_skipped,
    release_claims,
    renew_lease,
    set_issue_status,
)
from paperfeed.digest.policy import (
    CRASH_ENV,
    Built,
    Clock,
    CrashPoints,
    DeliveryPolicy,
    DeliveryReport,
    DigestBuilder,
    SystemClock,
    message_id_for,
)
from paperfeed.mail.sender import ConnectError, Outcome, Sender

logger = logging.getLogger(__name__)

RATE_BUCKET = "digest:smtp"
_RATE_WINDOW = dt.timedelta(minutes=1)


def open_issue(
    db: Database,
    *,
    kind: str,
    period: dt.date,
    domain: str,
    clock: Clock | None = None,
    crash: Callable[[str], None] | None = None,
) -> Issue:
    """Make (or find) the issue of (kind, period) and write its ledger rows, once.

    An issue stays `building` until every recipient has a row, so a crash in between is
    finished by the next run; then it is `sending`.
    """
    clock = clock or SystemClock()
    crash = crash or CrashPoints(os.environ.get(CRASH_ENV))
    with db.write() as conn:
        issue, _created = get_or_create_issue(conn, kind=kind, period=period, now=clock.now())
    crash("issue_created")
    if issue.status == "building":
        with db.write() as conn:
            ids = due_subscriber_ids(conn, kind=kind, period=period)
            fill_ledger(
                conn,
                issue_id=issue.issue_id,
                subscriber_ids=ids,
                message_id=lambda sid: message_id_for(issue.issue_id, sid, domain),
            )
            set_issue_status(
                conn,
                issue_id=issue.issue_id,
                status="sending",
                now=clock.now(),
                only_from=("building",),
            )
        with db.read() as conn:
            refreshed = get_issue(conn, issue_id=issue.issue_id)
        assert refreshed is not None
        issue = refreshed
    return issue


def resume_issue(db: Database, *, issue_id: int, clock: Clock | None = None) -> bool:
    """Let a paused issue send again; rows already sent or failed stay as they are."""
    clock = clock or SystemClock()
    with db.write() as conn:
        return set_issue_status(
            conn, issue_id=issue_id, status="sending", now=clock.now(), only_from=("paused",)
        )


class _ConnectGate:
    """Shared by the workers of a run: after a failed connect, nobody tries again before
    an exponentially growing, jittered delay (1.5 to 2.5 s, then doubling), so a server that is
    down sees fewer than one connection attempt per second."""

    def __init__(self, clock: Clock, max_s: float, rng: random.Random) -> None:
        self.clock = clock
        self.max_s = max_s
        self.rng = rng
        self.failures = 0
        self.not_before: dt.datetime | None = None
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self.lock:
                if self.not_before is None:
                    return
                delay = (self.not_before - self.clock.now()).total_seconds()
            if delay <= 0:
                return
            self.clock.sleep(min(delay, 1.0))

    def failed(self) -> dt.datetime:
        with self.lock:
            self.failures += 1
            delay = min(self.max_s, 2.0**self.failures) * (0.75 + self.rng.random() / 2)
            self.not_before = self.clock.now() + dt.timedelta(seconds=delay)
            return self.not_before

    def succeeded(self) -> None:
        with self.lock:
            self.failures = 0
            self.not_before = None


class _Run:
    """One delivery run of one issue: N worker threads, each with its own connection."""

    def __init__(
        self,
        db: Database,
        issue: Issue,
        *,
        builder: DigestBuilder,
        sender_factory: Callable[[Callable[[str], None]], Sender],
        mail_from: str,
        policy: DeliveryPolicy,
        clock: Clock,
        crash: Callable[[str], None],
        progress: Callable[[str], None] | None,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.issue = issue
        self.builder = builder
        self.sender_factory = sender_factory
        self.mail_from = mail_from
        self.policy = policy
        self.clock = clock
        self.crash = crash
        self.progress = progress or (lambda _event: None)
        self.rng = rng
        self.stop = threading.Event()
        self.deadline = clock.now() + dt.timedelta(seconds=policy.max_wait_s)
        self.gate = _ConnectGate(clock, policy.connect_backoff_max_s, rng)
        self.lock = threading.Lock()
        self.report = DeliveryReport(issue=issue, counts=IssueCounts())
        self.errors: list[BaseException] = []
        self.batch_done = threading.Event()
        self.halted = threading.Event()  # this run paused the issue
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.claimed = 0  # rows claimed by this run's workers (for `policy.max_rows`)

    # -- the worker loop --

    def worker(self, number: int) -> None:
        owner = f"{self.owner}:{number}"
        sender = self.sender_factory(self.crash)
        try:
            while not self.stop.is_set():
                share = self._reserve()
                if share == 0:  # this run claimed its `max_rows`: the rest is another run's
                    return
                rows = self._claim(owner, share)
                self._unreserve(share - len(rows or ()))
                if rows is None:
                    continue
                if not rows and not self._wait_for_work():
                    return
                self._process(owner, sender, rows)
                self.batch_done.set()
        except BaseException as exc:  # a bug must not leave the other workers waiting
            logger.exception("digest worker %s stopped", owner)
            self.errors.append(exc)
            self.stop.set()
        finally:
            sender.close()
            with self.lock:
                self.report.connections += getattr(sender, "connections", 0)

    def _reserve(self) -> int:
        """How many rows the next claim may take: a batch, within what is left of `max_rows`."""
        if self.policy.max_rows <= 0:
            return self.policy.batch
        with self.lock:
            share = max(0, min(self.policy.batch, self.policy.max_rows - self.claimed))
            self.claimed += share
        return share

    def _unreserve(self, unused: int) -> None:
        with self.lock:
            self.claimed -= unused

    def _claim(self, owner: str, share: int) -> list[LedgerRow] | None:
        """Claim up to `share` rows within the persisted rate limit; None when the limit says
        wait."""
        policy = self.policy
        wait = 0.0
        # The claim itself is safe beside other senders (SKIP LOCKED); a rate limit is a
        # read-then-count of one shared window, which needs the store's lock.
        with self.db.write(store_lock=policy.rate_per_minute > 0) as conn:
            now = self.clock.now()
            limit = share
            if policy.rate_per_minute > 0:
                window = rate_window(conn, bucket=RATE_BUCKET)
                if window is not None and now - window[0] < _RATE_WINDOW:
                    limit = min(limit, policy.rate_per_minute - window[1])
                    wait = (window[0] + _RATE_WINDOW - now).total_seconds()
            if limit > 0:
                rows = claim_rows(
                    conn,
                    issue_id=self.issue.issue_id,
                    owner=owner,
                    now=now,
                    lease=dt.timedelta(seconds=policy.lease_s),
                    limit=limit,
                )
                if rows and policy.rate_per_minute > 0:
                    count_in_window(
                        conn, bucket=RATE_BUCKET, window=_RATE_WINDOW, now=now, amount=len(rows)
                    )
                return rows
        self.clock.sleep(min(max(wait, 0.01), policy.poll_s))
        return None

    def _wait_for_work(self) -> bool:
        """Nothing claimable now: sleep until something may be, or say the run is over.

        Rows claimed by this run's other workers are waited for in real time (they finish
        soon); only deferred rows and other senders' leases are waited for on the clock.
        """
        with self.db.read() as conn:
            issue = get_issue(conn, issue_id=self.issue.issue_id)
            wake, ours = next_wakeup(conn, issue_id=self.issue.issue_id, own_prefix=self.owner)
        if issue is None or issue.status != "sending":
            return False
        if wake is None:
            if not ours:
                return False
            self.batch_done.wait(timeout=0.05)
            self.batch_done.clear()
            return True
        if wake > self.deadline:
            return False
        delay = (wake - self.clock.now()).total_seconds()
        self.clock.sleep(min(max(delay, 0.01), self.policy.poll_s))
        return True

    def _process(self, owner: str, sender: Sender, rows: list[LedgerRow]) -> None:
        lease_until = self.clock.now() + dt.timedelta(seconds=self.policy.lease_s)
        prepare = getattr(self.builder, "prepare", None)
        if prepare is not None:
            try:  # work shared by the batch's mails (its readers' personal picks, together)
                prepare(rows=rows, issue=self.issue)
            except Exception:  # each mail is then built alone, as without a prepare step
                logger.exception("preparing a batch of %s digests failed", len(rows))
        for index, row in enumerate(rows):
            # The claim saw the issue sending; a pause by this run stops the batch at once,
            # one by another sender is seen at the next claim (at most a batch later).
            if self.stop.is_set() or self.halted.is_set():
                self._release(owner, rows[index:])
                return
            self.crash("row_claimed")
            if self.clock.now() > lease_until - dt.timedelta(seconds=self.policy.lease_s / 3):
                lease_until = self._renew(owner, rows[index:])
            if isinstance(self._deliver_one(sender, row), _Connect):
                self._release(owner, rows[index:], not_before=self.gate.failed())
                return

    def _deliver_one(self, sender: Sender, row: LedgerRow) -> _Connect | None:
        """Send one row and commit its outcome; a `_Connect` when the server is unreachable."""
        subscriber = row.subscriber
        if not subscriber.receives:
            state = "suppressed" if subscriber.status == "suppressed" else "skipped"
            reason = "paused" if subscriber.paused else subscriber.status
            self._skip(row, state, f"not mailed: subscriber is {reason}")
            return None
        try:
            built = self.builder.build(row=row, issue=self.issue)
        except Exception as exc:  # one reader's broken digest must not stop everyone else's
            logger.exception("digest for subscriber %s failed to build", subscriber.subscriber_id)
            self._fail_unsent(row, f"could not compose or render: {exc!r}")
            return None
        if built is None:
            self._skip(row, "skipped", "not mailed: nothing new for this reader")
            return None
        self.gate.wait(self.stop)
        try:
            sender.connect()
        except ConnectError as exc:
            with self.lock:
                self.report.connect_failures += 1
            logger.warning("%s", exc)
            return _Connect(str(exc))
        self.gate.succeeded()
        outcome = sender.send(built.raw, sender=self.mail_from, recipient=subscriber.email)
        self._record(row, built, outcome)
        return None

    def _record(self, row: LedgerRow, built: Built, outcome: Outcome) -> None:
        now = self.clock.now()
        policy = self.policy
        check_ratio = False
        with self.db.write(store_lock=False) as conn:
            if outcome.kind == "sent":
                record_sent(
                    conn, row=row, paper_ids=built.paper_ids, code=outcome.code or 250, now=now
                )
            elif outcome.kind == "failed" or row.attempts + 1 >= policy.max_attempts:
                text = outcome.text
                if outcome.kind != "failed":
                    text = f"gave up after {row.attempts + 1} attempts: {text}"
                record_failed(
                    conn,
                    row=row,
                    code=outcome.code,
                    error=text,
                    now=now,
                    hard_bounce=outcome.hard_bounce,
                    bounce_threshold=policy.bounce_threshold,
                )
                check_ratio = True
            else:
                delay = policy.retry_delay(row.attempts + 1, self.rng)
                record_deferred(
                    conn,
                    ledger_id=row.ledger_id,
                    code=outcome.code,
                    error=outcome.text,
                    next_attempt_at=now + dt.timedelta(seconds=delay),
                )
        if outcome.kind == "sent":
            self.crash("committed")
        with self.lock:
            if outcome.kind == "sent":
                self.report.sent += 1
            elif check_ratio:
                self.report.failed += 1
            elif outcome.kind == "ambiguous":
                self.report.ambiguous += 1
                self.report.deferred += 1
            else:
                self.report.deferred += 1
        self.progress(outcome.kind)
        if check_ratio:
            self._check_failure_ratio()

    def _check_failure_ratio(self) -> None:
        """Pause the issue, with its reason, when too many recipients fail (a bad list, or a
        server refusing us): better to stop and look than to burn the sender's reputation."""
        policy = self.policy
        with self.db.write() as conn:
            issue = get_issue(conn, issue_id=self.issue.issue_id)
            assert issue is not None
            failed, finished = failure_ratio(conn, issue=issue)
            if finished < policy.pause_min_sample or failed / finished <= policy.pause_ratio:
                return
            reason = (
                f"{failed} of {finished} recipients failed ({failed / finished:.0%}, above "
                f"{policy.pause_ratio:.0%}); check the list and the server, then "
                "`paperfeed digest resume`"
            )
            paused = set_issue_status(
                conn,
                issue_id=issue.issue_id,
                status="paused",
                now=self.clock.now(),
                reason=reason,
                only_from=("sending",),
            )
        if paused:
            self.halted.set()
            logger.warning("digest issue %s paused: %s", issue.issue_id, reason)

    def _fail_unsent(self, row: LedgerRow, reason: str) -> None:
        with self.db.write(store_lock=False) as conn:
            record_failed(
                conn,
                row=row,
                code=None,
                error=reason,
                now=self.clock.now(),
                hard_bounce=False,
                bounce_threshold=self.policy.bounce_threshold,
            )
        with self.lock:
            self.report.failed += 1
        self.progress("failed")

    def _skip(self, row: LedgerRow, state: str, reason: str) -> None:
        with self.db.write(store_lock=False) as conn:
            record_skipped(
                conn, ledger_id=row.ledger_id, state=state, reason=reason, now=self.clock.now()
            )
        with self.lock:
            self.report.skipped += 1
        self.progress("skipped")

    def _renew(self, owner: str, rows: list[LedgerRow]) -> dt.datetime:
        until = self.clock.now() + dt.timedelta(seconds=self.policy.lease_s)
        with self.db.write(store_lock=False) as conn:
            renew_lease(conn, owner=owner, ledger_ids=[r.ledger_id for r in rows], until=until)
        return until

    def _release(
        self, owner: str, rows: list[LedgerRow], *, not_before: dt.datetime | None = None
    ) -> None:
        ids = [r.ledger_id for r in rows]
        with self.db.write(store_lock=False) as conn:
            if not_before is None:
                release_claims(conn, owner=owner, ledger_ids=ids)
                return
            for ledger_id in ids:
                record_deferred(
                    conn,
                    ledger_id=ledger_id,
                    code=None,
                    error="server unreachable; not attempted",
                    next_attempt_at=not_before,
                    attempted=False,
                )


@dataclass(frozen=True, slots=True)
class _Connect:
    """The server could not be reached: the rest of the batch goes back to wait."""

    text: str


def deliver(
    db: Database,
    issue: Issue,
    *,
    builder: DigestBuilder,
    sender_factory: Callable[[Callable[[str], None]], Sender],
    mail_from: str,
    policy: DeliveryPolicy | None = None,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    crash: Callable[[str], None] | None = None,
    seed: int | None = None,
) -> DeliveryReport:
    """Send an issue's claimable rows with `policy.concurrency` workers until none is left.

    The run ends when every row is final, the issue is paused, or the next deferred row is
    due after `policy.max_wait_s` (the next run picks it up).
    """
    policy = policy or DeliveryPolicy()
    run = _Run(
        db,
        issue,
        builder=builder,
        sender_factory=sender_factory,
        mail_from=mail_from,
        policy=policy,
        clock=clock or SystemClock(),
        crash=crash or CrashPoints(os.environ.get(CRASH_ENV)),
        progress=progress,
        rng=random.Random(seed),
    )
    started = time.perf_counter()
    threads = [
        threading.Thread(target=run.worker, args=(n,), name=f"digest-{n}", daemon=True)
        for n in range(max(1, policy.concurrency))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if run.errors:
        raise run.errors[0]
    with db.write() as conn:
        if next_wakeup(conn, issue_id=issue.issue_id)[0] is None:
            set_issue_status(
                conn,
                issue_id=issue.issue_id,
                status="done",
                now=run.clock.now(),
                only_from=("sending",),
            )
        run.report.counts = issue_counts(conn, issue_id=issue.issue_id)
        latest = get_issue(conn, issue_id=issue.issue_id)
    assert latest is not None
    run.report.issue = latest
    run.report.elapsed_s = time.perf_counter() - started
    return run.report
