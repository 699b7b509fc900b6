"""Digest delivery on the full corpus: 10,000 subscribers, compose + render + SMTP + ledger.

Run `make bench-digest`. It copies the pre-imported store in data/bench/full/ (94,905 papers with
vectors; never modified) to data/bench/digest/, adds 10,000 readers with upvotes (SYNTHETIC: 8
random papers of the last 30 days each, so trending and personal picks have votes to work
with) and 10,000 daily subscribers with varied preferences (top-N 3..15, 0..3 categories, 0..2
saved searches from 60 real titles' words), each subscriber one of the readers (`--readers`
fewer: the rest have no account), then sends the day's issue twice to an aiosmtpd sink running
in its own process on 127.0.0.1: first with personal picks off for everyone, then with them on
for every reader as before issue #13 (`_CentroidPicks`, the old default copied here: the mean
vector of the reader's recent upvotes, its nearest papers of the day), then on for every reader
as now (`recommend()`, batched per claimed batch): #13 asks for no slowdown against "before".
The ledger is cleared between the runs.

Baseline, same run: stdlib smtplib delivering prepared messages on one reused connection to the
same sink (no compose, no render, no ledger).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import resource
import shutil
import smtplib
import socket
import sqlite3
import sys
import threading
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select

from paperfeed.db.digests import Issue, LedgerRow, Preferences, add_subscribers_bulk
from paperfeed.db.feed import recent_upvoted_ids
from paperfeed.db.papers import get_papers
from paperfeed.db.schema import feed_entries, papers, upvotes, users
from paperfeed.digest import service as digest_service
from paperfeed.digest.compose import Candidate
from paperfeed.digest.content import DigestContent
from paperfeed.digest.policy import Built, DeliveryPolicy
from paperfeed.digest.service import send_issue
from paperfeed.hub import Hub
from paperfeed.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "data/bench/full"
WORK = ROOT / "data/bench/digest"
CATEGORIES = [
    "cs.LG",
    "cs.CL",
    "cs.CV",
    "cs.AI",
    "stat.ML",
    "cs.RO",
    "quant-ph",
    "math.OC",
    "cs.CR",
    "eess.IV",
    "cs.IR",
    "physics.comp-ph",
    "q-bio.QM",
    "cs.SE",
    "astro-ph.GA",
]


def _sink(port: int, count: Synchronized[int], ready: Any) -> None:
    """An aiosmtpd server that counts and discards (its own process: it must not share a GIL)."""
    import asyncio

    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _copy_store() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    with (
        sqlite3.connect(f"file:{STORE / 'paperfeed.db'}?mode=ro", uri=True) as source,
        sqlite3.connect(WORK / "paperfeed.db") as target,
    ):
        source.backup(target)
    shutil.copytree(STORE / "paperfeed-search", WORK / "paperfeed-search")
    shutil.copytree(STORE / "models", WORK / "models")


def _populate(hub: Hub, *, subscribers: int, readers: int, rng: random.Random) -> dt.date:
    """Readers with upvotes, and subscribers with varied preferences; return the digest day."""
    with hub.db.write() as conn:
        # A snapshot import features nothing (docs/sources.md): feature the papers of the last
        # 30 announcement days, as `paperfeed ingest snapshot --feature` would, so the digests
        # have a feed to draw trending papers from.
        if conn.execute(select(feed_entries.c.day).limit(1)).first() is None:
            conn.exec_driver_sql(
                "INSERT INTO feed_entries (day, paper_id, source, upvotes, featured_at) "
                "SELECT announced, paper_id, 'snapshot', 0, announced FROM papers "
                "WHERE announced > (SELECT date(max(announced), '-30 days') FROM papers)"
            )
    with hub.db.read() as conn:
        day = conn.execute(select(feed_entries.c.day).order_by(feed_entries.c.day.desc())).scalar()
        recent = list(
            conn.execute(
                select(feed_entries.c.paper_id).where(
                    feed_entries.c.day > day - dt.timedelta(days=30)
                )
            ).scalars()
        )
        titles = list(conn.execute(select(papers.c.title).limit(60)).scalars())
    assert day is not None
    words = [w for t in titles for w in t.split() if len(w) > 6 and w.isalpha()]
    queries = [" ".join(rng.sample(words, 2)) for _ in range(60)]
    created = dt.datetime.combine(day, dt.time(8))
    with hub.db.write() as conn:
        conn.execute(
            insert(users),
            [{"email": f"reader{n}@example.net", "created_at": created} for n in range(readers)],
        )
        ids = list(conn.execute(select(users.c.user_id).order_by(users.c.user_id)).scalars())
        votes = [
            {"user_id": uid, "paper_id": pid, "created_at": created + dt.timedelta(minutes=i)}
            for uid in ids
            for i, pid in enumerate(rng.sample(recent, 8))
        ]
        conn.execute(insert(upvotes).prefix_with("OR IGNORE"), votes)
        rows = []
        for n in range(subscribers):
            prefs = Preferences(
                frequency="daily",
                top_n=rng.randint(3, 15),
                categories=tuple(rng.sample(CATEGORIES, rng.randint(0, 3))),
                searches=tuple(rng.sample(queries, rng.randint(0, 2))),
                personal=n < readers,
                max_papers=rng.randint(5, 30),
            )
            rows.append((f"sub{n:05d}@example.org", prefs))
        add_subscribers_bulk(conn, rows, now=created, confirmed=True)
        # The first `readers` subscribers are the readers (personal picks from their upvotes).
        conn.exec_driver_sql(
            "UPDATE subscribers SET user_id = subscriber_id WHERE subscriber_id <= ?", (readers,)
        )
    return day


class _TimedContent(DigestContent):
    """Counts the time spent composing and rendering each digest."""

    compose_s = 0.0
    built = 0

    def build(self, *, row: LedgerRow, issue: Issue) -> Built | None:
        start = time.perf_counter()
        result = super().build(row=row, issue=issue)
        self.compose_s += time.perf_counter() - start
        self.built += 1
        return result


class _CentroidPicks:
    """The digest's personal picks before issue #13 (`CentroidPicks` of digest/content.py at
    2c30bb2, unchanged but for its name): papers nearest the mean vector of the reader's
    upvoted papers. Here only as the "before" of the send benchmark."""

    def __init__(self, hub: Hub, *, most: int = 10) -> None:
        self.db = hub.db
        self.hub = hub
        self.most = most
        self._window: tuple[tuple[dt.date, dt.date], dict[str, Any]] | None = None
        self._fresh = False
        self._lock = threading.Lock()

    def _window_papers(
        self, since: dt.date, until: dt.date, ids: frozenset[str] | None
    ) -> dict[str, Any]:
        with self._lock:
            if self._window is not None and self._window[0] == (since, until):
                return self._window[1]
            found: dict[str, Any] = {}
            if ids is not None and len(ids) <= 20_000:
                with self.db.read() as conn:
                    found = get_papers(conn, sorted(ids))
            self._window = ((since, until), found)
            return found

    def picks(
        self, subscriber: Any, *, since: dt.date, until: dt.date, limit: int
    ) -> list[Candidate]:
        limit = min(limit, self.most)
        if subscriber.user_id is None or limit <= 0:
            return []
        with self.db.read() as conn:
            liked = recent_upvoted_ids(conn, user_id=subscriber.user_id, limit=200)
        index = self.hub.search_index
        if not self._fresh:
            index.ensure_fresh()
            self._fresh = True
        vectors = index.vectors
        if not liked or vectors is None or len(vectors) == 0:
            return []
        found = [v for pid in liked if (v := vectors.vector(pid)) is not None]
        if not found:
            return []
        centroid = np.mean(np.stack(found), axis=0)
        allowed = index.allowed_ids(since=since, until=until, categories=None)
        if allowed is not None and not allowed:
            return []
        hits = vectors.search(centroid, k=limit, exclude=liked, mask_ids=allowed)
        papers_ = self._window_papers(since, until, allowed)
        missing = [pid for pid, _ in hits if pid not in papers_]
        if missing:
            with self.db.read() as conn:
                papers_ = papers_ | get_papers(conn, missing)
        why = f"close to {len(found)} papers you upvoted"
        return [Candidate(papers_[pid], why) for pid, _ in hits if pid in papers_]


def _baseline(port: int, raws: list[bytes]) -> float:
    """Plain smtplib, one reused connection, prepared messages: mails per second."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n, raw in enumerate(raws):
            smtp.sendmail("digest@papers.example.org", [f"base{n}@example.org"], raw)
    return len(raws) / (time.perf_counter() - start)


def _send(hub: Hub, day: dt.date, args: argparse.Namespace) -> tuple[Any, float, float, Any]:
    """Send the daily issue of `day`: (report, seconds, sender CPU seconds, rusage after)."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = send_issue(
        hub,
        kind="daily",
        period=day,
        policy=DeliveryPolicy(concurrency=args.concurrency, processes=args.processes, batch=25),
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sender processes, now ended
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return report, elapsed, cpu_s, after


def _forget_issue(hub: Hub, issue_id: int) -> None:
    """Delete an issue, its ledger and what it recorded as sent, so the day can be sent again."""
    with hub.db.write() as conn:
        for table in ("digest_papers_sent", "digest_ledger"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE issue_id = ?", (issue_id,))
        conn.exec_driver_sql("DELETE FROM digest_issues WHERE issue_id = ?", (issue_id,))
        conn.exec_driver_sql("DELETE FROM rate_limits")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4, help="workers per process")
    parser.add_argument("--processes", type=int, default=2, help="sender processes")
    args = parser.parse_args()
    if not (STORE / "paperfeed.db").exists():
        sys.exit(f"no store at {STORE}: see bench/search.py for how it is built")
    rng = random.Random(5)
    started = time.perf_counter()
    _copy_store()
    port = _free_port()
    count: Synchronized[int] = multiprocessing.Value("i", 0)  # type: ignore[assignment]
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, count, ready), daemon=True)
    sink.start()
    ready.wait(30)
    settings = Settings(
        data_dir=WORK,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        public_url="https://papers.example.org",
        mail_from="Paper Digest <digest@papers.example.org>",
    )
    hub = Hub.from_settings(settings)
    day = _populate(hub, subscribers=args.subscribers, readers=args.readers, rng=rng)
    hub.search_index.ensure_fresh()  # open the indexes before the clock starts
    print(
        f"setup (copy, {args.subscribers:,} subscribers, {args.readers:,} readers): "
        f"{time.perf_counter() - started:,.1f} s; digest day {day}"
    )

    # Same run, same subscribers: first with personal picks off for everyone (the baseline of
    # issue #13's "no slower with personal picks"), then with them on for the readers.
    with hub.db.write() as conn:
        conn.exec_driver_sql("UPDATE subscribers SET personal = 0")
    without = _send(hub, day, args)
    _forget_issue(hub, without[0].issue.issue_id)
    with hub.db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE subscribers SET personal = 1 WHERE subscriber_id <= ?", (args.readers,)
        )
    # Before #13: the sender processes (forked) build their digests with the old picks.
    real_content = digest_service.digest_content

    def old_content(hub: Any, **_: Any) -> DigestContent:
        return real_content(hub, personal=_CentroidPicks(hub))

    digest_service.digest_content = old_content
    try:
        centroid = _send(hub, day, args)
    finally:
        digest_service.digest_content = real_content
    _forget_issue(hub, centroid[0].issue.issue_id)
    report, elapsed, cpu_s, after = _send(hub, day, args)
    received = count.value - without[0].counts["sent"] - centroid[0].counts["sent"]
    sent = report.counts["sent"]

    # Compose + render alone, one thread, and the baseline's prepared mails: the same digests.
    from paperfeed.db.digests import get_subscriber, ledger_rows

    with hub.db.read() as conn:
        rows = ledger_rows(conn, issue_id=report.issue.issue_id)[::5]  # a fifth, spread
        subs = [get_subscriber(conn, subscriber_id=r["subscriber_id"]) for r in rows]
    content = _TimedContent(
        db=hub.db,
        settings=hub.settings,
        search_index=lambda: hub.search_index,
        embedder=hub.embedder,
    )
    raws = []
    for row, sub in zip(rows, subs, strict=True):
        assert sub is not None
        built = content.build(
            row=LedgerRow(row["ledger_id"], row["issue_id"], sub, row["message_id"], None, 0),
            issue=report.issue,
        )
        if built is not None:
            raws.append(built.raw)
    baseline = _baseline(port, raws)
    sink.terminate()
    sink.join()
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    sink_cpu_s = (ended.ru_utime - after.ru_utime) + (ended.ru_stime - after.ru_stime)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = sent / elapsed
    print()
    print(
        f"| run ({args.processes} processes x {args.concurrency} workers) | mails | seconds "
        "| mails/s | ratio |"
    )
    print("|---|---:|---:|---:|---:|")
    print(
        f"| paperfeed digest send (compose + render + SMTP + ledger) | {sent:,} | "
        f"{elapsed:,.1f} | {rate:,.0f} | {rate / baseline:.2f} |"
    )
    plain = without[0].counts["sent"] / without[1]
    print(
        f"| same, personal picks off for everyone | {without[0].counts['sent']:,} | "
        f"{without[1]:,.1f} | {plain:,.0f} | {plain / baseline:.2f} |"
    )
    before = centroid[0].counts["sent"] / centroid[1]
    print(
        f"| same, personal picks as before #13 (centroid of upvotes) | "
        f"{centroid[0].counts['sent']:,} | {centroid[1]:,.1f} | {before:,.0f} | "
        f"{before / baseline:.2f} |"
    )
    print(
        f"| baseline: smtplib, 1 connection, prepared mails | {len(raws):,} | "
        f"{len(raws) / baseline:,.1f} | {baseline:,.0f} | 1.00 |"
    )
    print()
    per = content.compose_s / max(1, content.built) * 1000
    print(
        f"compose + render per digest: {per:.2f} ms ({content.built:,} digests in one thread, "
        f"{sum(1 for s in subs if s and s.personal):,} with personal picks)"
    )
    sender_ms = cpu_s * 1000 / max(1, sent)
    print(
        f"personal picks on ({args.readers:,} readers) vs off: {rate:,.0f} vs {plain:,.0f} "
        f"mails/s ({rate / plain:.2f}x); sender CPU per mail {sender_ms:.2f} vs "
        f"{without[2] * 1000 / max(1, without[0].counts['sent']):.2f} ms"
    )
    print(
        f"personal picks now vs before #13 (target: no slower): {rate:,.0f} vs {before:,.0f} "
        f"mails/s ({rate / before:.2f}x); sender CPU per mail {sender_ms:.2f} vs "
        f"{centroid[2] * 1000 / max(1, centroid[0].counts['sent']):.2f} ms"
    )
    sink_ms = sink_cpu_s * 1000 / max(1, received + len(raws))
    print(
        f"CPU per mail: senders {sender_ms:.2f} ms ({cpu_s:,.1f} s in {elapsed:,.1f} s of wall "
        f"time), sink {sink_ms:.2f} ms; on 2 idle cores that bounds the rate at about "
        f"{2000 / (sender_ms + sink_ms):,.0f} mails/s"
    )
    print(
        f"sink received {received:,} mails for {sent:,} sent rows; ledger {report.counts.by_state}"
    )
    print(f"peak RSS: parent {rss_mb:,.0f} MB, largest child (sender or sink) {child_mb:,.0f} MB")
    hub.close()


if __name__ == "__main__":
    main()
