"""`paperfeed notifications send|status` on a store in tmp_path, mailing to the development
mailbox (no SMTP host set)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.community import comments
from paperfeed.community.notifications import set_email
from paperfeed.db.mailbox import list_messages
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.models import PaperRecord
from paperfeed.settings import Settings

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("data_dir")


def test_send_mails_a_reply_once_and_status_counts_it() -> None:
    hub = Hub.from_settings(Settings())
    with hub.db.write() as conn:
        upsert_papers(conn, [PaperRecord(paper_id="2603.90005", title="T", abstract="A")])
        ada = get_or_create_user(conn, "ada@example.org")
        bob = get_or_create_user(conn, "bob@example.org")
    set_email(db=hub.db, user_id=ada.user_id, on=True)
    top = comments.add_comment(db=hub.db, user_id=ada.user_id, paper_id="2603.90005", body="Q")
    comments.add_comment(
        db=hub.db, user_id=bob.user_id, paper_id="2603.90005", body="An answer", parent_id=top
    )
    hub.close()
    result = runner.invoke(app, ["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.stdout
    again = runner.invoke(app, ["notifications", "send"])
    assert again.exit_code == 0 and "sent 0" in again.stdout
    status = runner.invoke(app, ["notifications", "status", "--json"])
    assert json.loads(status.stdout) == {"sent": 1}
    hub = Hub.from_settings(Settings())
    with hub.db.read() as conn:
        assert len(list_messages(conn, to="ada@example.org")) == 1
    hub.close()
