"""The same ledger on PostgreSQL (claims with FOR UPDATE SKIP LOCKED), on the test session's
real server (`postgres_url`, tests/pg/server.py; PAPERFEED_TEST_POSTGRES_URL picks another)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from paperfeed.db.digests import Preferences, add_subscribers_bulk
from paperfeed.db.feed import latest_feed_day
from paperfeed.digest.policy import DeliveryPolicy
from paperfeed.digest.service import send_issue
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.snapshot import sample_source
from tests.digest.conftest import SmtpServer, digest_settings


@pytest.mark.slow
def test_two_processes_with_deferrals_mail_each_reader_once_on_postgres(
    tmp_path: Path, smtp_server: SmtpServer, postgres_url: str
) -> None:
    hub = Hub.from_settings(
        digest_settings(
            tmp_path, database_url=postgres_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port
        )
    )
    try:
        run_ingest(hub.db, sample_source())
        addresses = [f"pg{n}@example.net" for n in range(200)]
        unlucky = set(addresses[::10])
        handler = smtp_server.handler
        handler.rcpt_reply = lambda a: (
            "451 4.3.0 later" if a in unlucky and handler.rcpt_attempts[a] == 1 else None
        )
        with hub.db.write() as conn:
            add_subscribers_bulk(
                conn,
                [(a, Preferences(top_n=3, max_papers=4, personal=False)) for a in addresses],
                now=dt.datetime(2026, 3, 1),
                confirmed=True,
            )
            day = latest_feed_day(conn)
        assert day is not None
        report = send_issue(
            hub,
            kind="daily",
            period=day,
            policy=DeliveryPolicy(concurrency=4, processes=2, retry_base_s=1.0, max_wait_s=60.0),
        )
        assert report.issue.status == "done" and report.counts.by_state == {"sent": 200}
        assert handler.per_recipient() == {a: 1 for a in addresses}
    finally:
        with hub.db.write() as conn:  # leave the database empty for the next run
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        hub.close()
