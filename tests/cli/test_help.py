"""Every command's --help: plain text with its defaults visible and no type noise on flags."""

from __future__ import annotations

import re
import subprocess
import sys

import click
import typer
from typer.main import get_command
from typer.testing import CliRunner

from paperfeed.cli import app

runner = CliRunner()


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*path, name))
    return paths


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, args
    return result.stdout


def test_no_help_shows_bool_noise_or_eaten_defaults() -> None:
    group = get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    paths = _command_paths(group)
    assert len(paths) > 25
    for path in paths:
        text = _help(*path)
        assert "<bool>" not in text, path
        assert not re.search(r"\w \.(\s|$)", text), path  # "[default: …]" eaten by markup
        assert "╭" not in text, path  # plain help, the same in a terminal, a pipe and docs


def test_serve_help_shows_the_defaults() -> None:
    text = " ".join(_help("serve").split())
    assert "Address to bind [default: PAPERFEED_HOST, else 127.0.0.1]" in text
    assert "Port [default: PAPERFEED_PORT, else 8000]" in text
    assert "PAPERFEED_FORWARDED_ALLOW_IPS" in text


def test_flags_read_as_flags_with_their_defaults() -> None:
    text = " ".join(_help("init").split())
    assert "--sample / --no-sample" in text and "[default: sample]" in text
    assert "[default: 10; 1<=x<=1000]" in " ".join(_help("search").split())


def test_starting_the_cli_imports_neither_the_recommender_nor_scipy() -> None:
    # Every command's start (and `paperfeed search`'s 1.5 s cold-start target) paid ~0.5 s for
    # scipy, which only the loop, digests and library commands use: they import it themselves.
    code = (
        "import sys, paperfeed.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy' "
        "or m.startswith('paperfeed.recommend')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
