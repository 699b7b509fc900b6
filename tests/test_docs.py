"""The docs keep up with the code: every setting and every command is documented."""

from pathlib import Path

import typer
from typer.main import get_command

from paperfeed.cli import app
from paperfeed.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    for name in Settings.model_fields:
        assert f"`PAPERFEED_{name.upper()}`" in text, name


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    group = get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, command in group.commands.items():
        assert f"## `paperfeed {name}" in text, name
        for sub in getattr(command, "commands", {}):
            assert f"## `paperfeed {name} {sub}`" in text, f"{name} {sub}"
