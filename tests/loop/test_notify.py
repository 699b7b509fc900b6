"""The worker's notification-mail job: run when mail waits, once per slot of
PAPERFEED_NOTIFY_MAIL_EVERY_MINUTES, recorded like every job, through the hub's senders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperfeed.community import comments
from paperfeed.community.notifications import set_email
from paperfeed.db.jobs import list_runs
from paperfeed.db.mailbox import list_messages
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import get_or_create_user
from paperfeed.loop.schedule import NOTIFY, notify_slot
from paperfeed.loop.worker import run_due
from paperfeed.models import PaperRecord


def test_the_slot_is_the_start_of_its_interval_in_utc() -> None:
    at = dt.datetime(2026, 12, 3, 9, 47, 12, tzinfo=dt.UTC)
    assert notify_slot(at, 30) == dt.datetime(2026, 12, 3, 9, 30)
    assert notify_slot(at, 60) == dt.datetime(2026, 12, 3, 9, 0)
    assert notify_slot(at, 7) == dt.datetime(2026, 12, 3, 9, 47 - (9 * 60 + 47) % 7)
    berlin = at.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert notify_slot(berlin, 30) == notify_slot(at, 30)


def test_the_worker_mails_waiting_notifications_once_per_slot(make_hub: Any) -> None:
    hub = make_hub(arxiv_categories=[])
    with hub.db.write() as conn:
        upsert_papers(
            conn,
            [
                PaperRecord(
                    paper_id="2603.90004",
                    title="Loop Paper",
                    abstract="A.",
                    authors=("A",),
                    categories=("cs.CL",),
                    primary_category="cs.CL",
                )
            ],
        )
        ada = get_or_create_user(conn, "ada@example.org")
        bob = get_or_create_user(conn, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id="2603.90004", body="Q")
    now = dt.datetime.now(dt.UTC)
    first = run_due(hub, now=now)
    assert [o.job for o in first.outcomes if o.job == NOTIFY] == []  # nothing waits yet
    comments.add_comment(
        db=hub.db, user_id=bob.user_id, paper_id="2603.90004", body="A reply", parent_id=top
    )
    later = now + dt.timedelta(seconds=1)
    second = run_due(hub, now=later)
    [outcome] = [o for o in second.outcomes if o.job == NOTIFY]
    assert outcome.state == "done" and outcome.counts is not None
    assert outcome.counts["sent"] == 1
    assert outcome.period == notify_slot(later, 30).isoformat()
    with hub.db.read() as conn:
        mails = list_messages(conn, to="ada@example.org")
        runs = [r for r in list_runs(conn) if r.job == NOTIFY]
    assert len(mails) == 1 and "A reply" in mails[0].parsed().get_body().get_content()
    assert len(runs) == 1
    # Nothing more waits: the next pass runs no notify job.
    third = run_due(hub, now=later + dt.timedelta(seconds=1))
    assert [o for o in third.outcomes if o.job == NOTIFY] == []
