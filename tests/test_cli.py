"""The command line, through Typer's CliRunner, on a real SQLite store in tmp_path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    return tmp_path / "data"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_init_creates_the_store_and_loads_the_sample_once(data_dir: Path) -> None:
    code, out = run("init")
    assert code == 0
    assert "2,027 imported" in out
    assert (data_dir / "paperfeed.db").is_file()
    code, out = run("init")
    assert code == 0 and "nothing to load" in out


def test_stats_json_prints_only_json(data_dir: Path) -> None:
    run("ingest", "sample", "--feature")
    code, out = run("stats", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["papers"] == 2027 and stats["featured_days"] == 5


def test_database_url_picks_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", url)
    run("ingest", "sample")
    assert (tmp_path / "elsewhere.db").is_file()
    assert json.loads(run("stats", "--json")[1])["papers"] == 2027


def test_a_snapshot_with_bad_lines_exits_1_with_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "2603.00001", "title": "T", "abstract": "A"}\n{oops\n')
    errors = tmp_path / "errors.tsv"
    result = runner.invoke(app, ["ingest", "snapshot", str(path), "--errors", str(errors)])
    assert result.exit_code == 1
    assert "1 imported, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert f"{path}:2" in result.stderr
    assert errors.read_text().startswith(f"{path}:2\tinvalid JSON")


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, _ = run("ingest", "snapshot", str(tmp_path / "nope.jsonl"))
    assert code == 2


def test_hf_daily_imports_the_fixture() -> None:
    fixture = Path(__file__).resolve().parents[1] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"
    code, out = run("ingest", "hf-daily", str(fixture))
    assert code == 0 and "753 imported" in out


def test_hf_daily_takes_a_file_or_since_not_both_nor_neither(tmp_path: Path) -> None:
    assert run("ingest", "hf-daily")[0] == 2
    assert run("ingest", "hf-daily", str(tmp_path / "x.json"), "--since", "2026-03-01")[0] == 2
    # Nothing listens on port 9 of loopback: the live read fails as a network source does.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAPERFEED_HF_API_URL", "http://127.0.0.1:9")
        patch.setenv("PAPERFEED_HTTP_RETRIES", "0")
        patch.setenv("PAPERFEED_HF_REQUEST_INTERVAL_S", "0")
        code, _ = run("ingest", "hf-daily", "--since", "2026-03-01", "--until", "2026-03-01")
    assert code == 3


def test_papers_show_reads_versioned_ids_and_urls() -> None:
    run("ingest", "sample", "--feature")
    code, out = run("papers", "show", "https://arxiv.org/abs/2603.12270v1")
    assert code == 0
    assert "Task-Specific Knowledge Distillation via Intermediate Probes" in out
    code, out = run("papers", "show", "2603.12270", "--json")
    paper = json.loads(out)
    assert paper["authors"] == ["Ryan Brown", "Chris Russell"]
    assert paper["featured_on"] == ["2026-03-16"]
    assert run("papers", "show", "0000.00000")[0] == 4  # not found, not "records rejected"


def test_backup_copies_a_consistent_database(tmp_path: Path) -> None:
    run("ingest", "sample")
    target = tmp_path / "backup" / "copy.db"
    code, out = run("backup", str(target))
    assert code == 0 and "backed up" in out
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM papers").fetchone() == (2027,)
    assert run("backup", str(target))[0] == 2  # never overwrites


def test_migrate_reports_the_schema() -> None:
    code, out = run("migrate")
    assert code == 0 and "m019" in out


def test_every_command_has_help() -> None:
    for args in (
        [],
        ["init"],
        ["migrate"],
        ["stats"],
        ["backup"],
        ["serve"],
        ["ingest"],
        ["ingest", "sample"],
        ["ingest", "snapshot"],
        ["ingest", "arxiv"],
        ["ingest", "oai"],
        ["ingest", "hf-daily"],
        ["papers"],
        ["papers", "show"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage" in result.stdout


def test_an_unreachable_arxiv_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port on loopback that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("PAPERFEED_HTTP_RETRIES", "0")
    monkeypatch.setenv("PAPERFEED_ARXIV_REQUEST_INTERVAL_S", "0")
    result = runner.invoke(app, ["ingest", "arxiv", "--category", "cs.CL"])
    assert result.exit_code == 3
    assert "run again to continue" in result.stderr
