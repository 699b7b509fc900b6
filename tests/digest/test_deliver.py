"""Delivery through the ledger against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from paperfeed.db.digests import get_subscriber, issue_counts, ledger_rows, unsubscribe
from paperfeed.digest.deliver import open_issue, resume_issue
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.service import send_issue
from paperfeed.hub import Hub
from tests.digest.conftest import FakeClock, SmtpServer, add_readers, latest_day

SMTP = Callable[..., Hub]


def smtp_hub(hub_factory: SMTP, server: SmtpServer, **overrides: object) -> Hub:
    return hub_factory(smtp_host="127.0.0.1", smtp_port=server.port, **overrides)


def policy(**overrides: object) -> DeliveryPolicy:
    values: dict[str, object] = {"concurrency": 2, "retry_base_s": 60.0, "max_wait_s": 86_400.0}
    return DeliveryPolicy(**(values | overrides))  # type: ignore[arg-type]


def test_every_subscriber_gets_one_message_with_its_own_message_id(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 60)
    report = send_issue(
        hub, kind="daily", period=latest_day(hub), policy=policy(), clock=FakeClock()
    )
    received = smtp_server.handler.per_recipient()
    assert received == {a: 1 for a in addresses}
    ids = [r.message_id for r in smtp_server.handler.received]
    assert len(set(ids)) == 60
    with hub.db.read() as conn:
        rows = ledger_rows(conn, issue_id=report.issue.issue_id)
    assert {r["state"] for r in rows} == {"sent"}
    assert {r["message_id"] for r in rows} == set(ids)
    assert report.issue.status == "done"
    # One reused connection per worker, not one per message.
    assert smtp_server.handler.ehlos <= 2


def test_a_second_run_and_a_double_fired_schedule_send_nothing_more(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    add_readers(hub, 20)
    day = latest_day(hub)
    first = send_issue(hub, kind="daily", period=day, policy=policy(), clock=FakeClock())
    second = send_issue(hub, kind="daily", period=day, policy=policy(), clock=FakeClock())
    assert first.issue.issue_id == second.issue.issue_id
    assert second.sent == 0
    assert len(smtp_server.handler.received) == 20


@pytest.mark.parametrize("code", ["421 4.3.2 shutting down", "450 4.2.1 busy", "451 4.3.0 later"])
def test_temporary_refusals_are_deferred_then_each_sent_once(
    hub_factory: SMTP, smtp_server: SmtpServer, code: str
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 50)
    unlucky = set(addresses[::5])  # 20 %
    refused: set[str] = set()

    def rcpt(address: str) -> str | None:
        # Each unlucky address is refused on its first try only.
        if address in unlucky and address not in refused:
            refused.add(address)
            return code
        return None

    smtp_server.handler.rcpt_reply = rcpt
    clock = FakeClock()
    start = clock.now()
    report = send_issue(
        hub, kind="daily", period=latest_day(hub), policy=policy(retry_base_s=60.0), clock=clock
    )
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    assert refused == unlucky
    assert report.counts["sent"] == 50 and report.issue.status == "done"
    # No hot loop: each unlucky address was tried exactly twice, and the retry waited for its
    # backoff (at least half the base delay) on the clock, not in a spin.
    assert all(smtp_server.handler.rcpt_attempts[a] == 2 for a in unlucky)
    assert clock.now() - start >= dt.timedelta(seconds=30)
    assert clock.sleeps < 500
    with hub.db.read() as conn:
        rows = {r["email"]: r for r in ledger_rows(conn, issue_id=report.issue.issue_id)}
    assert all(rows[a]["attempts"] == 2 for a in unlucky)


def test_deferral_backoff_is_persisted_in_the_row(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 10)
    smtp_server.handler.rcpt_reply = lambda a: "450 4.2.1 busy" if a == addresses[3] else None
    clock = FakeClock()
    report = send_issue(
        hub, kind="daily", period=latest_day(hub), policy=policy(max_wait_s=0.0), clock=clock
    )
    # The run did not wait (max_wait_s 0): the row waits in the ledger with its time.
    with hub.db.read() as conn:
        rows = {r["email"]: r for r in ledger_rows(conn, issue_id=report.issue.issue_id)}
    row = rows[addresses[3]]
    assert row["state"] == "deferred" and row["last_code"] == 450 and row["attempts"] == 1
    wait = (row["next_attempt_at"] - clock.now()).total_seconds()
    assert 30.0 <= wait <= 60.0
    assert report.issue.status == "sending"
    # A later run, after the time has come, sends it once.
    smtp_server.handler.rcpt_reply = lambda _a: None
    clock.sleep(61)
    send_issue(hub, kind="daily", period=latest_day(hub), policy=policy(), clock=clock)
    assert smtp_server.handler.per_recipient()[addresses[3]] == 1


def test_permanent_refusals_fail_after_one_attempt_and_the_rest_is_unaffected(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 100)
    bad = set(addresses[::20])  # 5 %
    smtp_server.handler.rcpt_reply = lambda a: "550 5.1.1 no such user" if a in bad else None
    clock = FakeClock()
    report = send_issue(hub, kind="daily", period=latest_day(hub), policy=policy(), clock=clock)
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses if a not in bad}
    assert all(smtp_server.handler.rcpt_attempts[a] == 1 for a in bad)
    assert report.issue.status == "done"
    assert report.counts["failed"] == 5 and report.counts["sent"] == 95
    # A later run never retries them.
    send_issue(hub, kind="daily", period=latest_day(hub), policy=policy(), clock=clock)
    assert all(smtp_server.handler.rcpt_attempts[a] == 1 for a in bad)
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, email=sorted(bad)[0])
    assert subscriber is not None and subscriber.hard_bounces == 1


def test_hard_bounces_suppress_an_address_at_the_threshold(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 3, max_papers=1, top_n=1)
    smtp_server.handler.rcpt_reply = lambda a: "550 5.1.1 gone" if a == addresses[0] else None
    clock = FakeClock()
    day = latest_day(hub)
    for back in range(3):
        send_issue(
            hub,
            kind="daily",
            period=day - dt.timedelta(days=back),
            policy=policy(bounce_threshold=2),
            clock=clock,
        )
    assert smtp_server.handler.rcpt_attempts[addresses[0]] == 2
    with hub.db.read() as conn:
        subscriber = get_subscriber(conn, email=addresses[0])
    assert subscriber is not None and subscriber.status == "suppressed"


def test_a_high_failure_ratio_pauses_the_issue_and_resume_remails_nobody(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 200)
    bad = {a for n, a in enumerate(addresses) if n % 5 < 3}  # 60 %
    smtp_server.handler.rcpt_reply = lambda a: "554 5.7.1 rejected" if a in bad else None
    clock = FakeClock()
    day = latest_day(hub)
    report = send_issue(
        hub, kind="daily", period=day, policy=policy(pause_min_sample=50), clock=clock
    )
    assert report.issue.status == "paused"
    assert report.issue.paused_reason is not None and "failed" in report.issue.paused_reason
    delivered = smtp_server.handler.per_recipient()
    assert 0 < sum(delivered.values()) < 200 - len(bad)
    pending = report.counts["pending"]
    assert pending > 0
    # The server is fixed; resume sends the rest, and nobody already mailed again.
    smtp_server.handler.rcpt_reply = lambda _a: None
    assert resume_issue(hub.db, issue_id=report.issue.issue_id, clock=clock)
    after = send_issue(hub, kind="daily", period=day, policy=policy(), clock=clock)
    final = smtp_server.handler.per_recipient()
    assert max(final.values()) == 1
    assert after.issue.status == "done"
    assert after.counts["failed"] == report.counts["failed"]
    assert sum(final.values()) == after.counts["sent"]


def test_a_drop_after_data_is_ambiguous_and_resent_with_the_same_message_id(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 10)
    dropped: set[str] = set()

    def drop(address: str) -> bool:
        if address == addresses[4] and address not in dropped:
            dropped.add(address)
            return True
        return False

    smtp_server.handler.drop_after_data = drop
    report = send_issue(
        hub, kind="daily", period=latest_day(hub), policy=policy(), clock=FakeClock()
    )
    assert report.ambiguous == 1
    copies = [r for r in smtp_server.handler.received if r.recipient == addresses[4]]
    assert len(copies) == 2  # the server kept the first: the documented duplicate
    assert copies[0].message_id == copies[1].message_id
    assert smtp_server.handler.per_recipient()[addresses[5]] == 1
    assert report.counts["sent"] == 10


def test_a_hanging_server_times_out_and_the_run_ends(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server, smtp_timeout_s=0.3)
    add_readers(hub, 4)
    smtp_server.handler.hang_s = 1.0
    report = send_issue(
        hub,
        kind="daily",
        period=latest_day(hub),
        policy=policy(concurrency=1, max_attempts=2, retry_base_s=1.0),
        clock=FakeClock(),
    )
    # Every try timed out waiting for the reply to the data: ambiguous, retried, then failed.
    assert report.counts["failed"] == 4
    with hub.db.read() as conn:
        rows = ledger_rows(conn, issue_id=report.issue.issue_id)
    assert all("gave up after 2 attempts" in r["last_error"] for r in rows)
    assert all(r["lease_owner"] is None for r in rows)


def test_a_server_down_for_30_s_gets_backoff_then_everyone_once(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 30)
    smtp_server.stop()
    clock = FakeClock()
    down_since = clock.now()
    up = threading_event()

    def maybe_start(now: dt.datetime) -> None:
        if now - down_since >= dt.timedelta(seconds=30) and not up.is_set():
            up.set()
            smtp_server.start()

    clock.on_sleep = maybe_start
    report = send_issue(
        hub, kind="daily", period=latest_day(hub), policy=policy(concurrency=3), clock=clock
    )
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    assert report.connect_failures >= 2
    # Fewer than one connection attempt per second while it was down.
    assert report.connect_failures < 30
    assert report.issue.status == "done"


def test_an_unsubscribe_after_the_issue_was_built_is_not_mailed(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 10)
    day = latest_day(hub)
    clock = FakeClock()
    issue = open_issue(hub.db, kind="daily", period=day, domain="papers.example.org", clock=clock)
    with hub.db.write() as conn:
        subscriber = get_subscriber(conn, email=addresses[2])
        assert subscriber is not None
        unsubscribe(conn, subscriber_id=subscriber.subscriber_id, now=clock.now())
    report = send_issue(hub, kind="daily", period=day, policy=policy(), clock=clock)
    assert report.issue.issue_id == issue.issue_id
    assert addresses[2] not in smtp_server.handler.per_recipient()
    assert len(smtp_server.handler.received) == 9
    with hub.db.read() as conn:
        counts = issue_counts(conn, issue_id=issue.issue_id)
    assert counts["skipped"] == 1 and counts["sent"] == 9


def threading_event():  # type: ignore[no-untyped-def]
    import threading

    return threading.Event()


def test_several_sender_processes_share_the_issue_and_mail_each_reader_once(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 120)
    events: list[str] = []
    report = send_issue(
        hub,
        kind="daily",
        period=latest_day(hub),
        policy=policy(processes=2, concurrency=2),
        progress=events.append,
    )
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    assert report.sent == 120 and events.count("sent") == 120
    assert report.issue.status == "done"


def test_rows_held_by_a_dead_sender_are_taken_over_when_the_lease_expires(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    from paperfeed.db.digests import claim_rows

    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 12)
    clock = FakeClock()
    start = clock.now()
    issue = open_issue(hub.db, kind="daily", period=latest_day(hub), domain="x.org", clock=clock)
    with hub.db.write() as conn:
        held = claim_rows(
            conn,
            issue_id=issue.issue_id,
            owner="dead-host:1:0",
            now=clock.now(),
            lease=dt.timedelta(seconds=300),
            limit=5,
        )
    assert len(held) == 5
    report = send_issue(hub, kind="daily", period=issue.period, policy=policy(), clock=clock)
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    assert report.issue.status == "done"
    # The run waited on the clock for the lease, not in a spin.
    assert clock.now() - start >= dt.timedelta(seconds=300)
    assert clock.sleeps < 400


def test_the_rate_limit_is_counted_in_the_store_and_spreads_the_sends(
    hub_factory: SMTP, smtp_server: SmtpServer
) -> None:
    from paperfeed.db.digests import rate_window
    from paperfeed.digest.deliver import RATE_BUCKET

    hub = smtp_hub(hub_factory, smtp_server)
    addresses = add_readers(hub, 25)
    clock = FakeClock()
    start = clock.now()
    report = send_issue(
        hub,
        kind="daily",
        period=latest_day(hub),
        policy=policy(rate_per_minute=10, concurrency=2, batch=4),
        clock=clock,
    )
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    assert report.issue.status == "done"
    # 25 mails at 10 a minute: the third window opened at least two minutes in.
    assert clock.now() - start >= dt.timedelta(minutes=2)
    with hub.db.read() as conn:
        window = rate_window(conn, bucket=RATE_BUCKET)
    assert window is not None and window[1] == 5
