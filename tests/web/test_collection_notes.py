"""Reading-group tools over the real app: the owner's notes and read marks on a collection's
papers, on its page, in its reading-list feed, its BibTeX export and the JSON API."""

from __future__ import annotations

import datetime as dt
import re

import bibtexparser
import feedparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.community import limits
from paperfeed.community.accounts import create_api_token
from paperfeed.db.users import get_user_by_email
from paperfeed.hub import Hub
from tests.web.community_helpers import csrf, sign_in

PAPER = "2603.12270"  # in the bundled sample
OTHER = "2603.19235"
NOTE = 'Discuss §3 <script>window.__xss++</script> "x" & see https://example.org/slides.'


def _post(client: TestClient, path: str, **data: str) -> int:
    data.setdefault("csrf_token", csrf(client))
    return client.post(path, data=data, follow_redirects=False).status_code


def _new_collection(client: TestClient, *, public: bool) -> int:
    token = csrf(client, "/collections")
    data = {"name": f"Group {public}", "paper_id": PAPER, "csrf_token": token}
    if public:
        data["public"] = "1"
    made = client.post("/collections", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text[:300]
    found = re.fullmatch(r"/collections/(\d+)", made.headers["location"])
    assert found
    cid = int(found.group(1))
    assert _post(client, f"/collections/{cid}/papers", paper_id=OTHER) == 303
    return cid


def test_the_owner_writes_notes_and_marks_papers_read(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "owner@example.org")
    cid = _new_collection(client, public=False)
    page = client.get(f"/collections/{cid}").text
    assert "<span data-unread-count>2</span> unread" in page and "Add a note" in page

    assert _post(client, f"/collections/{cid}/notes", paper_id=PAPER, note=NOTE) == 303
    page = client.get(f"/collections/{cid}").text
    # Escaped text with its link made clickable; the payload never runs.
    assert "&lt;script&gt;window.__xss++&lt;/script&gt;" in page
    assert '<a href="https://example.org/slides" rel="nofollow ugc noopener">' in page
    assert "<script>window" not in page
    assert "Edit note" in page and "(private)" in page

    # One click marks read; the count drops; another click marks unread again.
    assert _post(client, f"/collections/{cid}/read", paper_id=PAPER, read="1") == 303
    page = client.get(f"/collections/{cid}").text
    assert "<span data-unread-count>1</span> unread" in page
    assert 'class="collection-item is-read"' in page and "Read · mark unread" in page
    assert _post(client, f"/collections/{cid}/read", paper_id=PAPER, read="0") == 303
    assert "<span data-unread-count>2</span>" in client.get(f"/collections/{cid}").text

    # A paper the collection lacks, or a note too long, changes nothing.
    assert _post(client, f"/collections/{cid}/notes", paper_id="2603.00000", note="x") == 404
    too_long = "x" * 4001
    assert _post(client, f"/collections/{cid}/notes", paper_id=PAPER, note=too_long) == 400

    # Without the form's token: refused.
    bare = client.post(f"/collections/{cid}/notes", data={"paper_id": PAPER, "note": "forged"})
    assert bare.status_code == 403
    assert "forged" not in client.get(f"/collections/{cid}").text

    # Another member cannot see it, nor write on it, nor mark it.
    other = TestClient(client.app)
    sign_in(other, sample_hub, "member@example.org")
    assert other.get(f"/collections/{cid}").status_code == 404
    assert _post(other, f"/collections/{cid}/notes", paper_id=PAPER, note="mine") == 404
    assert _post(other, f"/collections/{cid}/read", paper_id=PAPER, read="1") == 404
    assert "mine" not in client.get(f"/collections/{cid}").text
    # Signed out: sent to sign in, nothing written.
    stranger = TestClient(client.app)
    assert _post(stranger, f"/collections/{cid}/notes", paper_id=PAPER, note="anon") in (303, 401)
    assert "anon" not in client.get(f"/collections/{cid}").text


def test_a_public_collections_notes_are_shared_and_in_its_feed(
    client: TestClient, sample_hub: Hub
) -> None:
    sign_in(client, sample_hub, "owner@example.org")
    private = _new_collection(client, public=False)
    public = _new_collection(client, public=True)
    for cid in (private, public):
        assert _post(client, f"/collections/{cid}/notes", paper_id=PAPER, note=NOTE) == 303
        assert _post(client, f"/collections/{cid}/read", paper_id=PAPER) == 303

    reader = TestClient(client.app)
    sign_in(reader, sample_hub, "member@example.org")
    page = reader.get(f"/collections/{public}").text
    assert "Note by owner" in page and "&lt;script&gt;window.__xss++" in page
    assert "<script>window" not in page
    # Read marks and the note forms are the owner's alone.
    assert "data-unread-count" not in page and "is-read" not in page
    assert "Save note" not in page
    assert f'href="/collections/{public}.rss"' in page

    assert reader.get(f"/collections/{private}.rss").status_code == 404
    assert reader.get(f"/collections/{private}.atom").status_code == 404
    for suffix, version in (("rss", "rss20"), ("atom", "atom10")):
        raw = reader.get(f"/collections/{public}.{suffix}")
        assert raw.status_code == 200
        # HTML inside XML: the note's tags are escaped twice, never markup at either level.
        assert "<script>" not in raw.text and "&amp;lt;script&amp;gt;window.__xss" in raw.text
        feed = feedparser.parse(raw.content)
        assert not feed.bozo and feed.version == version
        assert "reading list by owner" in feed.feed.title
        notes = {e.link.rsplit("/", 1)[1]: e.summary for e in feed.entries}
        assert set(notes) == {PAPER, OTHER}
        assert notes[PAPER].startswith("<p>Note by owner: Discuss §3")
        assert '<a href="https://example.org/slides"' in notes[PAPER]
        assert "<script" not in notes[PAPER] and "&lt;script&gt;window.__xss" in notes[PAPER]
        assert "Note by" not in notes[OTHER]


def test_notes_are_rate_limited(
    client: TestClient, sample_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        limits, "NOTE_PER_USER", limits.Limit("note:user", 2, dt.timedelta(minutes=10))
    )
    sign_in(client, sample_hub, "owner@example.org")
    cid = _new_collection(client, public=False)
    for n in range(2):
        note = f"Rate-limited note {n}"  # words no random token of the page can hold
        assert _post(client, f"/collections/{cid}/notes", paper_id=PAPER, note=note) == 303
    token = csrf(client, "/collections")
    over = client.post(
        f"/collections/{cid}/notes",
        data={"paper_id": PAPER, "note": "Rate-limited note 2", "csrf_token": token},
        follow_redirects=False,
    )
    assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
    page = client.get(f"/collections/{cid}").text
    assert "Rate-limited note 1" in page and "Rate-limited note 2" not in page
    # Read marks are not counted.
    assert _post(client, f"/collections/{cid}/read", paper_id=PAPER) == 303


def test_a_collections_bibtex_carries_its_notes(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "owner@example.org")
    cid = _new_collection(client, public=True)
    note = "Key result: 50% fewer FLOPs & {braces} $x_1$ — see Table~2"
    assert _post(client, f"/collections/{cid}/notes", paper_id=PAPER, note=note) == 303
    text = TestClient(client.app).get("/api/export", params={"collection": cid}).text
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks and len(library.entries) == 2
    by_eprint = {e.fields_dict["eprint"].value: e.fields_dict for e in library.entries}
    annote = by_eprint[PAPER]["annote"].value
    assert annote.startswith(r"Key result: 50\% fewer FLOPs \& \{braces\} \$x\_1\$")
    assert "annote" not in by_eprint[OTHER]
    csl = client.get("/api/export", params={"collection": cid, "format": "csljson"}).json()
    assert [item.get("annote") for item in csl if "annote" in item] == [note]


def test_the_api_reads_and_writes_notes_and_read_state(client: TestClient, sample_hub: Hub) -> None:
    sign_in(client, sample_hub, "owner@example.org")
    cid = _new_collection(client, public=True)
    with sample_hub.db.read() as conn:
        owner = get_user_by_email(conn, "owner@example.org")
    assert owner is not None
    mine = {
        "Authorization": "Bearer "
        + create_api_token(db=sample_hub.db, user_id=owner.user_id, name="t")
    }
    api = TestClient(client.app)
    url = f"/api/collections/{cid}/items/{PAPER}"
    done = api.patch(url, headers=mine, json={"note": "Read it first", "read": True})
    assert done.status_code == 200, done.text
    assert done.json()["note"] == "Read it first" and done.json()["read"] is True
    assert api.patch(url, headers=mine, json={"read": False}).json() == {
        "paper_id": PAPER,
        "added_at": None,
        "note": "Read it first",
        "read": False,
        "read_at": None,
    }
    one = api.get(f"/api/collections/{cid}", headers=mine).json()
    assert one["unread"] == 2
    assert {i["paper_id"]: i["note"] for i in one["items"]} == {PAPER: "Read it first", OTHER: ""}
    assert (
        api.patch(
            f"/api/collections/{cid}/items/2603.00000", headers=mine, json={"read": True}
        ).status_code
        == 404
    )
    assert api.patch(url, json={"read": True}).status_code == 401

    sign_in(TestClient(client.app), sample_hub, "member@example.org")
    with sample_hub.db.read() as conn:
        member = get_user_by_email(conn, "member@example.org")
    assert member is not None
    theirs = {
        "Authorization": "Bearer "
        + create_api_token(db=sample_hub.db, user_id=member.user_id, name="t")
    }
    assert api.patch(url, headers=theirs, json={"note": "mine"}).status_code == 404
    seen = api.get(f"/api/collections/{cid}", headers=theirs).json()
    assert seen["unread"] is None
    assert {i["paper_id"]: (i["note"], i["read"]) for i in seen["items"]} == {
        PAPER: ("Read it first", None),
        OTHER: ("", None),
    }
