"""The demo of docs/daily-loop.md ("Try the loop on the demo"), its commands as processes:
`paperfeed dev fake-arxiv` serves a sample day, `paperfeed worker --once` fetches it, embeds it,
features it (top:5) and mails the digest to the development mailbox; `paperfeed status`,
`/healthz` and `/new` show it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.community.accounts import Role
from paperfeed.db.mailbox import list_messages
from paperfeed.db.users import get_or_create_user, set_role
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.web.community_helpers import sign_in

pytestmark = pytest.mark.slow  # two processes of the command line

ROOT = Path(__file__).resolve().parents[2]
PAPERFEED = [sys.executable, "-m", "paperfeed"]
runner = CliRunner()


def demo_env(data_dir: Path) -> dict[str, str]:
    """The demo's settings (docs/daily-loop.md), without the listing URL (its port comes later)."""
    return {
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_ARXIV_CATEGORIES": "cs.CL,cs.LG",
        "PAPERFEED_ARXIV_REQUEST_INTERVAL_S": "0",
        "PAPERFEED_AUTO_FEATURE": "top:5",
        "PAPERFEED_ANNOUNCE_CRON": "0 0 * * *",
        "PAPERFEED_ANNOUNCE_TIMEZONE": "UTC",
        "PAPERFEED_DIGEST_TIME": "00:00",
        "PAPERFEED_FETCH_GIVE_UP_HOURS": "24",
        "PAPERFEED_GITHUB_STARS_PER_RUN": "0",
        "PAPERFEED_SEMANTIC_SEARCH": "false",  # the model is not this test's subject
    }


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The demo's environment, here (for CliRunner and the hub) and for the processes."""
    values = demo_env(tmp_path / "data")
    for name in ("DATABASE_URL", "SMTP_HOST", "ARXIV_LISTING_URL"):
        monkeypatch.delenv(f"PAPERFEED_{name}", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    fake_log = tmp_path / "fake-arxiv.log"
    with fake_log.open("wb") as log:
        fake = subprocess.Popen(
            [*PAPERFEED, "dev", "fake-arxiv", "--port", "0"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)/atom/", fake_log.read_text())):
            assert fake.poll() is None, fake_log.read_text()
            assert time.monotonic() < deadline, "the fake arXiv did not start"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{found.group(1)}/atom/{{category}}"
        monkeypatch.setenv("PAPERFEED_ARXIV_LISTING_URL", url)
        yield {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    assert "GET /atom/cs.CL" in fake_log.read_text()  # the worker asked this server


def test_the_documented_demo_fetches_features_and_mails_a_day(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["init", "--no-sample"]).exit_code == 0
    added = runner.invoke(app, ["subscribers", "add", "reader@example.org", "--confirmed"])
    assert added.exit_code == 0, added.output

    worker = subprocess.run(
        [*PAPERFEED, "worker", "--once"],
        cwd=ROOT,
        env={**env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    lines = {line.split(" ", 1)[0]: line for line in worker.stdout.splitlines()}
    assert all(f"{job}" in lines and "done" in lines[job] for job in ("fetch", "embed", "feature"))
    assert '"featured": 5' in lines["feature"] and '"sent": 1' in lines["digest"]

    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    body = json.loads(status.stdout)
    assert body["healthy"] is True and body["lag_days"] == 0
    day = body["latest_announcement"]

    hub = Hub.from_settings(Settings())
    try:
        with hub.db.read() as conn:
            (digest,) = list_messages(conn, to="reader@example.org")
        assert digest.subject.startswith("Daily papers") and "5 papers" in digest.subject
        client = TestClient(create_app(hub))
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["latest_announcement"] == day
        with hub.db.write() as conn:
            set_role(conn, get_or_create_user(conn, "cur@example.org").user_id, Role.CURATOR)
        sign_in(client, hub, "cur@example.org")
        page = client.get("/new").text
        assert "New submissions (" in page and "Cross-lists (" in page
        assert page.count("Picked by the top:5 policy") == 5
    finally:
        hub.close()


CORPUS = ROOT.parent / "shared" / "data" / "arxiv_daily" / "arxiv_daily.jsonl.gz"


def test_fake_arxiv_refuses_a_missing_file_and_a_day_without_papers(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["dev", "fake-arxiv", "--from", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "is not a file" in missing.output
    empty = runner.invoke(app, ["dev", "fake-arxiv", "--day", "2025-01-01", "--port", "0"])
    assert empty.exit_code == 2 and "no paper was first seen on 2025-01-01" in empty.output


@pytest.mark.skipif(not CORPUS.exists(), reason=f"no corpus at {CORPUS}")
def test_fake_arxiv_serves_a_corpus_day_cut_to_per_day(tmp_path: Path) -> None:
    """`--from` the corpus, `--per-day 5`: each listing holds at most those five papers (new or
    cross-listed) and three replacements of the day before, dated as given with --as-is."""
    import httpx

    log_path = tmp_path / "fake.log"
    command = ["dev", "fake-arxiv", "--port", "0", "--from", str(CORPUS)]
    command += ["--day", "2025-03-25", "--per-day", "5", "--as-is"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PAPERFEED_ARXIV_CATEGORIES": "cs.CL"}
    with log_path.open("wb") as log:
        fake = subprocess.Popen(
            [*PAPERFEED, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)/atom/", log_path.read_text())):
            assert fake.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the fake arXiv did not start"
            time.sleep(0.1)
        feed = httpx.get(f"http://127.0.0.1:{found.group(1)}/atom/cs.CL").text
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    kinds = re.findall(r"<arxiv:announce_type>(\w+)</arxiv:announce_type>", feed)
    assert 1 <= kinds.count("new") + kinds.count("cross") <= 5
    assert kinds.count("replace") == 3
    assert "<updated>2025-03-25T04:00:00Z</updated>" in feed
