"""Digest jobs: send an issue, resume paused ones, preview one reader's mail, run the schedule.

What `paperfeed digest send|resume`, `paperfeed worker` and the web's preview call. They take
their parts (store, settings, senders, search) as one `DigestParts`: the hub is one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from paperfeed.db import Database
from paperfeed.db.digests import (
    Issue,
    Subscriber,
    due_subscriber_ids,
    get_subscriber,
    issue_counts,
    list_issues,
    sent_paper_ids,
)
from paperfeed.db.feed import home_day, latest_feed_day
from paperfeed.digest.compose import DigestPlan
from paperfeed.digest.content import DigestContent, PersonalPicks
from paperfeed.digest.deliver import deliver, open_issue
from paperfeed.digest.policy import Clock, DeliveryPolicy, DeliveryReport, SystemClock
from paperfeed.digest.render import Renderer
from paperfeed.mail import Sender, SenderFactory
from paperfeed.search.embedder import Embedder
from paperfeed.search.index import SearchIndex
from paperfeed.settings import Settings

logger = logging.getLogger(__name__)


class DigestParts(Protocol):
    """The parts a digest job uses, built once by the caller (`paperfeed.hub.Hub` is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def embedder(self) -> Embedder | None: ...

    @property
    def senders(self) -> SenderFactory | None: ...

    @property
    def search_index(self) -> SearchIndex: ...


def sender_factory(hub: DigestParts) -> Callable[[Callable[[str], None]], Sender]:
    """The hub's senders (SMTP, or the development mailbox): one sender per worker."""
    senders = hub.senders
    if senders is None:
        raise RuntimeError("the hub has no mail senders (Hub builds them from its settings)")
    return senders


def digest_content(hub: DigestParts, *, personal: PersonalPicks | None = None) -> DigestContent:
    """The digest builder over the hub's store, settings and (lazily opened) search index;
    `personal` replaces the default personal picks (`RecommendPicks`)."""
    return DigestContent(
        db=hub.db,
        settings=hub.settings,
        search_index=lambda: hub.search_index,
        embedder=hub.embedder,
        personal=personal,
    )


def default_period(hub: DigestParts, kind: str) -> dt.date:
    """The day the home page shows (`db.feed.home_day`: the newest featured day, or the demo's
    day while the store is the demo), else today (UTC)."""
    with hub.db.read() as conn:
        day = home_day(conn)
    return day or dt.datetime.now(dt.UTC).date()


def send_issue(
    hub: DigestParts,
    *,
    kind: str,
    period: dt.date,
    policy: DeliveryPolicy | None = None,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    on_issue: Callable[[Issue, int], None] | None = None,
    content: DigestContent | None = None,
) -> DeliveryReport:
    """Open the issue of (kind, period), once, and deliver what is left of it."""
    renderer = content.renderer if content is not None else Renderer(hub.settings)
    issue = open_issue(hub.db, kind=kind, period=period, domain=renderer.domain, clock=clock)
    return deliver_open_issue(
        hub,
        issue,
        policy=policy,
        clock=clock,
        progress=progress,
        on_issue=on_issue,
        content=content,
    )


def deliver_open_issue(
    hub: DigestParts,
    issue: Issue,
    *,
    policy: DeliveryPolicy | None = None,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    on_issue: Callable[[Issue, int], None] | None = None,
    content: DigestContent | None = None,
) -> DeliveryReport:
    """Deliver the claimable rows of an issue that exists already."""
    settings = hub.settings
    policy = policy or DeliveryPolicy.from_settings(settings)
    if on_issue is not None:
        with hub.db.read() as conn:
            counts = issue_counts(conn, issue_id=issue.issue_id)
        on_issue(issue, counts.total)
    if policy.processes > 1 and clock is None and content is None:
        return _deliver_in_processes(hub, issue, policy=policy, progress=progress)
    return deliver(
        hub.db,
        issue,
        builder=content or digest_content(hub),
        sender_factory=sender_factory(hub),
        mail_from=_envelope_from(settings),
        policy=policy,
        clock=clock,
        progress=progress,
    )


_REPORT_FIELDS = ("sent", "deferred", "failed", "ambiguous", "skipped", "connections")


def _child(hub: DigestParts, issue: Issue, policy: DeliveryPolicy, events: Any) -> None:
    """One sender process (forked): its own connections to the store and the SMTP server."""
    hub.db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    try:
        report = deliver(
            hub.db,
            issue,
            builder=digest_content(hub),
            sender_factory=sender_factory(hub),
            mail_from=_envelope_from(hub.settings),
            policy=policy,
            progress=events.put,
        )
        events.put({name: getattr(report, name) for name in _REPORT_FIELDS})
    except BaseException as exc:
        events.put({"error": repr(exc)})
        raise


def _deliver_in_processes(
    hub: DigestParts,
    issue: Issue,
    *,
    policy: DeliveryPolicy,
    progress: Callable[[str], None] | None,
) -> DeliveryReport:
    """Run `policy.processes` sender processes on the issue: Python threads share one core,
    processes use them all. The ledger keeps them apart exactly as it keeps hosts apart."""
    import multiprocessing
    import queue
    import time

    context = multiprocessing.get_context("fork")
    events = context.Queue()
    started = time.perf_counter()
    children = [
        context.Process(target=_child, args=(hub, issue, policy, events), daemon=True)
        for _ in range(policy.processes)
    ]
    for child in children:
        child.start()
    totals = dict.fromkeys(_REPORT_FIELDS, 0)
    finished, errors = 0, []
    while finished < len(children):
        try:
            event = events.get(timeout=1.0)
        except queue.Empty:
            if all(not c.is_alive() for c in children) and events.empty():
                break
            continue
        if isinstance(event, dict):
            finished += 1
            if "error" in event:
                errors.append(event["error"])
            else:
                for name in _REPORT_FIELDS:
                    totals[name] += event[name]
        elif progress is not None:
            progress(event)
    for child in children:
        child.join()
    if errors or any(c.exitcode for c in children):
        raise RuntimeError(
            f"a digest sender process failed: {errors or [c.exitcode for c in children]}"
        )
    # The children have finished their rows; this closes the issue (nothing left to claim).
    report = deliver(
        hub.db,
        issue,
        builder=digest_content(hub),
        sender_factory=sender_factory(hub),
        mail_from=_envelope_from(hub.settings),
        policy=DeliveryPolicy(concurrency=1, max_wait_s=0.0),
    )
    for name in _REPORT_FIELDS:
        setattr(report, name, getattr(report, name) + totals[name])
    report.elapsed_s = time.perf_counter() - started
    return report


def _envelope_from(settings: Settings) -> str:
    return Renderer(settings).from_address


def preview(
    hub: DigestParts, *, email: str, kind: str | None = None, period: dt.date | None = None
) -> tuple[DigestPlan, bytes] | None:
    """The digest `email` would get for a period, rendered, without sending or recording it."""
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, email=email)
    if subscriber is None:
        return None
    return preview_plan(hub, subscriber, kind=kind, period=period)


def preview_plan(
    hub: DigestParts,
    subscriber: Subscriber,
    *,
    kind: str | None = None,
    period: dt.date | None = None,
) -> tuple[DigestPlan, bytes]:
    """Compose and render one reader's digest (default: their kind, the newest day)."""
    with hub.db.read() as conn:
        already = sent_paper_ids(conn, subscriber_id=subscriber.subscriber_id)
    kind = kind or subscriber.frequency
    period = period or default_period(hub, kind)
    content = digest_content(hub)
    plan = content.plan(subscriber, kind=kind, period=period, key=0, already_sent=already)
    message_id = f"<preview.{subscriber.subscriber_id}@{content.renderer.domain}>"
    raw = content.renderer.digest(plan=plan, subscriber=subscriber, message_id=message_id)
    return plan, raw


@dataclass(frozen=True, slots=True)
class ScheduleTick:
    """What one pass of the schedule did."""

    reports: list[DeliveryReport]


def due_issues(hub: DigestParts, *, today: dt.date) -> list[tuple[str, dt.date]]:
    """The issues a pass of the schedule sends for `today`, as (kind, period): the daily issue
    when today has papers, the weekly issue when a reader chose today, then every unfinished
    issue (deferred rows, a crash's leftovers)."""
    with hub.db.read() as conn:
        latest = latest_feed_day(conn)
        unfinished = list_issues(conn, status=("building", "sending"), limit=50)
        weekly_due = bool(due_subscriber_ids(conn, kind="weekly", period=today))
    due = []
    if latest == today:
        due.append(("daily", today))
    if weekly_due:  # no empty weekly issue on days nobody chose
        due.append(("weekly", today))
    for issue in unfinished:
        if (issue.kind, issue.period) not in due:
            due.append((issue.kind, issue.period))
    return due


def open_issue_for(hub: DigestParts, *, kind: str, period: dt.date) -> tuple[Issue, int]:
    """Open the issue of (kind, period), once (its ledger rows written), without delivering
    it; returns it and its number of recipients. Senders elsewhere then deliver it."""
    issue = open_issue(hub.db, kind=kind, period=period, domain=Renderer(hub.settings).domain)
    with hub.db.read() as conn:
        total = issue_counts(conn, issue_id=issue.issue_id).total
    return issue, total


def run_schedule_once(
    hub: DigestParts,
    *,
    today: dt.date | None = None,
    clock: Clock | None = None,
    policy: DeliveryPolicy | None = None,
) -> ScheduleTick:
    """One pass of `paperfeed worker`: today's daily issue when today has papers, today's weekly
    issue, and whatever unfinished issues remain (deferred rows, a crash's leftovers)."""
    today = today or (clock or SystemClock()).now().date()
    reports = [
        send_issue(hub, kind=kind, period=period, clock=clock, policy=policy)
        for kind, period in due_issues(hub, today=today)
    ]
    return ScheduleTick(reports=reports)
