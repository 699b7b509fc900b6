"""The PostgreSQL engine (loop/queue.py): each period's job is queued once however many workers
defer it, a queue worker runs the day's chain and records it, jobs of a dead worker go back in
the queue, and a digest is delivered by one job per batch of recipients."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from procrastinate import App

from paperfeed.community import comments
from paperfeed.community.notifications import set_email
from paperfeed.db import Database
from paperfeed.db.digests import Preferences, add_subscribers_bulk
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import finish_run, list_runs, start_run
from paperfeed.db.links import links_of
from paperfeed.db.mailbox import list_messages
from paperfeed.db.papers import upsert_papers
from paperfeed.db.queue_schema import created_objects, schema_sql
from paperfeed.db.users import get_or_create_user
from paperfeed.db.vectors import get_vector
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.service import open_issue_for, send_issue
from paperfeed.hub import Hub
from paperfeed.loop.jobs import embed_new, feature_day, fetch_day
from paperfeed.loop.queue import (
    NOTIFY_TASK,
    RUN_TASK,
    VECTORS_TASK,
    build_app,
    defer_due,
    requeue_stalled,
    run_queue_until_empty,
)
from paperfeed.models import PaperRecord
from paperfeed.search.index import contract_of
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.ingest.test_hf_mirror import upstream  # noqa: F401  (a paperfeed hub on loopback)
from tests.loop.conftest import ANNOUNCED, FakeArxiv, make_settings
from tests.loop.fake_github import FakeGitHub
from tests.search.fakes import FakeEmbedder

QUEUE_TABLES = created_objects(schema_sql())["TABLE"]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(FakeClock())
    scripted.route(FakeArxiv())
    yield scripted
    scripted.close()


@pytest.fixture
def hub(db: Database, postgres_url: str, server: ScriptedServer, tmp_path: Path) -> Iterator[Hub]:
    settings = make_settings(
        tmp_path,
        server.url,
        database_url=postgres_url,
        auto_feature="top:3",
        arxiv_request_interval_s=0.0,
        digest_recipients_per_job=4,
    )
    built = Hub(settings=settings, db=db, embedder=FakeEmbedder())
    yield built
    built.search_index.keyword.close()  # not hub.close(): the fixture owns the database
    with db.write() as conn:
        for table in reversed(QUEUE_TABLES):
            conn.exec_driver_sql(f"DELETE FROM {table}")


def queued(app: App, status: str = "todo") -> list[tuple[str, str | None]]:
    return sorted(
        (job.task_name, job.queueing_lock) for job in app.job_manager.list_jobs(status=status)
    )


def test_a_periods_job_is_queued_once_when_two_workers_defer_it(hub: Hub) -> None:
    apps = [build_app(hub), build_app(hub)]  # two workers: two apps, two connection pools
    results: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def defer(n: int) -> None:
        barrier.wait()
        results[n] = defer_due(apps[n], hub, now=ANNOUNCED)

    with apps[0].open(), apps[1].open():
        threads = [threading.Thread(target=defer, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Tuesday 00:00 UTC: Tuesday's listing is due, and Monday's digest (08:00 UTC passed).
        expected = [(RUN_TASK, "digest:2026-03-16"), (RUN_TASK, "fetch:2026-03-17")]
        assert queued(apps[0]) == expected
        assert sorted(results[0] + results[1]) == ["digest:2026-03-16", "fetch:2026-03-17"]
        assert defer_due(apps[1], hub, now=ANNOUNCED + dt.timedelta(minutes=1)) == []
        assert queued(apps[0]) == expected

    async def take_one() -> None:  # a worker starts the fetch: the queue holds it as doing
        async with apps[0].open_async():
            worker_id = await apps[0].job_manager.register_worker()
            await apps[0].job_manager.fetch_job(queues=None, worker_id=worker_id)

    asyncio.run(take_one())
    with apps[1].open():
        # Its queueing lock is free again, but a running job of the period is not queued twice.
        assert defer_due(apps[1], hub, now=ANNOUNCED + dt.timedelta(minutes=2)) == []
        doing, todo = queued(apps[1], "doing"), queued(apps[1])
        assert len(doing) == 1 and sorted(doing + todo) == expected


def test_a_queue_worker_runs_the_days_chain_once_and_records_it(hub: Hub) -> None:
    with hub.db.write() as conn:
        rows = [(f"reader{n}@example.org", Preferences()) for n in range(10)]
        add_subscribers_bulk(conn, rows, now=dt.datetime(2026, 3, 1), confirmed=True)
    app = build_app(hub, tick=False)
    digest_time = dt.datetime(2026, 3, 17, 8, 0, tzinfo=dt.UTC)
    with app.open():
        assert defer_due(app, hub, now=digest_time) == ["fetch:2026-03-17"]  # digest waits
    run_queue_until_empty(hub, concurrency=2)
    with hub.db.read() as conn:
        runs = {(r.job, r.period): r for r in list_runs(conn)}
        mails = list_messages(conn, limit=100)
    assert {key: (r.state, r.attempt) for key, r in runs.items()} == {
        ("fetch", "2026-03-17"): ("done", 1),
        ("embed", "2026-03-17"): ("done", 1),
        ("feature", "2026-03-17"): ("done", 1),
        ("digest", "2026-03-17"): ("done", 1),
    }
    digest = runs[("digest", "2026-03-17")].counts
    assert digest == {
        "issues": [{"kind": "daily", "period": "2026-03-17", "recipients": 10, "delivery_jobs": 3}]
    }
    assert sorted(r for m in mails for r in m.recipients) == sorted(
        f"reader{n}@example.org" for n in range(10)
    )
    with app.open():
        assert defer_due(app, hub, now=digest_time) == []  # every job of the period is done


def test_the_jobs_of_a_dead_worker_go_back_in_the_queue(hub: Hub) -> None:
    app = build_app(hub, tick=False)

    async def scenario() -> dict[str, Any]:
        async with app.open_async():
            manager = app.job_manager
            await app.configure_task(RUN_TASK, queueing_lock="fetch:x", lock="fetch").defer_async(
                job="fetch", period="2026-03-17", now=ANNOUNCED.isoformat()
            )
            await app.configure_task(RUN_TASK, queueing_lock="embed:x", lock="embed").defer_async(
                job="embed", period="2026-03-17", now=ANNOUNCED.isoformat()
            )
            worker_id = await manager.register_worker()
            taken = [await manager.fetch_job(queues=None, worker_id=worker_id) for _ in range(2)]
            alive = await requeue_stalled(app, stalled_after_s=30)
            # The worker dies (kill -9): no heartbeat any more. A copy of the embed job is
            # queued meanwhile (the next tick saw its period unfinished).
            await app.connector.execute_query_async(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
            )
            await app.configure_task(RUN_TASK, queueing_lock="embed:x", lock="embed").defer_async(
                job="embed", period="2026-03-17", now=ANNOUNCED.isoformat()
            )
            dead = await requeue_stalled(app, stalled_after_s=30)
            by_id = {job.id: job for job in await manager.list_jobs_async()}
            return {"taken": taken, "alive": alive, "dead": dead, "by_id": by_id}

    found = asyncio.run(scenario())
    fetch, embed = found["taken"]
    assert found["alive"] == []  # a live worker's jobs stay its own
    assert found["dead"] == [fetch.id]
    assert found["by_id"][fetch.id].status == "todo"  # picked up again by the next worker
    assert found["by_id"][embed.id].status == "failed"  # its queued copy runs the period
    assert sorted((job.queueing_lock, job.status) for job in found["by_id"].values()) == [
        ("embed:x", "failed"),
        ("embed:x", "todo"),
        ("fetch:x", "todo"),
    ]


def test_a_delivery_job_sends_its_share_of_the_recipients_and_no_more(hub: Hub) -> None:
    with hub.db.write() as conn:
        rows = [(f"reader{n}@example.org", Preferences()) for n in range(10)]
        add_subscribers_bulk(conn, rows, now=dt.datetime(2026, 3, 1), confirmed=True)
    day = dt.date(2026, 3, 17)
    fetch_day(hub, day=day, http_clock=FakeClock())
    embed_new(hub)
    assert feature_day(hub, day=day, now=ANNOUNCED)["featured"] == 3  # the day has a feed
    _issue, recipients = open_issue_for(hub, kind="daily", period=day)
    assert recipients == 10
    share = DeliveryPolicy(concurrency=3, batch=3, max_rows=4)
    reports = [send_issue(hub, kind="daily", period=day, policy=share) for _ in range(3)]
    assert [(r.sent, r.issue.status) for r in reports] == [
        (4, "sending"),
        (4, "sending"),
        (2, "done"),
    ]
    with hub.db.read() as conn:
        mails = list_messages(conn, limit=100)
    assert sorted(r for m in mails for r in m.recipients) == sorted(
        f"reader{n}@example.org" for n in range(10)
    )


def test_a_paper_submitted_between_listings_is_embedded_by_the_queue(hub: Hub) -> None:
    submitted = PaperRecord(
        paper_id="2603.99999",
        title="Retrieval augmented sonnets for lighthouse keepers",
        abstract="We write sonnets about lighthouses with retrieval augmentation.",
    )
    with hub.db.write() as conn:
        upsert_papers(conn, [submitted])
    app = build_app(hub, tick=False, requeue=False)
    quiet = dt.datetime(2026, 3, 17, 12, 0, tzinfo=dt.UTC)
    with hub.db.write() as conn:  # the day's jobs are done: only the straggler is due
        for job in ("fetch", "embed", "feature", "digest"):
            start_run(conn, job=job, period="2026-03-17", now=quiet.replace(tzinfo=None))
            finish_run(
                conn, job=job, period="2026-03-17", state="done", now=quiet.replace(tzinfo=None)
            )
    with app.open():
        assert defer_due(app, hub, now=quiet) == [VECTORS_TASK]
    run_queue_until_empty(hub)
    assert hub.embedder is not None
    with hub.db.read() as conn:
        vector = get_vector(conn, paper_id="2603.99999", contract=contract_of(hub.embedder))
    assert vector is not None
    with app.open():
        assert defer_due(app, hub, now=quiet) == []


def test_the_hugging_face_mirror_goes_through_the_queue_once_a_day(
    hub: Hub,
    upstream: tuple[str, Hub],  # noqa: F811
) -> None:
    url, _served = upstream
    settings = hub.settings.model_copy(
        update={
            "arxiv_categories": [],
            "hf_mirror": True,
            "hf_api_url": url,
            "hf_request_interval_s": 0.0,
        }
    )
    mirror = Hub(settings=settings, db=hub.db, embedder=FakeEmbedder())
    app = build_app(mirror, tick=False, requeue=False)
    saturday = dt.datetime(2026, 3, 21, 9, 0, tzinfo=dt.UTC)  # after the digest time
    with mirror.db.write() as conn:  # the day's digest is done: only the mirror is due
        start_run(conn, job="digest", period="2026-03-21", now=saturday.replace(tzinfo=None))
        finish_run(
            conn, job="digest", period="2026-03-21", state="done", now=saturday.replace(tzinfo=None)
        )
    try:
        with app.open():
            assert defer_due(app, mirror, now=saturday) == ["hf_mirror:2026-03-21"]
        run_queue_until_empty(mirror)
        assert mirror.embedder is not None
        with mirror.db.read() as conn:
            runs = {(r.job, r.period): r for r in list_runs(conn)}
            featured = papers_for_day(conn, dt.date(2026, 3, 19))
            vector = get_vector(conn, paper_id="2603.01234", contract=contract_of(mirror.embedder))
        run = runs[("hf_mirror", "2026-03-21")]
        assert run.state == "done" and run.counts is not None and run.counts["imported"] == 2
        assert [(i.paper.paper_id, i.upvotes) for i in featured] == [("2603.01234", 42)]
        assert vector is not None  # the queue's catch-up task embedded what the mirror brought
        with app.open():
            assert defer_due(app, mirror, now=saturday + dt.timedelta(hours=5)) == []
    finally:
        mirror.search_index.keyword.close()


def test_the_stars_job_goes_through_the_queue_once_a_day(hub: Hub) -> None:
    github = ScriptedServer(FakeClock())
    fake = FakeGitHub(stars={"ada/engine": 1234, "bob/tool": 7})
    github.route(fake)
    settings = hub.settings.model_copy(
        update={
            "arxiv_categories": [],
            "github_api_url": github.url,
            "github_request_interval_s": 0.0,
            "github_stars_per_run": 10,
        }
    )
    stars = Hub(settings=settings, db=hub.db, embedder=FakeEmbedder())
    app = build_app(stars, tick=False, requeue=False)
    saturday = dt.datetime(2026, 3, 21, 9, 0, tzinfo=dt.UTC)  # after the digest time
    with stars.db.write() as conn:  # the day's digest is done: only the stars are due
        upsert_papers(
            conn,
            [
                PaperRecord("2603.00001", "One", "Code: https://github.com/ada/engine."),
                PaperRecord("2603.00002", "Two", "https://github.com/bob/tool"),
            ],
        )
        start_run(conn, job="digest", period="2026-03-21", now=saturday.replace(tzinfo=None))
        finish_run(
            conn, job="digest", period="2026-03-21", state="done", now=saturday.replace(tzinfo=None)
        )
    try:
        with app.open():
            assert "stars:2026-03-21" in defer_due(app, stars, now=saturday)
        run_queue_until_empty(stars, stars_hosts=frozenset({"127.0.0.1"}))
        with stars.db.read() as conn:
            runs = {(r.job, r.period): r for r in list_runs(conn)}
            found = links_of(conn, ["2603.00001", "2603.00002"])
        run = runs[("stars", "2026-03-21")]
        assert run.state == "done" and run.attempt == 1
        assert run.counts == {"due": 2, "counted": 2, "unchanged": 0, "gone": 0}
        assert {k: v.github_stars for k, v in found.items()} == {
            "2603.00001": 1234,
            "2603.00002": 7,
        }
        assert sorted(r.path for r in github.requests) == ["/repos/ada/engine", "/repos/bob/tool"]
        with app.open():  # done today; tomorrow the counts are a day old, not stale: nothing
            assert "stars:2026-03-21" not in defer_due(app, stars, now=saturday)
            tomorrow = defer_due(app, stars, now=saturday + dt.timedelta(days=1))
            assert not any(key.startswith("stars:") for key in tomorrow)
    finally:
        stars.search_index.keyword.close()
        github.close()


def test_notification_mail_is_queued_once_and_sent_by_a_queue_worker(hub: Hub) -> None:
    record = PaperRecord(
        paper_id="2603.99998",
        title="Queued mail",
        abstract="A.",
        authors=("A",),
        categories=("cs.CL",),
        primary_category="cs.CL",
    )
    with hub.db.write() as conn:
        upsert_papers(conn, [record])
        ada = get_or_create_user(conn, "ada-queue@example.org")
        bob = get_or_create_user(conn, "bob-queue@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id=record.paper_id, body="Q")
    comments.add_comment(
        db=hub.db, user_id=bob.user_id, paper_id=record.paper_id, body="Queued reply", parent_id=top
    )
    app = build_app(hub, tick=False, requeue=False)
    now = dt.datetime.now(dt.UTC)
    with app.open():
        assert NOTIFY_TASK in defer_due(app, hub, now=now)
        assert NOTIFY_TASK not in defer_due(app, hub, now=now)  # already waiting
    run_queue_until_empty(hub)
    with hub.db.read() as conn:
        mails = list_messages(conn, to="ada-queue@example.org")
    assert len(mails) == 1
    with app.open():
        assert NOTIFY_TASK not in defer_due(app, hub, now=now)  # nothing waits now
