"""The polite HTTP client against a real local server: spacing, retries, faults, safe XML."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import time
from collections.abc import Iterator

import pytest

from paperfeed.ingest._http import (
    FetchError,
    PageError,
    PoliteClient,
    check_url,
    parse_xml,
    retry_after_seconds,
)
from tests.ingest.conftest import FakeClock, Reply, ScriptedServer, fixture

BODY = b"<ok>" + b"x" * 20_000 + b"</ok>"


@pytest.fixture
def client(clock: FakeClock) -> Iterator[PoliteClient]:
    with PoliteClient(min_interval_s=3.0, timeout_s=5.0, retries=3, clock=clock) as polite:
        yield polite


def test_requests_are_spaced_by_the_interval_on_the_clock(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(b"1"), Reply(b"2"), Reply(b"3"))
    started = time.monotonic()
    bodies = [client.get(server.url + "/api/query").body for _ in range(3)]
    assert bodies == [b"1", b"2", b"3"]
    times = [r.at for r in server.requests]
    assert [b - a for a, b in itertools.pairwise(times)] == [3.0, 3.0]
    assert clock.sleeps == [3.0, 3.0]
    assert time.monotonic() - started < 5  # the 6 s of waiting happen on the fake clock only


def test_time_already_passed_counts_towards_the_interval(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(b"1"), Reply(b"2"))
    client.get(server.url)
    clock.now += 2.0  # parsing the page took two seconds
    client.get(server.url)
    assert clock.sleeps == [1.0]


def test_one_connection_is_reused(server: ScriptedServer, client: PoliteClient) -> None:
    server.serve(Reply(b"1"), Reply(b"2"), Reply(b"3"))
    for _ in range(3):
        client.get(server.url)
    assert len({r.client_port for r in server.requests}) == 1
    assert server.requests[0].headers["user-agent"].startswith("paperfeed/")


def test_query_parameters_are_sent(server: ScriptedServer, client: PoliteClient) -> None:
    server.serve(Reply(b"ok"))
    page = client.get(server.url + "/api/query", params={"search_query": "cat:cs.CL", "start": 0})
    assert server.requests[0].params == {"search_query": "cat:cs.CL", "start": "0"}
    assert page.url.startswith(server.url + "/api/query?search_query=cat%3Acs.CL")


def test_503_with_retry_after_seconds_waits_that_long_then_succeeds(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(b"busy", status=503, headers={"Retry-After": "17"}), Reply(BODY))
    assert client.get(server.url).body == BODY
    assert clock.sleeps == [17.0]
    assert server.requests[1].at - server.requests[0].at == 17.0


def test_retry_after_as_http_date_is_measured_against_the_date_header(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    now = dt.datetime(2026, 3, 21, 6, 0, 5, tzinfo=dt.UTC)
    headers = {
        "Date": email.utils.format_datetime(now, usegmt=True),
        "Retry-After": email.utils.format_datetime(now + dt.timedelta(seconds=42), usegmt=True),
    }
    server.serve(Reply(b"busy", status=503, headers=headers), Reply(b"ok"))
    assert client.get(server.url).body == b"ok"
    assert clock.sleeps == [42.0]


def test_a_short_retry_after_still_keeps_the_interval(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(status=503, headers={"Retry-After": "1"}), Reply(b"ok"))
    client.get(server.url)
    assert server.requests[1].at - server.requests[0].at == 3.0


def test_5xx_are_retried_with_exponential_backoff(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(status=500), Reply(status=502), Reply(status=504), Reply(b"ok"))
    assert client.get(server.url).body == b"ok"
    assert clock.sleeps == [4.0, 8.0, 16.0]


def test_fetch_error_after_the_retries_are_spent(
    server: ScriptedServer, client: PoliteClient
) -> None:
    server.route(lambda _: Reply(b"down", status=500))
    with pytest.raises(FetchError, match=r"gave up after 4 attempts; last: HTTP 500"):
        client.get(server.url)
    assert len(server.requests) == 4


def test_a_connection_dropped_mid_body_is_retried(
    server: ScriptedServer, client: PoliteClient
) -> None:
    server.serve(Reply(BODY, cut_after=len(BODY) // 2), Reply(BODY))
    assert client.get(server.url).body == BODY
    assert len(server.requests) == 2


def test_a_timeout_is_retried(server: ScriptedServer, clock: FakeClock) -> None:
    server.serve(Reply(b"late", delay_s=2.0), Reply(b"ok"))
    with PoliteClient(min_interval_s=3.0, timeout_s=0.2, retries=2, clock=clock) as client:
        assert client.get(server.url).body == b"ok"
    assert len(server.requests) == 2
    assert clock.sleeps == [4.0]


def test_timeouts_give_up_with_a_clear_error(server: ScriptedServer, clock: FakeClock) -> None:
    server.route(lambda _: Reply(b"late", delay_s=2.0))
    with (
        PoliteClient(min_interval_s=3.0, timeout_s=0.2, retries=1, clock=clock) as client,
        pytest.raises(FetchError, match=r"gave up after 2 attempts; last: timed out after 0.2 s"),
    ):
        client.get(server.url)


def test_4xx_is_not_retried(server: ScriptedServer, client: PoliteClient) -> None:
    server.route(lambda _: Reply(b"nope", status=404))
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        client.get(server.url)
    assert caught.value.status == 404
    assert len(server.requests) == 1


def test_an_accepted_error_status_is_returned(server: ScriptedServer, client: PoliteClient) -> None:
    server.serve(Reply(b"<error/>", status=400))
    page = client.get(server.url, accept=(400,))
    assert (page.status, page.body) == (400, b"<error/>")


def test_a_retry_after_longer_than_we_wait_gives_up(
    server: ScriptedServer, client: PoliteClient, clock: FakeClock
) -> None:
    server.serve(Reply(status=503, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError, match="retry after 3600 s"):
        client.get(server.url)
    assert clock.sleeps == []


def test_a_redirect_on_the_same_host_is_followed(
    server: ScriptedServer, client: PoliteClient
) -> None:
    server.serve(Reply(status=301, headers={"Location": "/oai2?verb=Identify"}), Reply(b"ok"))
    page = client.get(server.url + "/old")
    assert page.body == b"ok"
    assert server.requests[1].path == "/oai2"
    assert server.requests[1].params == {"verb": "Identify"}


def test_a_redirect_to_another_host_is_refused(
    server: ScriptedServer, client: PoliteClient
) -> None:
    server.serve(Reply(status=302, headers={"Location": "http://169.254.169.254/latest/"}))
    with pytest.raises(FetchError, match="redirects to another host"):
        client.get(server.url)
    assert len(server.requests) == 1


def test_a_response_larger_than_the_limit_is_refused(
    server: ScriptedServer, clock: FakeClock
) -> None:
    server.serve(Reply(BODY))
    with (
        PoliteClient(
            min_interval_s=3.0, timeout_s=5.0, retries=3, clock=clock, max_bytes=1000
        ) as client,
        pytest.raises(FetchError, match="larger than 1000 bytes"),
    ):
        client.get(server.url)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://export.arxiv.org/api", "export.arxiv.org/api", "/oai2"]
)
def test_only_http_and_https_urls_are_fetched(url: str, client: PoliteClient) -> None:
    with pytest.raises(ValueError, match="http"):
        client.get(url)
    with pytest.raises(ValueError):
        check_url(url)


def test_retry_after_values() -> None:
    now = dt.datetime(2026, 3, 21, 6, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Sat, 21 Mar 2026 06:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Sat, 21 Mar 2026 05:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None


@pytest.mark.timeout(10)
def test_parse_xml_refuses_a_billion_laughs() -> None:
    with pytest.raises(PageError, match=r"refused unsafe XML: .*<!DOCTYPE lolz>.*XML bombs"):
        parse_xml(fixture("billion_laughs.xml"))


def test_parse_xml_refuses_an_external_entity() -> None:
    with pytest.raises(PageError, match=r"refused unsafe XML: .*<!DOCTYPE OAI-PMH>.*XXE"):
        parse_xml(fixture("xxe.xml"))


def test_parse_xml_reports_malformed_xml() -> None:
    with pytest.raises(PageError, match="malformed XML"):
        parse_xml(fixture("api_page1.xml")[:500])
