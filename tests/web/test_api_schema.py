"""schemathesis over the OpenAPI schema: no generated request makes the API answer >= 500,
and the read-only endpoints answer in the shapes the schema promises."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from paperfeed.hub import Hub
from paperfeed.ingest.base import run_ingest
from paperfeed.ingest.hf_daily import HfDailySource
from paperfeed.web.app import create_app

HISTORY = Path(__file__).resolve().parents[2] / "src/paperfeed/data/hf_daily_papers.jsonl.gz"
READ_ONLY = ("/api/daily_papers", "/api/papers/search", "/api/trending", "/api/papers/{paper_id}")


@pytest.mark.slow
def test_no_request_makes_the_api_fail(sample_hub: Hub) -> None:
    run_ingest(sample_hub.db, HfDailySource(HISTORY))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(sample_hub))
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        checks = [not_a_server_error]
        if operation.path in READ_ONLY or operation.path.endswith("/similar"):
            checks += [status_code_conformance, response_schema_conformance]

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=checks)  # noqa: B023 (run() is called right here)

        run()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert {f"GET {path}" for path in READ_ONLY} <= set(tested), tested
