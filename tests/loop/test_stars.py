"""The daily loop's stars job against a fake GitHub on 127.0.0.1: counts, conditional
requests, the token, the rate limit, and the host allowlist (loop/jobs.py: refresh_stars,
ingest/github_stars.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from paperfeed.db.links import links_of
from paperfeed.db.papers import upsert_papers
from paperfeed.hub import Hub
from paperfeed.ingest import FetchError
from paperfeed.ingest.github_stars import HostRefused, check_base
from paperfeed.loop.jobs import refresh_stars
from paperfeed.loop.worker import run_due
from paperfeed.models import PaperRecord
from tests.ingest.conftest import FakeClock, Received, Reply, ScriptedServer
from tests.loop.conftest import ANNOUNCED
from tests.loop.fake_github import FakeGitHub

LOOPBACK = frozenset({"127.0.0.1"})
NOW = dt.datetime(2026, 3, 21, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def github(http_clock: FakeClock) -> Iterator[tuple[ScriptedServer, FakeGitHub]]:
    server = ScriptedServer(http_clock)
    fake = FakeGitHub(stars={"ada/engine": 1234, "bob/tool": 7, "cat/lib": 0})
    server.route(fake)
    yield server, fake
    server.close()


@pytest.fixture
def stars_hub(make_hub: Any, github: tuple[ScriptedServer, FakeGitHub]) -> Hub:
    server, _ = github
    hub: Hub = make_hub(github_api_url=server.url, github_stars_per_run=10)
    papers = [
        PaperRecord("2603.00001", "One", "Code: https://github.com/ada/engine."),
        PaperRecord(
            "2603.00002", "Two", "https://github.com/bob/tool and https://github.com/ada/engine"
        ),
        PaperRecord("2603.00003", "Three", "Gone: https://github.com/dan/deleted"),
        PaperRecord("2603.00004", "Four", "https://github.com/cat/lib https://gitlab.com/x/y"),
    ]
    with hub.db.write() as conn:
        upsert_papers(conn, papers)
    return hub


def _stars(hub: Hub) -> dict[str, int | None]:
    with hub.db.read() as conn:
        found = links_of(conn, ["2603.00001", "2603.00002", "2603.00003", "2603.00004"])
    return {
        link.url.removeprefix("https://github.com/"): link.stars
        for links in found.values()
        for link in links.links
        if link.kind == "github"
    }


def test_stars_are_counted_once_per_repository_and_stored_on_every_paper(
    stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    server, _ = github
    counts = refresh_stars(stars_hub, now=NOW, http_clock=http_clock, allowed_hosts=LOOPBACK)
    assert counts == {"due": 4, "counted": 3, "unchanged": 0, "gone": 1}
    assert _stars(stars_hub) == {
        "ada/engine": 1234,
        "bob/tool": 7,
        "dan/deleted": None,
        "cat/lib": 0,
    }
    with stars_hub.db.read() as conn:
        two = links_of(conn, ["2603.00002"])["2603.00002"]
    assert two.github_repo == "https://github.com/bob/tool" and two.github_stars == 7
    paths = sorted(r.path for r in server.requests)
    assert paths == ["/repos/ada/engine", "/repos/bob/tool", "/repos/cat/lib", "/repos/dan/deleted"]
    assert len({r.client_port for r in server.requests}) == 1  # one reused connection
    assert all(r.headers["accept"] == "application/vnd.github+json" for r in server.requests)
    assert all("authorization" not in r.headers for r in server.requests)
    # Polite: requests spaced by github_request_interval_s on the client's clock.
    gaps = [b.at - a.at for a, b in zip(server.requests, server.requests[1:], strict=False)]
    assert all(gap >= 1.0 for gap in gaps)


def test_a_second_run_asks_only_stale_repositories_conditionally(
    stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    server, fake = github
    refresh_stars(stars_hub, now=NOW, http_clock=http_clock, allowed_hosts=LOOPBACK)
    asked = len(server.requests)
    next_day = refresh_stars(
        stars_hub, now=NOW + dt.timedelta(days=1), http_clock=http_clock, allowed_hosts=LOOPBACK
    )
    assert next_day["due"] == 0 and len(server.requests) == asked  # counted a day ago: fresh
    fake.stars["bob/tool"] = 8
    week_later = refresh_stars(
        stars_hub, now=NOW + dt.timedelta(days=8), http_clock=http_clock, allowed_hosts=LOOPBACK
    )
    assert week_later == {"due": 4, "counted": 1, "unchanged": 2, "gone": 1}
    etags = {r.path: r.headers.get("if-none-match") for r in server.requests[asked:]}
    assert etags["/repos/ada/engine"] == 'W/"ada-engine-1234"'
    assert etags["/repos/dan/deleted"] is None  # a 404 carries no ETag
    assert _stars(stars_hub)["bob/tool"] == 8 and _stars(stars_hub)["ada/engine"] == 1234


def test_the_token_is_sent_and_a_spent_rate_limit_stops_the_run(
    make_hub: Any, stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    server, fake = github
    fake.remaining = 2
    hub = make_hub(
        github_api_url=server.url, github_stars_per_run=10, github_token="ghp_test_token_123"
    )
    counts = refresh_stars(hub, now=NOW, http_clock=http_clock, allowed_hosts=LOOPBACK)
    assert counts["counted"] + counts["gone"] == 2
    assert counts["rate_limited_until"] == "2030-03-17T17:46:40"
    assert len(server.requests) == 2  # the answer said 0 left: nothing more was asked
    assert all(r.headers["authorization"] == "Bearer ghp_test_token_123" for r in server.requests)
    fake.remaining = 0
    again = refresh_stars(
        hub, now=NOW + dt.timedelta(hours=1), http_clock=http_clock, allowed_hosts=LOOPBACK
    )
    assert again["counted"] == 0 and "rate_limited_until" in again  # a 403: stop at once
    assert len(server.requests) == 3


def test_only_api_github_com_is_ever_asked(
    stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    server, _ = github
    assert check_base("https://api.github.com/") == "https://api.github.com"
    for url in ("https://github.com", "http://127.0.0.1:9", "https://api.github.com.evil.test"):
        with pytest.raises(HostRefused):
            check_base(url)
    # The loop's job with its real allowlist refuses the loopback fake and asks nothing.
    done = run_due(stars_hub, now=ANNOUNCED + dt.timedelta(days=3), http_clock=http_clock)
    stars = [o for o in done.outcomes if o.job == "stars"]
    assert len(stars) == 1 and stars[0].state == "failed"
    assert "HostRefused" in (stars[0].error or "")
    assert server.requests == []


def test_the_daily_loop_runs_the_stars_job_once_a_day(
    stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    server, _ = github
    now = ANNOUNCED + dt.timedelta(days=3)
    first = run_due(
        stars_hub, now=now, http_clock=http_clock, stars_clock=http_clock, stars_hosts=LOOPBACK
    )
    stars = [(o.job, o.period, o.state, o.counts) for o in first.outcomes if o.job == "stars"]
    assert stars == [
        ("stars", "2026-03-20", "done", {"due": 4, "counted": 3, "unchanged": 0, "gone": 1})
    ]
    again = run_due(
        stars_hub,
        now=now + dt.timedelta(hours=2),
        http_clock=http_clock,
        stars_clock=http_clock,
        stars_hosts=LOOPBACK,
    )
    assert [o for o in again.outcomes if o.job == "stars"] == []
    assert len(server.requests) == 4


def test_a_github_that_does_not_answer_ends_the_run_after_one_repository(
    make_hub: Any, stars_hub: Hub, github: tuple[ScriptedServer, FakeGitHub], http_clock: FakeClock
) -> None:
    # The first repository is counted, then GitHub answers 503 to everything: the run stops
    # after that repository's retries, instead of spending them on every other one.
    server, fake = github
    answered: list[str] = []

    def flaky(received: Received) -> Reply:
        if not answered:
            answered.append(received.path)
            return fake(received)
        return Reply(b"unavailable", status=503)

    server.route(flaky)
    hub = make_hub(github_api_url=server.url, github_stars_per_run=10, http_retries=2)
    with pytest.raises(FetchError, match="HTTP 503"):
        refresh_stars(hub, now=NOW, http_clock=http_clock, allowed_hosts=LOOPBACK)
    assert len(server.requests) == 1 + 3  # one answer, then one repository's three tries
    stars = _stars(hub)
    assert sum(v is not None for v in stars.values()) == 1  # the count it got is kept
