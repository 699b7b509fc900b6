"""`paperfeed export` on the demo sample in tmp_path: stdout or a file, BibTeX or CSL-JSON."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.cli._console import EXIT_NOT_FOUND, EXIT_USAGE
from paperfeed.db.collections import create_collection, set_in_collection
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.settings import Settings

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("demo_store")


def _entries(text: str) -> list[bibtexparser.model.Entry]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return list(library.entries)


def test_a_paper_to_stdout() -> None:
    result = runner.invoke(app, ["export", "--paper", "2603.12270"])
    assert result.exit_code == 0, result.stderr
    [entry] = _entries(result.stdout)
    assert entry.fields_dict["eprint"].value == "2603.12270"
    assert "1 paper exported" in result.stderr


def test_a_day_and_a_search_to_files(tmp_path: Path) -> None:
    target = tmp_path / "day.bib"
    result = runner.invoke(app, ["export", "--day", "2024-03-01", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    day = _entries(target.read_text(encoding="utf-8"))
    assert len(day) >= 3
    assert f"{len(day)} papers written to" in result.stderr
    found = tmp_path / "found.json"
    result = runner.invoke(
        app, ["export", "-q", "language models", "--limit", "7", "-f", "csljson", "-o", str(found)]
    )
    assert result.exit_code == 0, result.stderr
    items = json.loads(found.read_text(encoding="utf-8"))
    assert len(items) == 7 and all(item["publisher"] == "arXiv" for item in items)


def test_a_private_collection_is_exported_by_whoever_owns_the_store(data_dir: Path) -> None:
    hub = Hub.from_settings(Settings(data_dir=data_dir))
    with hub.db.write() as conn:
        user = get_or_create_user(conn, "me@example.org")
        collection_id = create_collection(conn, user.user_id, "Private reading")
        set_in_collection(conn, collection_id, user.user_id, "2603.12270", present=True)
    hub.close()
    result = runner.invoke(app, ["export", "--collection", str(collection_id)])
    assert result.exit_code == 0, result.stderr
    assert [e.fields_dict["eprint"].value for e in _entries(result.stdout)] == ["2603.12270"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["export"], EXIT_USAGE),
        (["export", "--paper", "2603.12270", "--day", "2024-03-01"], EXIT_USAGE),
        (["export", "--day", "20260320"], EXIT_USAGE),
        (["export", "--paper", "2401.99999"], EXIT_NOT_FOUND),
        (["export", "--collection", "999"], EXIT_NOT_FOUND),
    ],
)
def test_export_exit_codes(args: list[str], code: int) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.stderr
    assert result.stdout == "" and "error" in result.stderr
