"""`paperfeed library import|show` on the demo sample in tmp_path: our own BibTeX and CSL-JSON
exports come back matched, a malformed file is refused whole, unknown readers are not found."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.cli._console import EXIT_NOT_FOUND, EXIT_USAGE
from paperfeed.db.users import get_or_create_user
from paperfeed.hub import Hub
from paperfeed.settings import Settings

runner = CliRunner()
READER = "reader@example.org"


@pytest.fixture(autouse=True)
def data_dir(demo_store: Path) -> Path:
    hub = Hub.from_settings(Settings())
    with hub.db.write() as conn:
        get_or_create_user(conn, READER)
    hub.close()
    return demo_store


@pytest.mark.parametrize("fmt", ["bibtex", "csljson"])
def test_an_export_comes_back_as_a_matched_library(tmp_path: Path, fmt: str) -> None:
    exported = tmp_path / "mine.bib"
    result = runner.invoke(app, ["export", "--day", "2024-03-01", "-f", fmt, "-o", str(exported)])
    assert result.exit_code == 0, result.stderr
    with_unknown = exported.read_bytes()
    if fmt == "bibtex":
        with_unknown += b"\n@article{elsewhere, title={Not here}, abstract={Some words.}}\n"
    exported.write_bytes(with_unknown)
    result = runner.invoke(app, ["library", "import", str(exported), "--reader", READER])
    assert result.exit_code == 0, result.stderr
    if fmt == "bibtex":
        assert "1 skipped" in result.stdout
        assert "this hub embeds nothing" in result.stdout  # semantic search is off
    else:
        assert "0 skipped" in result.stdout
    assert "matched to papers here" in result.stdout
    shown = runner.invoke(app, ["library", "show", "--reader", READER])
    assert shown.exit_code == 0, shown.stderr
    assert "(by arxiv)" in shown.stdout and "mine.bib" in shown.stdout


def test_a_malformed_file_exits_2_and_keeps_the_library(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('[{"id": "a", "title": "x", "DOI": "10.48550/arXiv.2603.12270"}]')
    assert runner.invoke(app, ["library", "import", str(good), "--reader", READER]).exit_code == 0
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{a, title={ok}}\n\n@article{b, title={broken\n@misc{c, title={x}}\n")
    result = runner.invoke(app, ["library", "import", str(bad), "--reader", READER])
    assert result.exit_code == EXIT_USAGE
    assert "line 3: cannot read the entry starting '@article{b, title={broken'" in result.stderr
    assert "Nothing was imported." in result.stderr
    shown = runner.invoke(app, ["library", "show", "--reader", READER])
    assert "good.json" in shown.stdout and "1 matched" in shown.stdout


def test_unknown_readers_and_missing_files() -> None:
    result = runner.invoke(app, ["library", "show", "--reader", "nobody@example.org"])
    assert result.exit_code == EXIT_NOT_FOUND
    result = runner.invoke(app, ["library", "import", "/nonexistent.bib", "--reader", READER])
    assert result.exit_code == EXIT_USAGE and "Cannot read" in result.stderr
    result = runner.invoke(app, ["library", "show", "--reader", READER])
    assert result.exit_code == 0 and "has imported no library" in result.stderr
