"""`paperfeed subscribers …` and `paperfeed digest …` from the command line (dev mailbox)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.db import Database
from paperfeed.db.mailbox import list_messages
from tests.digest.conftest import MAIL_FROM, PUBLIC_URL, copy_store


@pytest.fixture
def env(tmp_path: Path, digest_store: Path) -> dict[str, str]:
    data_dir = copy_store(digest_store, tmp_path / "data")
    return {
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_SEMANTIC_SEARCH": "false",
        "PAPERFEED_PUBLIC_URL": PUBLIC_URL,
        "PAPERFEED_MAIL_FROM": MAIL_FROM,
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def mailbox(env: dict[str, str]) -> Database:
    return Database(f"sqlite:///{Path(env['PAPERFEED_DATA_DIR']) / 'paperfeed.db'}")


def test_subscribers_add_import_list_remove(env: dict[str, str], tmp_path: Path) -> None:
    code, out = run(env, "subscribers", "add", "Ada@Example.org", "--confirmed")
    assert code == 0 and "added ada@example.org (active, daily)" in out
    code, out = run(env, "subscribers", "add", "ada@example.org")
    assert "already there" in out
    listing = tmp_path / "list.csv"
    listing.write_text("email,name\nbob@example.org,Bob\nada@example.org,Ada\nnot-an-address\n")
    code, out = run(env, "subscribers", "import", str(listing))
    assert code == 1  # one line rejected
    assert "1 added, 1 already there, 1 rejected" in out and "unconfirmed" in out
    code, out = run(env, "subscribers", "list", "--json")
    rows = {r["email"]: r for r in json.loads(out)}
    assert rows["bob@example.org"]["status"] == "pending"
    assert rows["ada@example.org"]["status"] == "active"
    assert all("token" not in r for r in rows.values())
    code, out = run(env, "subscribers", "remove", "bob@example.org")
    assert code == 0
    code, _ = run(env, "subscribers", "remove", "bob@example.org")
    assert code == 4  # not found


def test_digest_send_goes_to_the_dev_mailbox_and_only_to_confirmed_readers(
    env: dict[str, str],
) -> None:
    run(env, "subscribers", "add", "ada@example.org", "--confirmed")
    run(env, "subscribers", "add", "bob@example.org")
    code, out = run(env, "digest", "send", "--date", "2026-03-18")
    assert code == 0, out
    assert "sent 1" in out and "ledger: 1 rows (sent 1)" in out
    db = mailbox(env)
    with db.read() as conn:
        messages = list_messages(conn)
    db.dispose()
    assert [m.recipients for m in messages] == [("ada@example.org",)]
    parsed = messages[0].parsed()
    assert parsed["Subject"].startswith("Daily papers · Wednesday, 18 March 2026 ·")
    assert parsed.get_body(("html",)) is not None
    # Sending again changes nothing; status shows the issue done.
    code, out = run(env, "digest", "send", "--date", "2026-03-18")
    assert code == 0 and "sent 0" in out
    code, out = run(env, "digest", "status", "--json")
    status = json.loads(out)
    assert status["issues"][0]["status"] == "done"
    assert status["issues"][0]["ledger"] == {"sent": 1}


def test_preview_prints_the_digest_without_sending(env: dict[str, str]) -> None:
    run(env, "subscribers", "add", "ada@example.org", "--confirmed")
    code, out = run(env, "digest", "preview", "ada@example.org", "--date", "2026-03-18")
    assert code == 0
    assert "Subject: Daily papers · Wednesday, 18 March 2026 · 10 papers" in out
    assert f"{PUBLIC_URL}/papers/" in out
    code, html = run(env, "digest", "preview", "ada@example.org", "--date", "2026-03-18", "--html")
    assert "<html" in html
    db = mailbox(env)
    with db.read() as conn:
        assert list_messages(conn) == []
    db.dispose()
    code, _ = run(env, "digest", "preview", "nobody@example.org")
    assert code == 4  # not found


def test_bad_dates_are_usage_errors(env: dict[str, str]) -> None:
    code, _ = run(env, "digest", "send", "--date", "18/03/2026")
    assert code == 2


def test_resume_without_a_paused_issue_says_so(env: dict[str, str]) -> None:
    code, _ = run(env, "digest", "resume")
    assert code == 0
    code, _ = run(env, "digest", "resume", "99")
    assert code == 4  # not found
