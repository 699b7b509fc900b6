"""ingest/single.py: one paper from the arXiv API, only from arXiv's public hosts."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from paperfeed.ingest.single import ArxivFetcher, FetchRefused
from paperfeed.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"


def _settings(tmp_path: Path, url: str = "https://export.arxiv.org/api/query") -> Settings:
    return Settings(data_dir=tmp_path, semantic_search=False, arxiv_api_url=url)


def test_one_paper_is_read_from_an_api_page(tmp_path: Path) -> None:
    page = (FIXTURES / "api_page1.xml").read_bytes()
    wanted = re.findall(rb"<id>http://arxiv.org/abs/(\d{4}\.\d{5})v\d</id>", page)[0].decode()
    asked: list[httpx.Request] = []

    def arxiv(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=page)

    fetcher = ArxivFetcher(
        _settings(tmp_path),
        transport=httpx.MockTransport(arxiv),
        resolve=lambda host: ["151.101.3.42"],
    )
    record = fetcher.fetch(wanted)
    assert record is not None and record.paper_id == wanted and record.title
    assert fetcher.fetch("2603.99998") is None  # not on the page: arXiv does not know it
    assert [r.url.params["id_list"] for r in asked] == [wanted, "2603.99998"]


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("http://127.0.0.1:9/api/query", ["127.0.0.1"], "not arXiv"),
        ("https://evil.test/api/query", ["151.101.3.42"], "not arXiv"),
        ("https://export.arxiv.org/api/query", ["10.0.0.5"], "private network"),
        ("https://export.arxiv.org/api/query", ["::ffff:127.0.0.1"], "private network"),
    ],
)
def test_only_arxivs_public_hosts_are_fetched(
    tmp_path: Path, url: str, addresses: list[str], reason: str
) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")

    fetcher = ArxivFetcher(
        _settings(tmp_path, url), transport=httpx.MockTransport(never), resolve=lambda h: addresses
    )
    with pytest.raises(FetchRefused, match=reason):
        fetcher.fetch("2401.00001")


def test_a_broken_answer_is_refused_with_a_reason(tmp_path: Path) -> None:
    fetcher = ArxivFetcher(
        _settings(tmp_path),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"<nope")),
        resolve=lambda host: ["151.101.3.42"],
    )
    with pytest.raises(FetchRefused, match="did not answer properly"):
        fetcher.fetch("2401.00001")
