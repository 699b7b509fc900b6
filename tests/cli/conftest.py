"""The CLI tests' store: a data folder of their own in tmp_path, keyword search only."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PAPERFEED_DATA_DIR in tmp_path, semantic search off, no database URL or SMTP server."""
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERFEED_SEMANTIC_SEARCH", "false")
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    monkeypatch.delenv("PAPERFEED_SMTP_HOST", raising=False)
    return tmp_path / "data"


@pytest.fixture
def demo_store(data_dir: Path) -> Path:
    """That data folder after `paperfeed init` (the bundled sample)."""
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    return data_dir
