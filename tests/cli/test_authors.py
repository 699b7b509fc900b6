"""`paperfeed authors index|show` on the demo sample in tmp_path: the index catches up once, then
has nothing to do; an author is shown with their papers; an unknown one is not found."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from paperfeed.author_names import parse_name
from paperfeed.cli import app
from paperfeed.cli._console import EXIT_NOT_FOUND
from paperfeed.db.schema import papers
from paperfeed.hub import Hub
from paperfeed.settings import Settings

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("demo_store")


def test_the_index_catches_up_once_and_an_author_is_shown() -> None:
    hub = Hub.from_settings(Settings())
    with hub.db.read() as conn:
        total = len(conn.execute(select(papers.c.paper_id)).all())
        paper_id, authors = conn.execute(select(papers.c.paper_id, papers.c.authors)).first()
    hub.close()
    first = runner.invoke(app, ["authors", "index"])
    assert first.exit_code == 0 and f"{total:,} papers read" in first.stdout
    again = runner.invoke(app, ["authors", "index"])
    assert again.exit_code == 0 and again.stdout.startswith("0 papers read")
    name = parse_name(authors[0])
    assert name is not None
    shown = runner.invoke(app, ["authors", "show", name.key])
    assert shown.exit_code == 0, shown.stderr
    assert paper_id in shown.stdout and "papers" in shown.stdout.splitlines()[0]


def test_an_unknown_author_is_not_found() -> None:
    result = runner.invoke(app, ["authors", "show", "nobody-here"])
    assert result.exit_code == EXIT_NOT_FOUND and "No paper here" in result.stderr


def test_paperfeed_index_also_brings_the_author_names_up_to_date() -> None:
    assert runner.invoke(app, ["index"]).exit_code == 0
    after = runner.invoke(app, ["authors", "index"])
    assert after.exit_code == 0 and after.stdout.startswith("0 papers read")
