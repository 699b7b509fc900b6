"""What Hugging Face says of a paper (submitter, AI summary and keywords, repository, project
page) kept by the file import, and the live mirror `HfDailyApiSource` reading a real paperfeed
hub served by uvicorn on loopback (its `/api/daily_papers` is Hugging Face compatible)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from paperfeed.code_links import GITHUB, PaperLink
from paperfeed.db import Database
from paperfeed.db.feed import papers_for_day
from paperfeed.db.hf_papers import hf_paper
from paperfeed.db.links import MEMBER, links_of, set_links
from paperfeed.db.papers import upsert_papers
from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailyApiSource, HfDailySource
from paperfeed.models import PaperRecord
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.ingest.conftest import FakeClock

ENTRY = {
    "paper": {
        "id": "2603.01234",
        "title": "A Paper With Everything",
        "summary": "We release code.",
        "authors": [{"name": "Ada Lovelace"}],
        "publishedAt": "2026-03-18T17:59:00.000Z",
        "upvotes": 42,
        "ai_summary": "The paper shows that  everything\nworks.",
        "ai_keywords": ["pipeline parallelism", "zero bubble", 7],
        "githubRepo": "https://github.com/ada/everything",
        "projectPage": "https://ada.github.io/everything",
        "submittedOnDailyBy": {"name": "ada", "fullname": "Ada L."},
    },
    "publishedAt": "2026-03-19T00:00:00.000Z",
    "title": "A Paper With Everything",
    "numComments": 0,
}


def test_the_file_import_keeps_what_hugging_face_says(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([ENTRY]))
    summary = run_ingest(db, HfDailySource(path))
    assert (summary.imported, summary.featured, summary.rejected) == (1, 1, [])
    with db.read() as conn:
        said = hf_paper(conn, "2603.01234")
        links = links_of(conn, ["2603.01234"])["2603.01234"]
        day = papers_for_day(conn, dt.date(2026, 3, 19))
    assert said is not None
    assert said.submitter == "Ada L."
    assert said.ai_summary == "The paper shows that everything works."
    assert said.ai_keywords == ("pipeline parallelism", "zero bubble")
    assert links.github_repo == "https://github.com/ada/everything"
    assert links.project_page == "https://ada.github.io/everything"
    assert {link.source for link in links.links} == {"hf"}
    assert [(i.paper.paper_id, i.upvotes) for i in day] == [("2603.01234", 42)]


def test_a_members_links_win_over_hugging_faces(db: Database, tmp_path: Path) -> None:
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord("2603.01234", "A Paper With Everything", "x")])
        set_links(
            conn, "2603.01234", [PaperLink(GITHUB, "https://github.com/m/fixed")], source=MEMBER
        )
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([ENTRY]))
    run_ingest(db, HfDailySource(path))
    with db.read() as conn:
        links = links_of(conn, ["2603.01234"])["2603.01234"]
        said = hf_paper(conn, "2603.01234")
    assert links.github_repo == "https://github.com/m/fixed" and links.project_page is None
    assert said is not None and said.ai_summary  # the rest is kept all the same


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[tuple[str, Hub]]:
    """A paperfeed hub with two featured days, served by a real uvicorn on loopback."""
    hub = Hub.from_settings(Settings(data_dir=tmp_path / "upstream", database_url=None))
    path = tmp_path / "daily.jsonl"
    second = json.loads(json.dumps(ENTRY))
    second["paper"].update(
        id="2603.05678", title="Second", upvotes=3, githubRepo=None, projectPage=None
    )
    second["paper"]["summary"] = "Code: https://gitlab.com/grp/second"
    second["publishedAt"] = "2026-03-20T00:00:00.000Z"
    path.write_text("\n".join(json.dumps(e) for e in (ENTRY, second)))
    run_ingest(hub.db, HfDailySource(path))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(hub), log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", hub
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    hub.close()


def test_the_live_mirror_reads_a_paperfeed_hub(
    db: Database, tmp_path: Path, upstream: tuple[str, Hub]
) -> None:
    url, _hub = upstream
    settings = Settings(
        data_dir=tmp_path / "mirror", hf_api_url=url + "/", hf_request_interval_s=0.5
    )
    clock = FakeClock()
    source = HfDailyApiSource(
        settings=settings, since=dt.date(2026, 3, 18), until=dt.date(2026, 3, 20), clock=clock
    )
    summary = run_ingest(db, source)
    assert (summary.imported, summary.featured, summary.rejected) == (2, 2, [])
    assert source.progress() == (3.0, 3.0)  # three days asked, one page each
    assert clock.sleeps and all(s <= 0.5 for s in clock.sleeps)  # spaced on the client's clock
    with db.read() as conn:
        first = papers_for_day(conn, dt.date(2026, 3, 19))
        second = papers_for_day(conn, dt.date(2026, 3, 20))
        links = links_of(conn, ["2603.01234", "2603.05678"])
    assert [(i.paper.paper_id, i.upvotes) for i in first] == [("2603.01234", 42)]
    assert [(i.paper.paper_id, i.upvotes) for i in second] == [("2603.05678", 3)]
    assert first[0].paper.title == "A Paper With Everything"
    # The upstream hub's githubRepo / projectPage come through, labelled as Hugging Face's.
    assert links["2603.01234"].github_repo == "https://github.com/ada/everything"
    assert links["2603.01234"].project_page == "https://ada.github.io/everything"
    assert links["2603.05678"].github_repo == "https://gitlab.com/grp/second"
    assert {link.source for link in links["2603.01234"].links} == {"hf"}
    again = run_ingest(
        db,
        HfDailyApiSource(
            settings=settings, since=dt.date(2026, 3, 18), until=dt.date(2026, 3, 20), clock=clock
        ),
    )
    assert (again.imported, again.updated, again.featured) == (0, 0, 0)
