"""Kill -9 of a real `paperfeed digest send` at each crash point, then restart: nobody is lost,
duplicates only after the data was handed over, bounded by the sends in flight, same Message-ID.
Also two sender processes on one store, and 10,000 subscribers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from paperfeed.db.digests import get_issue, issue_counts, ledger_rows
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.service import send_issue
from paperfeed.hub import Hub
from tests.digest.conftest import (
    MAIL_FROM,
    PUBLIC_URL,
    FakeClock,
    SmtpServer,
    add_readers,
    latest_day,
)

# One worker, so each crash point is hit alone: with more, a kill anywhere can also catch
# another worker between its 250 and its commit (still bounded by the sends in flight).
CONCURRENCY = 1


def sender_env(
    data_dir: Path, server: SmtpServer, crash_at: str | None = None, concurrency: int = CONCURRENCY
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env |= {
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_SEMANTIC_SEARCH": "false",
        "PAPERFEED_SMTP_HOST": "127.0.0.1",
        "PAPERFEED_SMTP_PORT": str(server.port),
        "PAPERFEED_SMTP_TLS": "none",
        "PAPERFEED_SMTP_TIMEOUT_S": "10",
        "PAPERFEED_PUBLIC_URL": PUBLIC_URL,
        "PAPERFEED_MAIL_FROM": MAIL_FROM,
        # A short lease, so the restart takes over the dead sender's claims quickly.
        "PAPERFEED_DIGEST_LEASE_S": "1",
        "PAPERFEED_DIGEST_CONCURRENCY": str(concurrency),
    }
    if crash_at:
        env["PAPERFEED_DIGEST_CRASH_AT"] = crash_at
    return env


def send_command(day: str) -> list[str]:
    return [sys.executable, "-m", "paperfeed", "digest", "send", "--date", day]


def run_sender(
    data_dir: Path, server: SmtpServer, day: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        send_command(day),
        env=sender_env(data_dir, server, crash_at),
        capture_output=True,
        text=True,
        timeout=120,
    )


def message_ids_by_recipient(server: SmtpServer) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for received in server.handler.received:
        found[received.recipient].add(received.message_id)
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "duplicates_possible"),
    [
        ("issue_created:1", False),
        ("row_claimed:15", False),
        ("data_sent:15", True),
        ("reply_received:15", True),
        ("committed:15", False),
    ],
)
def test_kill_9_at_a_crash_point_then_restart_loses_nobody(
    hub_factory: Callable[..., Hub],
    smtp_server: SmtpServer,
    point: str,
    duplicates_possible: bool,
) -> None:
    hub = hub_factory()
    addresses = add_readers(hub, 40)
    day = latest_day(hub)
    data_dir = hub.settings.data_dir
    hub.close()

    crashed = run_sender(data_dir, smtp_server, day.isoformat(), crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    before = sum(smtp_server.handler.per_recipient().values())
    restarted = run_sender(data_dir, smtp_server, day.isoformat())
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr

    received = smtp_server.handler.per_recipient()
    assert set(received) == set(addresses)  # nobody lost
    duplicates = sum(n - 1 for n in received.values())
    if duplicates_possible:
        assert duplicates <= CONCURRENCY  # never more than the sends in flight
        if point.startswith("reply_received"):
            assert duplicates >= 1  # the server had said 250: that one is sent again
    else:
        assert duplicates == 0
    # A resend reuses the row's Message-ID.
    assert all(len(ids) == 1 for ids in message_ids_by_recipient(smtp_server).values())
    if point.startswith("issue_created"):
        assert before == 0
    check = hub_factory()
    with check.db.read() as conn:
        issue = get_issue(conn, kind="daily", period=day)
        assert issue is not None and issue.status == "done"
        rows = ledger_rows(conn, issue_id=issue.issue_id)
    assert len(rows) == 40 and {r["state"] for r in rows} == {"sent"}


@pytest.mark.slow
def test_two_sender_processes_on_one_store_mail_each_subscriber_once(
    hub_factory: Callable[..., Hub], smtp_server: SmtpServer
) -> None:
    hub = hub_factory()
    addresses = add_readers(hub, 400)
    day = latest_day(hub).isoformat()
    data_dir = hub.settings.data_dir
    hub.close()
    senders = [
        subprocess.Popen(
            send_command(day),
            env=sender_env(data_dir, smtp_server, concurrency=2),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in senders]
    assert [p.returncode for p in senders] == [0, 0], outputs
    assert smtp_server.handler.per_recipient() == {a: 1 for a in addresses}
    # Both took part (each printed what it sent).
    sent = [
        int(out.split("this run sent ")[1].split(",")[0].replace(",", "")) for out, _ in outputs
    ]
    assert sum(sent) == 400


@pytest.mark.slow
def test_ten_thousand_subscribers_get_exactly_ten_thousand_messages(
    hub_factory: Callable[..., Hub], smtp_server: SmtpServer
) -> None:
    hub = hub_factory(smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    addresses = add_readers(hub, 10_000)
    report = send_issue(
        hub,
        kind="daily",
        period=latest_day(hub),
        policy=DeliveryPolicy(concurrency=4, batch=25),
        clock=FakeClock(),
    )
    received = smtp_server.handler.received
    assert len(received) == 10_000
    assert {r.recipient for r in received} == set(addresses)
    assert len({r.message_id for r in received}) == 10_000
    with hub.db.read() as conn:
        counts = issue_counts(conn, issue_id=report.issue.issue_id)
    assert counts.by_state == {"sent": 10_000}
