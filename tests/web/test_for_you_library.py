"""The For you page's library upload through the real app: a BibTeX file's papers become "from your
library" picks (page, API and private feed alike), and forged, malformed, oversized, hostile or
too frequent uploads change nothing."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from paperfeed.community.accounts import create_api_token
from paperfeed.db.library import library_of
from paperfeed.db.users import get_user_by_email
from paperfeed.hub import Hub
from paperfeed.web.app import create_app
from tests.recommend.conftest import hub, ids, title_of, topic_of, topic_store  # noqa: F401
from tests.recommend.test_library import QUANTUM_WORDS
from tests.web.community_helpers import csrf_from, sign_in
from tests.web.test_for_you import picked

READER = "reader@example.org"


@pytest.fixture
def client(hub: Hub) -> TestClient:  # noqa: F811
    made = TestClient(create_app(hub))
    sign_in(made, hub, READER)
    return made


def reader_id(hub: Hub) -> int:  # noqa: F811
    with hub.db.read() as conn:
        user = get_user_by_email(conn, READER)
    assert user is not None
    return user.user_id


def stored(hub: Hub) -> list[tuple[str, str]]:  # noqa: F811
    with hub.db.read() as conn:
        return [(e.key, e.status) for e in library_of(conn, user_id=reader_id(hub))]


def upload(
    client: TestClient, data: bytes, *, token: str | None = "page", name: str = "my.bib"
) -> tuple[int, str]:
    form = {}
    if token == "page":
        form["csrf_token"] = csrf_from(client.get("/for-you").text)
    response = client.post(
        "/for-you/library", data=form, files={"library": (name, data, "application/x-bibtex")}
    )
    return response.status_code, response.text


def library_file() -> bytes:
    g0, g1 = ids("graph", old=True)[:2]
    return f"""@article{{a, title = {{{title_of(g0)}}}, eprint = {{{g0}}}, archiveprefix={{arXiv}}}}
@article{{b, title = {{Whatever}}, url = {{https://arxiv.org/abs/{g1}v3}}}}
@article{{q, title = {{Entangled notes}}, abstract = {{{QUANTUM_WORDS} {QUANTUM_WORDS}}}}}
@article{{z, title = {{Only a title}}}}
""".encode()


def test_an_uploaded_library_fills_for_you_with_its_reasons(client: TestClient, hub: Hub) -> None:  # noqa: F811
    assert client.get("/", follow_redirects=False).status_code == 200  # nothing to learn yet
    status, page = upload(client, library_file())
    assert status == 200, page[:500]
    assert (
        "Imported my.bib</strong>: 4 entries: 2 matched to papers here, 1 embedded from their "
        "title and abstract, 1 skipped" in page
    )
    assert "not in this hub, and no abstract to embed" in page  # the skipped entry says why
    # Home is For you now, and its picks come from the library.
    assert client.get("/", follow_redirects=False).headers["location"] == "/for-you"
    text = client.get("/for-you").text
    shown = picked(text)
    assert {topic_of(pid) for pid in shown[:20]} == {"graph", "quantum"}
    assert html.escape("from your library: \u201cEntangled notes\u201d") in text
    g0 = ids("graph", old=True)[0]
    assert html.escape(f"from your library: \u201c{title_of(g0)}\u201d") in text
    assert "my.bib, imported" in text
    # The API and the private feed call the same recommend(): the same library reasons.
    with hub.db.read() as conn:
        user = get_user_by_email(conn, READER)
    assert user is not None
    token = create_api_token(db=hub.db, user_id=user.user_id, name="t")
    body = client.get("/api/for-you?limit=5", headers={"Authorization": f"Bearer {token}"}).json()
    assert [p["paper"]["id"] for p in body["picks"]] == shown[:5]
    assert all(p["reason"].startswith("from your library: ") for p in body["picks"])
    # Forgetting the library empties For you again.
    forget = client.post(
        "/for-you/library/forget", data={"csrf_token": csrf_from(text)}, follow_redirects=False
    )
    assert forget.status_code == 303 and stored(hub) == []
    assert "Nothing to pick yet" in client.get("/for-you").text


def test_forged_malformed_and_oversized_uploads_change_nothing(
    client: TestClient,
    hub: Hub,  # noqa: F811
) -> None:
    assert upload(client, library_file())[0] == 200
    before = stored(hub)
    assert len(before) == 4
    # No token, or another browser's: 403 before the route runs.
    assert upload(client, b"@article{x, title={New}}", token=None)[0] == 403
    other = TestClient(client.app)
    stolen = csrf_from(other.get("/sign-in").text)
    response = client.post(
        "/for-you/library",
        data={"csrf_token": stolen},
        files={"library": ("x.bib", b"@article{x, title={New}}", "text/plain")},
    )
    assert response.status_code == 403
    cross = client.post(
        "/for-you/library",
        data={"csrf_token": csrf_from(client.get("/for-you").text)},
        files={"library": ("x.bib", b"@article{x, title={New}}", "text/plain")},
        headers={"Origin": "https://evil.test"},
    )
    assert cross.status_code == 403
    # Malformed: 400, every problem with its line, the old library kept.
    status, page = upload(client, b"@article{ok, title={A}}\n@article{b, title={Broken\n@misc{c}\n")
    assert status == 400
    assert "This file was not imported" in page and "line 2: cannot read the entry" in page
    # Over the import limit (5 MiB) but within the form's: refused with the sizes.
    status, page = upload(client, b"%" * (5 * 1024 * 1024 + 10))
    assert status == 400 and "at most 5,242,880 are imported" in page
    # Over the form's limit (6 MiB): refused before anything reads it.
    assert upload(client, b"%" * (7 * 1024 * 1024))[0] == 413
    assert stored(hub) == before


def test_hostile_titles_are_escaped_everywhere(client: TestClient, hub: Hub) -> None:  # noqa: F811
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    data = (
        f"@article{{x, title={{{evil}}}, abstract={{{QUANTUM_WORDS}}}}}\n"
        f"@article{{y, title={{{evil} again}}}}\n"
    ).encode()
    status, page = upload(client, data, name='"><script>alert(3)</script>.bib')
    assert status == 200
    for text in (page, client.get("/for-you").text):
        assert "<script>alert" not in text and "<img src=x" not in text
    assert html.escape(f"from your library: \u201c{evil}\u201d") in client.get("/for-you").text
    assert ("y", "skipped") in stored(hub)


def test_uploads_are_rate_limited(client: TestClient, hub: Hub) -> None:  # noqa: F811
    for _ in range(10):
        assert upload(client, b"@article{x, title={Nothing}}")[0] == 200
    status, _ = upload(client, b"@article{x, title={Nothing}}")
    assert status == 429
