"""The daily loop's hf_mirror job (loop/jobs.py: mirror_hf_daily): off by default; when on, once
a UTC day, the days before it read from a Hugging Face compatible /api/daily_papers (here a real
paperfeed hub served by uvicorn on 127.0.0.1, tests/ingest/test_hf_mirror.py), recorded in
job_runs, retried after a failure, its papers featured on their days and embedded by the pass."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperfeed.db.feed import papers_for_day
from paperfeed.db.jobs import get_run
from paperfeed.db.vectors import count_vectors
from paperfeed.hub import Hub
from paperfeed.loop.worker import run_due
from paperfeed.search.index import contract_of
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer
from tests.ingest.test_hf_mirror import upstream  # noqa: F401  (the served hub, a fixture)

# Saturday 2026-03-21, 06:00 UTC: the mirror reads 18, 19 and 20 March (three days before).
NOW = dt.datetime(2026, 3, 21, 6, 0, tzinfo=dt.UTC)


def mirror_hub(make_hub: Any, url: str, **overrides: Any) -> Hub:
    hub: Hub = make_hub(
        arxiv_categories=[],  # no listing to fetch: the mirror alone
        hf_mirror=True,
        hf_api_url=url,
        hf_request_interval_s=0.0,
        http_retries=0,
        **overrides,
    )
    return hub


def hf_outcomes(hub: Hub, now: dt.datetime) -> list[Any]:
    done = run_due(hub, now=now, hf_clock=FakeClock())
    return [o for o in done.outcomes if o.job == "hf_mirror"]


def test_the_mirror_is_off_by_default(make_hub: Any) -> None:
    hub: Hub = make_hub(arxiv_categories=[])
    assert hub.settings.hf_mirror is False
    assert hf_outcomes(hub, NOW) == []
    with hub.db.read() as conn:
        assert get_run(conn, job="hf_mirror", period="2026-03-21") is None


def test_the_mirror_runs_once_a_day_and_its_papers_are_featured_and_embedded(
    make_hub: Any,
    upstream: tuple[str, Hub],  # noqa: F811
) -> None:
    url, _served = upstream
    hub = mirror_hub(make_hub, url)
    (outcome,) = hf_outcomes(hub, NOW)
    assert (outcome.state, outcome.attempt) == ("done", 1)
    assert outcome.counts == {
        "since": "2026-03-18",
        "until": "2026-03-20",
        "imported": 2,
        "updated": 0,
        "unchanged": 0,
        "featured": 2,
        "rejected": 0,
    }
    with hub.db.read() as conn:
        first = papers_for_day(conn, dt.date(2026, 3, 19))
        second = papers_for_day(conn, dt.date(2026, 3, 20))
        assert hub.embedder is not None
        vectors = count_vectors(conn, contract=contract_of(hub.embedder))
    assert [(i.paper.paper_id, i.upvotes) for i in first] == [("2603.01234", 42)]
    assert [(i.paper.paper_id, i.upvotes) for i in second] == [("2603.05678", 3)]
    assert vectors.missing == 0  # the pass embedded what the mirror brought

    # The same day again: done, so nothing is asked; the next day reads again, and changes
    # nothing (an import only raises upvotes).
    assert hf_outcomes(hub, NOW + dt.timedelta(hours=5)) == []
    (next_day,) = hf_outcomes(hub, NOW + dt.timedelta(days=1))
    assert next_day.state == "done" and next_day.period == "2026-03-22"
    assert next_day.counts is not None
    assert (next_day.counts["since"], next_day.counts["imported"]) == ("2026-03-19", 0)
    assert next_day.counts["unchanged"] == 2


def test_a_failed_mirror_is_retried_later(make_hub: Any) -> None:
    server = ScriptedServer(FakeClock())
    answers: list[Reply] = [Reply(b"busy", status=503, headers={"Retry-After": "0"})]
    server.route(lambda _received: answers.pop(0) if answers else Reply(b"[]"))
    try:
        hub = mirror_hub(make_hub, server.url, fetch_retry_minutes=30)
        (failed,) = hf_outcomes(hub, NOW)
        assert failed.state == "failed" and failed.error is not None
        assert hf_outcomes(hub, NOW + dt.timedelta(minutes=10)) == []  # its retry is not due
        (retried,) = hf_outcomes(hub, NOW + dt.timedelta(minutes=31))
        assert (retried.state, retried.attempt) == ("done", 2)
        assert retried.counts is not None and retried.counts["imported"] == 0
        asked = [r.path for r in server.requests]
        assert len(asked) == 4 and all(p == "/api/daily_papers" for p in asked)
    finally:
        server.close()
