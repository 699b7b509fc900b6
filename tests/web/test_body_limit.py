"""Every request body is capped before anything parses it: 413 on a declared or a streamed size
over PAPERFEED_MAX_BODY_BYTES, JSON and forms alike; real forms still fit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.db.mailbox import list_messages
from paperfeed.hub import Hub
from paperfeed.settings import Settings
from paperfeed.web.app import create_app
from tests.web.community_helpers import csrf

LIMIT = 64 * 1024


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub.from_settings(Settings(data_dir=tmp_path, max_body_bytes=LIMIT))
    yield hub
    hub.close()


@pytest.fixture
def client(hub: Hub) -> TestClient:
    return TestClient(create_app(hub))


def _big_json(size: int) -> bytes:
    return json.dumps({"name": "x" * size, "description": ""}).encode()


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_declared_json_body_over_the_limit_gets_413(client: TestClient) -> None:
    response = client.post(
        "/api/collections",
        content=_big_json(LIMIT * 4),
        headers={"Content-Type": "application/json", "Authorization": "Bearer nope"},
    )
    assert response.status_code == 413
    assert "Content-Security-Policy" in response.headers


def test_a_streamed_json_body_is_cut_off_at_the_limit(client: TestClient) -> None:
    response = client.post(
        "/api/collections",
        content=_chunks(_big_json(LIMIT * 4)),  # no Content-Length: chunked
        headers={"Content-Type": "application/json", "Authorization": "Bearer nope"},
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Content Too Large", "detail": "Content Too Large"}


def test_a_form_over_the_limit_gets_413_and_changes_nothing(client: TestClient, hub: Hub) -> None:
    token = csrf(client)
    response = client.post(
        "/sign-in",
        content=f"csrf_token={token}&email=a@example.org&pad={'x' * LIMIT * 2}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "Content-Security-Policy" in response.headers
    with hub.db.read() as conn:
        assert list_messages(conn) == []


def test_a_streamed_form_over_the_limit_gets_413(client: TestClient) -> None:
    token = csrf(client)
    body = f"csrf_token={token}&email=a@example.org&pad={'x' * LIMIT * 2}".encode()
    response = client.post(
        "/sign-in",
        content=_chunks(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_forms_under_the_limit_still_work(client: TestClient, hub: Hub) -> None:
    response = client.post(
        "/sign-in",
        data={"email": "a@example.org", "csrf_token": csrf(client), "next": "/"},
    )
    assert response.status_code == 200
    with hub.db.read() as conn:
        assert len(list_messages(conn)) == 1
