"""The worker on a fake clock: due jobs run once and are recorded, new papers become
searchable, each feature policy picks what it should, curators win, one worker per store."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from paperfeed.community.featuring import unfeature_paper
from paperfeed.db.announcements import announced_on
from paperfeed.db.digests import Preferences
from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import list_runs
from paperfeed.db.keyphrases import get_keyphrases
from paperfeed.db.mailbox import list_messages
from paperfeed.db.papers import upsert_papers
from paperfeed.db.upvotes import set_upvote
from paperfeed.db.users import get_or_create_user
from paperfeed.db.vectors import get_vector
from paperfeed.digest.subscribers import add_subscriber_now
from paperfeed.hub import Hub
from paperfeed.loop import jobs
from paperfeed.loop.jobs import feature_day
from paperfeed.loop.schedule import Schedule
from paperfeed.loop.worker import Pass, WorkerBusy, next_wake, run_due, run_worker, worker_lock
from paperfeed.models import PaperRecord
from paperfeed.search.hybrid import search
from paperfeed.search.index import contract_of
from tests.digest.conftest import FaultHandler, SmtpServer
from tests.ingest.conftest import FakeClock, ScriptedServer
from tests.loop.conftest import ANNOUNCED, TUESDAY, FakeArxiv, WorkerClock
from tests.loop.week import assert_closest

MONDAY = dt.date(2026, 3, 16)
MONDAY_ANNOUNCED = dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC)


def featured(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {item.paper.paper_id for item in papers_for_day(conn, day)}


def new_papers(hub: Hub, day: dt.date) -> set[str]:
    with hub.db.read() as conn:
        return {a.paper_id for a in announced_on(conn, day, kinds=("new", "cross-list"))}


def test_worker_once_runs_each_due_job_once_and_records_it(
    make_hub: Any, http_clock: FakeClock
) -> None:
    hub = make_hub(auto_feature="all")
    passes: list[Pass] = []
    clock = WorkerClock(ANNOUNCED)
    run_worker(hub, clock=clock, once=True, http_clock=http_clock, on_pass=passes.append)
    assert [(o.job, o.period, o.state) for o in passes[0].outcomes] == [
        ("fetch", "2026-03-17", "done"),
        ("embed", "2026-03-17", "done"),
        ("feature", "2026-03-17", "done"),
        ("digest", "2026-03-16", "done"),
    ]
    run_worker(hub, clock=clock, once=True, http_clock=http_clock, on_pass=passes.append)
    assert passes[1].outcomes == []
    with hub.db.read() as conn:
        runs = {(r.job, r.period): r for r in list_runs(conn)}
    fetch = runs[("fetch", "2026-03-17")]
    assert fetch.attempt == 1 and fetch.error is None
    # The fake clock's `now` decides what is due; the run's start and end are that `now` moved
    # on by the time really spent (a monotonic clock), so the run has a real duration.
    start = ANNOUNCED.replace(tzinfo=None)
    assert start <= fetch.started_at < fetch.finished_at < start + dt.timedelta(minutes=5)
    assert fetch.duration is not None and fetch.duration > dt.timedelta(0)
    feature = runs[("feature", "2026-03-17")]
    assert fetch.finished_at <= runs[("embed", "2026-03-17")].started_at  # one after the other
    assert feature.finished_at is not None and feature.finished_at < start + dt.timedelta(minutes=5)
    assert fetch.counts is not None and fetch.counts["new"] > 50
    embed = runs[("embed", "2026-03-17")]
    assert embed.counts is not None and embed.counts["embedded"] == fetch.counts["papers"]


def test_the_worker_sleeps_until_the_next_due_job(make_hub: Any, http_clock: FakeClock) -> None:
    hub = make_hub()
    clock = WorkerClock(ANNOUNCED)
    passes: list[Pass] = []
    run_worker(
        hub,
        clock=clock,
        http_clock=http_clock,
        max_sleep=dt.timedelta(days=1),
        on_pass=passes.append,
        keep_going=lambda: len(passes) < 2,
    )
    # Tuesday 00:00 UTC: the fetch ran; the next job is the 08:00 UTC digest of Tuesday.
    assert clock.sleeps == [8 * 3600.0]
    assert [(o.job, o.period) for o in passes[1].outcomes] == [("digest", "2026-03-17")]


def test_a_second_worker_on_the_same_store_is_refused(hub: Hub, http_clock: FakeClock) -> None:
    with worker_lock(hub.settings.worker_lock_path), pytest.raises(WorkerBusy, match="another"):
        run_worker(hub, clock=WorkerClock(ANNOUNCED), once=True, http_clock=http_clock)
    with hub.db.read() as conn:
        assert list_runs(conn) == []
    run_worker(hub, clock=WorkerClock(ANNOUNCED), once=True, http_clock=http_clock)  # freed


def test_fetched_papers_are_embedded_and_searchable_without_a_command(
    hub: Hub, http_clock: FakeClock
) -> None:
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert hub.embedder is not None
    contract = contract_of(hub.embedder)
    paper_id = sorted(new_papers(hub, TUESDAY))[0]
    with hub.db.read() as conn:
        assert get_vector(conn, paper_id=paper_id, contract=contract) is not None
        title = announced_title(hub, paper_id)
    results = search(hub.search_index, hub.embedder, title, limit=5)
    assert paper_id in [hit.paper.paper_id for hit in results.hits]


def test_keyphrases_come_after_the_days_digest_not_before_it(
    hub: Hub, http_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keyphrases cost about as much embedding again: the embed job leaves them, so the day is
    # searchable and mailed sooner (bench/daily.py: 2.0x the embedding alone with them inside).
    # The same pass finds them once its jobs are done.
    seen: list[int] = []

    def embed_new(parts: Any) -> dict[str, Any]:
        counts = jobs.embed_new(parts)
        with hub.db.read() as conn:
            seen.append(len(get_keyphrases(conn, sorted(new_papers(hub, TUESDAY)))))
        return counts

    monkeypatch.setattr("paperfeed.loop.worker.embed_new", embed_new)
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert seen == [0]
    with hub.db.read() as conn:
        found = get_keyphrases(conn, sorted(new_papers(hub, TUESDAY)))
    assert set(found) == new_papers(hub, TUESDAY)


def announced_title(hub: Hub, paper_id: str) -> str:
    from paperfeed.db.papers import get_paper

    with hub.db.read() as conn:
        stored = get_paper(conn, paper_id)
    assert stored is not None
    return stored.record.title


def test_policy_none_features_nothing(make_hub: Any, http_clock: FakeClock) -> None:
    hub = make_hub(auto_feature="none")
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert featured(hub, TUESDAY) == set()


def test_policy_all_features_every_new_paper_and_cross_list_but_no_replacement(
    make_hub: Any, http_clock: FakeClock
) -> None:
    hub = make_hub(auto_feature="all")
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    assert featured(hub, TUESDAY) == new_papers(hub, TUESDAY)
    with hub.db.read() as conn:
        replaced = {a.paper_id for a in announced_on(conn, TUESDAY, kinds=("replacement",))}
    assert replaced and not replaced & featured(hub, TUESDAY)


def test_policy_top_n_picks_the_new_papers_closest_to_what_members_upvoted(
    make_hub: Any, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    hub = make_hub(auto_feature="top:5")
    fake.day = MONDAY
    run_due(hub, now=MONDAY_ANNOUNCED, http_clock=http_clock)
    assert len(featured(hub, MONDAY)) == 5  # no member interest yet: listing order
    liked = sorted(new_papers(hub, MONDAY))[:3]
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "reader@example.org")
        for paper_id in liked:
            set_upvote(conn, user.user_id, paper_id, on=True, now=dt.datetime(2026, 3, 16, 12))
    fake.day = TUESDAY
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    with hub.db.read() as conn:
        assert_closest(conn, featured(hub, TUESDAY), new_papers(hub, TUESDAY), liked, 5)


def test_a_curators_unfeature_wins_over_the_policy(make_hub: Any, http_clock: FakeClock) -> None:
    hub = make_hub(auto_feature="all")
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    removed = sorted(featured(hub, TUESDAY))[0]
    unfeature_paper(db=hub.db, paper_id=removed, day=TUESDAY)
    again = feature_day(hub, day=TUESDAY, now=ANNOUNCED)  # the job run again (say, a crash)
    assert again["featured"] == 0
    assert removed not in featured(hub, TUESDAY)


def test_the_digest_goes_out_after_the_feed_day_closes(
    make_hub: Any, http_clock: FakeClock
) -> None:
    hub = make_hub(auto_feature="top:3")
    add_subscriber_now(
        db=hub.db,
        email="reader@example.org",
        preferences=Preferences(),
        confirmed=True,
        now=dt.datetime(2026, 3, 1),
    )
    digest_time = dt.datetime(2026, 3, 17, 8, 0, tzinfo=dt.UTC)
    first = run_due(hub, now=digest_time, http_clock=http_clock)
    assert [(o.job, o.period, o.state) for o in first.outcomes] == [
        ("fetch", "2026-03-17", "done"),
        ("embed", "2026-03-17", "done"),
        ("feature", "2026-03-17", "done"),
        ("digest", "2026-03-17", "done"),
    ]
    digest = first.outcomes[-1].counts
    assert digest is not None
    assert [(i["kind"], i["period"], i["sent"]) for i in digest["issues"]] == [
        ("daily", "2026-03-17", 1)
    ]
    run_due(hub, now=digest_time + dt.timedelta(hours=1), http_clock=http_clock)
    with hub.db.read() as conn:
        mails = list_messages(conn, to="reader@example.org")
    assert len(mails) == 1


def test_the_digest_waits_while_the_listing_is_late(
    make_hub: Any, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = MONDAY
    hub = make_hub(auto_feature="all", digest_time="00:10")
    late = run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=10), http_clock=http_clock)
    assert [(o.job, o.state) for o in late.outcomes] == [("fetch", "retry")]
    fake.day = TUESDAY
    later = run_due(hub, now=ANNOUNCED + dt.timedelta(minutes=45), http_clock=http_clock)
    assert [o.job for o in later.outcomes] == ["fetch", "embed", "feature", "digest"]


def test_a_paper_submitted_between_listings_is_embedded_by_the_next_pass(
    hub: Hub, http_clock: FakeClock
) -> None:
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    submitted = PaperRecord(
        paper_id="2603.99999",
        title="Retrieval augmented sonnets for lighthouse keepers",
        abstract="We write sonnets about lighthouses with retrieval augmentation.",
    )
    with hub.db.write() as conn:
        upsert_papers(conn, [submitted])
    later = run_due(hub, now=ANNOUNCED + dt.timedelta(hours=2), http_clock=http_clock)
    assert later.outcomes == []  # no job was due: the straggler is embedded all the same
    results = search(hub.search_index, hub.embedder, "lighthouse sonnets", limit=3)
    assert [hit.paper.paper_id for hit in results.hits][:1] == ["2603.99999"]
    assert hub.embedder is not None
    with hub.db.read() as conn:
        assert (
            get_vector(conn, paper_id="2603.99999", contract=contract_of(hub.embedder)) is not None
        )


def test_a_late_listing_wakes_the_worker_at_the_retry_and_a_holiday_does_not(
    make_hub: Any, arxiv: tuple[ScriptedServer, FakeArxiv], http_clock: FakeClock
) -> None:
    _server, fake = arxiv
    fake.day = MONDAY  # Tuesday's listing never comes out
    hub = make_hub()
    schedule = Schedule.from_settings(hub.settings)
    run_due(hub, now=ANNOUNCED, http_clock=http_clock)
    day = dt.timedelta(days=1)
    assert next_wake(hub, now=ANNOUNCED, schedule=schedule, max_sleep=day) == (
        ANNOUNCED + dt.timedelta(minutes=30)
    )
    given_up = ANNOUNCED + dt.timedelta(hours=10, minutes=5)
    run_due(hub, now=given_up, http_clock=http_clock)
    wake = next_wake(hub, now=given_up, schedule=schedule, max_sleep=day)
    assert wake.astimezone(dt.UTC) == dt.datetime(2026, 3, 18, 0, 0, tzinfo=dt.UTC)


def test_a_pass_does_not_wait_for_a_mail_server_that_is_down(
    make_hub: Any, http_clock: FakeClock
) -> None:
    """`digest_max_wait_s` is how long `digest send` waits for deferred mails; a worker's pass
    leaves them to a later pass (else it would sit there, fetching nothing, while SMTP is down)."""
    smtp = SmtpServer(FaultHandler())
    hub = make_hub(
        auto_feature="top:3",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,  # nothing listens there yet
        smtp_tls="none",
        digest_max_wait_s=60.0,
    )
    add_subscriber_now(
        db=hub.db,
        email="reader@example.org",
        preferences=Preferences(),
        confirmed=True,
        now=dt.datetime(2026, 3, 1),
    )
    digest_time = dt.datetime(2026, 3, 17, 8, 0, tzinfo=dt.UTC)
    started = time.monotonic()
    down = run_due(hub, now=digest_time, http_clock=http_clock)
    assert time.monotonic() - started < 30.0
    digest = down.outcomes[-1]
    assert (digest.job, digest.state) == ("digest", "done")
    assert digest.counts is not None
    [issue] = digest.counts["issues"]
    assert (issue["status"], issue["sent"], issue["connect_failures"]) == ("sending", 0, 1)
    smtp.start()
    try:
        deadline = time.monotonic() + 30.0
        while not smtp.handler.received:  # the connect backoff is on the real clock (~2 s)
            assert time.monotonic() < deadline, "the deferred digest never went out"
            time.sleep(0.5)
            run_due(hub, now=digest_time + dt.timedelta(hours=1), http_clock=http_clock)
    finally:
        smtp.stop()
    assert smtp.handler.per_recipient() == {"reader@example.org": 1}
