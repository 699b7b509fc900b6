"""The daily loop's jobs, each run for one period (the listing day, the digest's day, the UTC
day for stars and the Hugging Face mirror, a slot of minutes for notification mail): fetch the
listing, embed and index it, apply the feature policy, send the digests, count the stars of the
GitHub repositories papers link to, mirror a Hugging Face compatible hub's daily papers, mail
members their notifications.

Each returns the counts recorded with its run; `NotYet` means "nothing yet, look again later".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Collection
from typing import Any

from paperfeed.community.notification_mail import send_notification_mails
from paperfeed.db.announcements import Announcement, featured_on, record_announcements
from paperfeed.db.keyphrases import papers_lacking_keyphrases
from paperfeed.db.links import record_stars, repos_to_check
from paperfeed.db.notifications import mail_waiting
from paperfeed.db.papers import upsert_papers
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.service import DigestParts, run_schedule_once
from paperfeed.ingest._http import Clock as PoliteClock
from paperfeed.ingest.arxiv_listing import Clock as HttpClock
from paperfeed.ingest.arxiv_listing import ListedPaper, ListingNotReady, fetch_day_listings
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.github_stars import (
    ALLOWED_GITHUB_HOSTS,
    RateLimitSpent,
    StarCount,
    count_stars,
)
from paperfeed.ingest.hf_daily import HfDailyApiSource
from paperfeed.loop.feature import Policy, apply_policy
from paperfeed.search.index import contract_of
from paperfeed.search.indexer import embed_papers, keyphrase_papers
from paperfeed.search.keyphrases import KEYPHRASE_VERSION
from paperfeed.settings import Settings

log = logging.getLogger(__name__)


class NotYet(Exception):
    """Nothing to do yet (the listing is not out): look again later, record no empty day."""


def fetch_day(
    parts: DigestParts, *, day: dt.date, http_clock: HttpClock | None = None
) -> dict[str, Any]:
    """Fetch the listing of `day` for every configured category and store it (no featuring).

    All categories or none: while one listing is not out, nothing is stored and `NotYet` is
    raised; so is it when every listing is empty (a day with no papers is no day).
    """
    try:
        listings = fetch_day_listings(settings=parts.settings, day=day, clock=http_clock)
    except ListingNotReady as exc:
        raise NotYet(str(exc)) from None
    listed: list[ListedPaper] = [p for listing in listings for p in listing.papers]
    rejected = sum(len(listing.rejected) for listing in listings)
    for listing in listings:
        for item in listing.rejected:
            log.warning("%s: %s", item.location, item.reason)
    if not listed:
        raise NotYet(f"the listings of {day} are empty")
    with parts.db.write() as conn:
        summary = upsert_papers(conn, [p.record for p in listed])
        lines = record_announcements(
            conn,
            [
                Announcement(day, p.category, p.record.paper_id, p.kind, p.record.version)
                for p in listed
            ],
        )
    kinds = {kind: 0 for kind in ("new", "cross-list", "replacement")}
    for paper in {p.record.paper_id: p for p in listed if p.kind in kinds}.values():
        kinds[paper.kind] += 1
    return {
        "papers": len({p.record.paper_id for p in listed}),
        **kinds,
        "listing_lines": lines,
        "imported": summary.imported,
        "updated": summary.updated,
        "rejected": rejected,
    }


def embed_new(parts: DigestParts) -> dict[str, Any]:
    """Embed every paper without a current vector, and bring the search indexes up to date.

    Keyphrases are left for `keyphrase_pending`, after the digest: they cost about as much
    embedding again, and the day's papers must be searchable and mailed first.
    """
    counts: dict[str, Any] = {"embedded": 0, "unchanged": 0}
    if parts.embedder is not None:
        report = embed_papers(parts.db, parts.embedder, with_keyphrases=False)
        counts = {"embedded": report.embedded, "unchanged": report.unchanged}
    index = parts.search_index
    index.ensure_fresh(force=True)
    index.save()
    counts["keyword_documents"] = index.keyword.count()
    return counts


def keyphrases_pending(parts: DigestParts) -> bool:
    """Whether some paper with a current vector has no keyphrases of the current method."""
    if parts.embedder is None:
        return False
    contract = contract_of(parts.embedder)
    with parts.db.read() as conn:
        return bool(
            papers_lacking_keyphrases(conn, contract=contract, version=KEYPHRASE_VERSION, limit=1)
        )


def keyphrase_pending(parts: DigestParts) -> dict[str, Any]:
    """Find the keyphrases of the papers embedded without them (the worker's pass after the
    digest, unrecorded)."""
    if parts.embedder is None:
        return {"keyphrased": 0}
    return {"keyphrased": keyphrase_papers(parts.db, parts.embedder)}


def feature_day(parts: DigestParts, *, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Apply the feature policy to the new papers of `day`."""
    settings = parts.settings
    policy = Policy.parse(settings.auto_feature)
    picks = apply_policy(
        db=parts.db,
        day=day,
        policy=policy,
        contract=contract_of(parts.embedder) if parts.embedder is not None else None,
        now=now.astimezone(dt.UTC).replace(tzinfo=None),
        window=dt.timedelta(days=settings.auto_feature_window_days),
    )
    with parts.db.read() as conn:
        on_feed = len(featured_on(conn, day))
    return {"policy": settings.auto_feature, "featured": len(picks), "on_feed": on_feed}


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """How the loop delivers digests: as the settings say, but without waiting for deferred
    mails (`digest_max_wait_s` is how long `digest send` waits): a mail deferred (a 4xx, the
    SMTP server down) goes out on a later pass, and the worker goes on with its schedule."""
    return dataclasses.replace(DeliveryPolicy.from_settings(settings), max_wait_s=0.0)


def send_digests(parts: DigestParts, *, day: dt.date) -> dict[str, Any]:
    """Send `day`'s daily issue (when the day has a feed), its weekly issue (to readers who chose
    that weekday) and whatever unfinished issues remain; the ledger sends each mail once."""
    tick = run_schedule_once(parts, today=day, policy=delivery_policy(parts.settings))
    return {
        "issues": [
            {
                "kind": r.issue.kind,
                "period": r.issue.period.isoformat(),
                "status": r.issue.status,
                "sent": r.sent,
                "deferred": r.deferred,
                "failed": r.failed,
                "connect_failures": r.connect_failures,
            }
            for r in tick.reports
        ]
    }


def stars_due(parts: DigestParts, *, now: dt.datetime) -> bool:
    """Whether the stars job has anything to count at `now` (and is on)."""
    settings = parts.settings
    if settings.github_stars_per_run <= 0:
        return False
    with parts.db.read() as conn:
        return bool(repos_to_check(conn, checked_before=_stale_before(parts, now), limit=1))


def _stale_before(parts: DigestParts, now: dt.datetime) -> dt.datetime:
    age = dt.timedelta(days=parts.settings.github_stars_max_age_days)
    return now.astimezone(dt.UTC).replace(tzinfo=None) - age


def refresh_stars(
    parts: DigestParts,
    *,
    now: dt.datetime,
    http_clock: PoliteClock | None = None,
    allowed_hosts: Collection[str] = ALLOWED_GITHUB_HOSTS,
) -> dict[str, Any]:
    """Count the stars of up to `github_stars_per_run` GitHub repositories, those never counted
    or counted longest ago first; stop early when GitHub's rate limit is spent (the rest wait
    for the next day). Each answer is stored as it comes, so a crash loses nothing counted."""
    with parts.db.read() as conn:
        due = repos_to_check(
            conn,
            checked_before=_stale_before(parts, now),
            limit=parts.settings.github_stars_per_run,
        )
    counts: dict[str, Any] = {"due": len(due), "counted": 0, "unchanged": 0, "gone": 0}
    stamp = now.astimezone(dt.UTC).replace(tzinfo=None)
    answers = count_stars(
        [(repo.url, repo.etag) for repo in due],
        settings=parts.settings,
        clock=http_clock,
        allowed_hosts=allowed_hosts,
    )
    for answer in answers:
        if isinstance(answer, RateLimitSpent):
            counts["rate_limited_until"] = answer.reset.isoformat() if answer.reset else None
            break
        assert isinstance(answer, StarCount)
        with parts.db.write() as conn:
            record_stars(conn, answer.url, stars=answer.stars, etag=answer.etag, now=stamp)
        counts[answer.state] += 1
    return counts


def mirror_hf_daily(
    parts: DigestParts, *, day: dt.date, http_clock: PoliteClock | None = None
) -> dict[str, Any]:
    """Read the `hf_mirror_days` days before `day` from `hf_api_url`'s /api/daily_papers and
    store them as `paperfeed ingest hf-daily --since` does (each paper featured on its day with
    its upvotes; a later run only raises them). The new papers are embedded by the worker's
    pass after the jobs (the stragglers), so they are searchable by the pass's end."""
    settings = parts.settings
    since = day - dt.timedelta(days=settings.hf_mirror_days)
    until = day - dt.timedelta(days=1)
    source = HfDailyApiSource(settings=settings, since=since, until=until, clock=http_clock)
    summary = run_ingest(parts.db, source)
    for item in summary.rejected:
        log.warning("%s: %s", item.location, item.reason)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "imported": summary.imported,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "featured": summary.featured,
        "rejected": len(summary.rejected),
    }


def notify_due(parts: DigestParts, *, now: dt.datetime) -> bool:
    """Whether notification mail waits to be sent (or retried) at `now`."""
    with parts.db.read() as conn:
        return mail_waiting(conn, now=now.astimezone(dt.UTC).replace(tzinfo=None))


def send_notifications(parts: DigestParts, *, now: dt.datetime) -> dict[str, Any]:
    """Mail members who asked for it their new notifications (community/notification_mail.py)."""
    senders = parts.senders
    if senders is None:
        raise RuntimeError("the hub has no mail senders (Hub builds them from its settings)")
    naive = now.astimezone(dt.UTC).replace(tzinfo=None)
    run = send_notification_mails(
        db=parts.db, senders=senders, settings=parts.settings, now=lambda: naive
    )
    return run.counts()
