"""community/submit.py: a reader's text names an arXiv paper, fetched through ingest/single.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from paperfeed.community.limits import RateLimited
from paperfeed.community.submit import SubmitError, parse_submission, submit_paper
from paperfeed.db import Database
from paperfeed.db.papers import get_paper
from paperfeed.db.users import User
from paperfeed.ingest.single import ArxivFetcher
from paperfeed.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"


def _fetcher(tmp_path: Path, body: bytes, asked: list[httpx.Request]) -> ArxivFetcher:
    def arxiv(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=body)

    return ArxivFetcher(
        Settings(data_dir=tmp_path, semantic_search=False),
        transport=httpx.MockTransport(arxiv),
        resolve=lambda host: ["151.101.3.42"],
    )


@pytest.mark.parametrize(
    ("text", "paper_id"),
    [
        ("2401.00001", "2401.00001"),
        ("arXiv:2401.00001v2", "2401.00001"),
        ("https://arxiv.org/abs/2401.00001", "2401.00001"),
    ],
)
def test_ids_and_arxiv_links_name_a_paper(text: str, paper_id: str) -> None:
    assert parse_submission(text) == paper_id


@pytest.mark.parametrize("text", ["", "http://127.0.0.1/abs/2401.00001", "hello", "x" * 301])
def test_anything_else_is_refused_without_a_request(text: str) -> None:
    with pytest.raises(SubmitError):
        parse_submission(text)


def test_a_held_paper_is_featured_without_fetching(
    db: Database, paper: str, ada: User, tmp_path: Path
) -> None:
    asked: list[httpx.Request] = []
    fetcher = _fetcher(tmp_path, b"", asked)
    first = submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text=paper)
    again = submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text=paper)
    assert first.paper_id == paper and first.newly_featured and not again.newly_featured
    assert asked == []


def test_a_missing_paper_is_fetched_from_arxiv(db: Database, ada: User, tmp_path: Path) -> None:
    body = (FIXTURES / "api_page1.xml").read_bytes()
    asked: list[httpx.Request] = []
    fetcher = _fetcher(tmp_path, body, asked)
    with pytest.raises(SubmitError, match=r"arXiv has no paper 2603\.99998"):
        submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text="2603.99998")
    assert len(asked) == 1 and asked[0].url.params["id_list"] == "2603.99998"
    with db.read() as conn:
        assert get_paper(conn, "2603.99998") is None


def test_a_fetch_refused_is_explained(db: Database, ada: User, tmp_path: Path) -> None:
    fetcher = ArxivFetcher(
        Settings(data_dir=tmp_path, semantic_search=False),
        resolve=lambda host: ["127.0.0.1"],
    )
    with pytest.raises(SubmitError, match="private network"):
        submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text="2401.00001")


def test_submissions_are_rate_limited(db: Database, paper: str, ada: User, tmp_path: Path) -> None:
    fetcher = _fetcher(tmp_path, b"", [])
    for _ in range(10):
        submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text=paper)
    with pytest.raises(RateLimited):
        submit_paper(db=db, fetcher=fetcher, user_id=ada.user_id, text=paper)
