"""The deployment files say what the code does: Dockerfile, compose.yaml and docs/deploy.md.

No Docker here: these check what can be checked without building the image. Every command they
run is a real `paperfeed` command whose options parse, every PAPERFEED_* name is a setting whose
value is accepted, the web service would start and answer to the address it is published at,
and the Dockerfile's Python, torch pin and KaTeX match pyproject.toml and the Makefile.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from sqlalchemy.engine import make_url
from typer.main import get_command

from paperfeed.cli import app
from paperfeed.cli.web import public_dev_mailbox_problem
from paperfeed.settings import Settings
from paperfeed.web.hosts import allowed_host_names, host_is_allowed

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
DEPLOY_MD = (ROOT / "docs" / "deploy.md").read_text()
SETTINGS = {f"PAPERFEED_{name.upper()}" for name in Settings.model_fields}


def parse_command(argv: list[str]) -> Any:
    """Resolve `paperfeed SUB … --options` like the CLI would, without running it: the click
    context, whose `params` hold the parsed options (a wrong one raises a UsageError)."""
    assert argv[0] == "paperfeed" or argv[0].endswith("bin/paperfeed"), argv
    command: Any = get_command(app)
    args = argv[1:]
    while getattr(command, "commands", None) is not None:  # a group: descend
        assert args, f"{argv}: a group needs a command"
        assert args[0] in command.commands, f"{argv}: no command {args[0]!r}"
        command, args = command.commands[args[0]], args[1:]
    return command.make_context(" ".join(argv[:2]), list(args))


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with nothing set in the environment."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def _dockerfile_stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]


def _dockerfile_env() -> dict[str, str]:
    final = _dockerfile_stages()[-1].replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", final, re.MULTILINE):
        env.update(token.split("=", 1) for token in shlex.split(line))  # type: ignore[misc]
    return env


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = COMPOSE["services"]
    return services


def _service_env(name: str) -> dict[str, str]:
    env = _services()[name].get("environment", {})
    return {key: _interpolate(str(value)) for key, value in env.items()}


def test_dockerfile_command_and_settings_are_real() -> None:
    cmd = re.findall(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE)
    assert len(cmd) == 1
    assert parse_command(json.loads(cmd[0])).command.name == "serve"
    env = _dockerfile_env()
    assert {k for k in env if k.startswith("PAPERFEED_")} <= SETTINGS
    settings = Settings(_env_file=None, **{k[10:].lower(): v for k, v in env.items()})  # type: ignore[call-arg]
    assert settings.data_dir == Path("/data") and settings.host == "0.0.0.0"
    assert re.search(rf"^EXPOSE {settings.port}$", DOCKERFILE, re.MULTILINE)
    assert '"/data"' in DOCKERFILE and "USER paperfeed" in DOCKERFILE


def test_dockerfile_matches_pyproject_and_makefile() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = re.match(r"python:(\d+\.\d+)-slim", _dockerfile_stages()[-1])
    assert base is not None
    assert base.group(1) in SpecifierSet(project["requires-python"])
    pins = [d for d in project["dependencies"] if d.startswith("torch")]
    assert pins and all(f"{pin}\n" in DOCKERFILE for pin in pins)  # the CPU build, same pin
    makefile = (ROOT / "Makefile").read_text()
    for name in ("KATEX_VERSION", "KATEX_SHA512"):
        assert f"s/^{name} := //p" in DOCKERFILE
        assert re.search(rf"^{name} := \S+$", makefile, re.MULTILINE), name
    assert "scripts/install-katex.sh" in DOCKERFILE and (ROOT / "scripts/install-katex.sh").exists()
    assert 'pip install ".[postgres]"' in DOCKERFILE
    assert "postgres" in project["optional-dependencies"]


def test_compose_runs_real_commands_in_order() -> None:
    services = _services()
    assert set(services) == {"db", "init", "web", "worker"}
    commands = {name: s["command"] for name, s in services.items() if "command" in s}
    assert {name: parse_command(argv).command.name for name, argv in commands.items()} == {
        "init": "migrate",
        "web": "serve",
        "worker": "worker",
    }
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "init": {"condition": "service_completed_successfully"}
        }
        assert services[name]["build"] == "." and services[name]["volumes"] == ["data:/data"]
    assert services["init"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "healthcheck" in services["db"]
    assert set(COMPOSE["volumes"]) == {"data", "pgdata"}


@pytest.mark.parametrize("service", ["init", "web", "worker"])
def test_compose_settings_are_real_and_accepted(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**_dockerfile_env(), **_service_env(service)}
    assert {k for k in env if k.startswith("PAPERFEED_")} <= SETTINGS
    for key in SETTINGS:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    url = make_url(settings.resolved_database_url)
    db = _service_env("db")
    assert url.get_backend_name() == "postgresql" and url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.database) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )
    assert url.host == "db" and url.port == 5432
    if service == "web":
        # Not refused for the development mailbox, and answers to the published address.
        assert public_dev_mailbox_problem(host=settings.host, settings=settings) is None
        published = _services()["web"]["ports"]
        assert published == [f"127.0.0.1:{settings.port}:{settings.port}"]
        allowed = allowed_host_names(settings, server_is_loopback=False)
        assert host_is_allowed("localhost", allowed) and host_is_allowed("127.0.0.1", allowed)
        assert settings.public_url == f"http://localhost:{settings.port}"


def _unit_commands() -> list[list[str]]:
    """The paperfeed command of every ExecStart= in docs/deploy.md (%i as a port number)."""
    found = []
    for line in re.findall(r"^ExecStart=(.+)$", DEPLOY_MD, re.MULTILINE):
        line = re.sub(r"\$\([^)]*\)", "X", line.replace("%i", "8001"))
        argv = shlex.split(line)
        if argv[0] == "/bin/sh":
            argv = [t for t in shlex.split(argv[2]) if t != "exec"]
        found.append(argv)
    return found


def test_unit_files_in_the_deploy_guide_run_real_commands() -> None:
    names = [parse_command(argv).command.name for argv in _unit_commands()]
    assert sorted(names) == ["backup", "serve", "serve", "worker"]


def test_every_command_the_deploy_guide_names_exists() -> None:
    named = set(re.findall(r"(?:`|bin/)paperfeed ([a-z][a-z-]*)", DEPLOY_MD))
    assert {"serve", "worker", "backup", "migrate-store", "init", "index"} <= named
    commands: Any = get_command(app)
    for name in named:
        assert name in commands.commands, name


def test_the_guide_is_linked() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()
    assert "(deploy.md" in (ROOT / "docs" / "store.md").read_text()
