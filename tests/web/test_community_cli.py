"""`paperfeed users list|role`: the first admin is made on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.db import Database
from paperfeed.db.users import Role, get_or_create_user, get_user_by_email, list_users


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    database = Database(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    database.migrate()
    return database


def test_role_and_list(store: Database) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["users", "list"])
    assert empty.exit_code == 0 and "No users yet" in empty.output
    missing = runner.invoke(app, ["users", "role", "ada@example.org", "admin"])
    assert missing.exit_code == 4 and "--create" in missing.output  # not found
    made = runner.invoke(app, ["users", "role", "Ada@Example.org", "admin", "--create"])
    assert made.exit_code == 0, made.output
    assert "ada@example.org is now admin" in made.output
    with store.write() as conn:
        get_or_create_user(conn, "bob@example.org")
    assert runner.invoke(app, ["users", "role", "bob@example.org", "curator"]).exit_code == 0
    bad = runner.invoke(app, ["users", "role", "bob@example.org", "king"])
    assert bad.exit_code == 2
    listed = runner.invoke(app, ["users", "list"], terminal_width=200)
    assert listed.exit_code == 0
    assert "ada@example.org" in listed.output and "curator" in listed.output
    with store.read() as conn:
        ada = get_user_by_email(conn, "ada@example.org")
        bob = get_user_by_email(conn, "bob@example.org")
    assert ada is not None and ada.role is Role.ADMIN
    assert bob is not None and bob.role is Role.CURATOR
    store.dispose()


@pytest.mark.parametrize(
    "address", ["a@x.org,b@y.org", "victim@x.org;1", "ada@x.org\x00", "ada@x.org\r\nbcc:e@y.org"]
)
def test_role_refuses_what_is_not_one_address(store: Database, address: str) -> None:
    result = CliRunner().invoke(app, ["users", "role", address, "admin", "--create"])
    assert result.exit_code == 2 and "not an email address" in result.output
    with store.read() as conn:
        assert list_users(conn) == []
