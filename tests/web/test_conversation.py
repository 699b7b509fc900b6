"""The conversation over the real app and store: threaded replies, @mentions, notifications
(page, badge, read marks, API), handles, reports and the curators' queue; every new form
refused without its CSRF token or from another origin, and rate-limited."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperfeed.community.accounts import create_api_token
from paperfeed.community.notifications import unsubscribe_token
from paperfeed.db.authors import add_claim, decide_claim
from paperfeed.db.feed import feature_papers
from paperfeed.db.notifications import email_enabled
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import comment_reports, comments, notifications
from paperfeed.db.users import Role, User, get_or_create_user, get_user_by_email, set_role
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord
from tests.web.community_helpers import csrf, sign_in

PAPER = "2603.90002"


@pytest.fixture
def paper(sample_hub: Hub) -> str:
    record = PaperRecord(
        paper_id=PAPER,
        title="Conversation Test Paper",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=("cs.LG",),
        primary_category="cs.LG",
    )
    with sample_hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring(PAPER, dt.date(2026, 3, 20), "test", upvotes=1)])
    return PAPER


def _user(hub: Hub, email: str) -> User:
    with hub.db.read() as conn:
        user = get_user_by_email(conn, email)
    assert user is not None
    return user


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


def _comment(client: TestClient, paper_id: str, body: str, parent: int | None = None) -> int:
    extra = {"parent_id": str(parent)} if parent is not None else {}
    response = _post(client, f"/papers/{paper_id}/comments", body=body, **extra)
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("-", 1)[1])


def _bearer(hub: Hub, user: User) -> dict[str, str]:
    token = create_api_token(db=hub.db, user_id=user.user_id, name="script")
    return {"Authorization": f"Bearer {token}"}


def _count(hub: Hub, table: object) -> int:
    with hub.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


@pytest.fixture
def two(client: TestClient, sample_hub: Hub) -> tuple[TestClient, TestClient]:
    """Ada and Bob, each signed in in their own browser."""
    sign_in(client, sample_hub, "ada.lovelace@example.org")
    bob = TestClient(client.app)
    sign_in(bob, sample_hub, "bob@example.org")
    return client, bob


def test_a_reply_nests_under_its_parent_and_notifies_its_author(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    top = _comment(ada, paper, "A first thought.")
    reply = _comment(bob, paper, "I disagree, politely.", parent=top)
    page = ada.get(f"/papers/{paper}").text
    assert re.search(rf'class="comment depth-0[^"]*" id="comment-{top}"', page)
    assert re.search(rf'class="comment depth-1[^"]*" id="comment-{reply}"', page)
    assert f'name="parent_id" value="{top}"' in page  # a reply form under each comment
    # Ada's header shows one unread notification; the page says who replied where.
    assert '<span class="notify-count" aria-hidden="true">1</span>' in page
    listed = ada.get("/notifications").text
    assert "replied to your comment on" in listed and "I disagree, politely." in listed
    assert f"/papers/{paper}#comment-{reply}" in listed
    # Bob is not told of his own reply; Ada's own comment told nobody.
    assert "notify-count" not in bob.get("/notifications").text
    assert _post(ada, "/notifications/read").status_code == 303
    assert "notify-count" not in ada.get("/notifications").text
    assert "Mark all read" not in ada.get("/notifications").text


def test_replies_to_a_hidden_comment_stay_readable_in_context(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    top = _comment(ada, paper, "Something rude.")
    _comment(bob, paper, "Please keep it civil.", parent=top)
    with sample_hub.db.write() as conn:
        set_role(conn, _user(sample_hub, "bob@example.org").user_id, Role.CURATOR)
    assert _post(bob, f"/comments/{top}/hide", hidden="1").status_code == 303
    reader = TestClient(ada.app).get(f"/papers/{paper}").text
    assert "Something rude." not in reader
    assert "This comment was hidden by a curator." in reader
    assert "Please keep it civil." in reader
    # Nobody can reply to a hidden comment; the curator still reads it whole.
    assert _post(ada, f"/papers/{paper}/comments", body="x", parent_id=str(top)).status_code == 404
    assert "Something rude." in bob.get(f"/papers/{paper}").text


def test_deleting_a_comment_with_replies_keeps_their_place(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    top = _comment(ada, paper, "Original words.")
    _comment(bob, paper, "An answer.", parent=top)
    assert _post(ada, f"/comments/{top}/delete").status_code == 303
    page = bob.get(f"/papers/{paper}").text
    assert "Original words." not in page and "deleted by its author" in page
    assert "An answer." in page
    lone = _comment(ada, paper, "Nobody answers this.")
    _post(ada, f"/comments/{lone}/delete")
    with sample_hub.db.read() as conn:
        assert conn.scalar(select(func.count()).where(comments.c.comment_id == lone)) == 0


def test_replies_deeper_than_the_page_shows_are_flattened_in_reply_to(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    parent = _comment(ada, paper, "depth 0")
    ids = [parent]
    for depth in range(1, 7):
        parent = _comment(bob if depth % 2 else ada, paper, f"depth {depth}", parent=parent)
        ids.append(parent)
    page = ada.get(f"/papers/{paper}").text
    assert re.search(rf'class="comment depth-4[^"]*" id="comment-{ids[4]}"', page)
    assert re.search(rf'class="comment depth-4[^"]*" id="comment-{ids[6]}"', page)
    assert f'in reply to <a href="#comment-{ids[5]}">' in page
    api = TestClient(ada.app).get(f"/api/papers/{paper}/comments").json()
    assert [c["parent_id"] for c in api["comments"]] == [None, *ids[:-1]]
    assert [c["depth"] for c in api["comments"]] == [0, 1, 2, 3, 4, 4, 4]


def test_a_mention_links_the_member_and_notifies_them_without_leaking_addresses(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    ada_user = _user(sample_hub, "ada.lovelace@example.org")
    assert ada_user.handle == "ada_lovelace"  # from the address's local part
    comment = _comment(bob, paper, "Thoughts, @Ada_Lovelace? And @nobody_here, me@x.org.")
    page = TestClient(ada.app).get(f"/papers/{paper}").text
    assert f'<a class="mention" href="/members/{ada_user.user_id}">@Ada_Lovelace</a>' in page
    assert "@nobody_here" in page and 'href="/members/0"' not in page
    assert page.count('class="mention"') == 1
    listed = ada.get("/notifications").text
    assert "mentioned you on" in listed and f"#comment-{comment}" in listed
    member = TestClient(ada.app).get(f"/members/{ada_user.user_id}").text
    assert "@ada_lovelace" in member
    for shown in (page, listed, member, bob.get(f"/papers/{paper}").text):
        assert "@example.org" not in shown
        assert "ada.lovelace" not in shown
    # A reply that also mentions its parent's author notifies once, as a reply.
    top = _comment(ada, paper, "Mine.")
    _comment(bob, paper, "@ada_lovelace see above", parent=top)
    with sample_hub.db.read() as conn:
        kinds = conn.execute(
            select(notifications.c.kind).where(notifications.c.user_id == ada_user.user_id)
        ).scalars()
        assert sorted(kinds) == ["mention", "reply"]


def test_an_edit_notifies_only_the_newly_mentioned(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    _ada, bob = two
    comment = _comment(bob, paper, "Plain words.")
    assert _count(sample_hub, notifications) == 0
    _post(bob, f"/comments/{comment}/edit", body="Now with @ada_lovelace.")
    _post(bob, f"/comments/{comment}/edit", body="Still @ada_lovelace, edited again.")
    assert _count(sample_hub, notifications) == 1


def test_comments_on_a_paper_notify_its_submitter(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    assert _post(ada, "/submit", paper=paper).status_code == 303  # in the store: no fetch
    _comment(bob, paper, "Nice paper.")
    _comment(ada, paper, "Thanks!")  # her own comment tells her nothing
    listed = ada.get("/notifications").text
    assert "commented on your paper" in listed and "Nice paper." in listed
    assert "Thanks!" not in listed


def test_comments_on_a_paper_notify_its_approved_claimant_only(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    with sample_hub.db.write() as conn:  # Ada claims "Ada Lovelace"; a curator approves
        claimant = get_or_create_user(conn, "ada.lovelace@example.org")
        curator = get_or_create_user(conn, "curator@example.org")
        claim = add_claim(conn, user_id=claimant.user_id, author_key="lovelace-ada", note=None)
    _comment(bob, paper, "Before the approval.")
    assert "Before the approval." not in ada.get("/notifications").text
    with sample_hub.db.write() as conn:
        decide_claim(conn, claim_id=claim, status="approved", curator_id=curator.user_id)
    _comment(bob, paper, "After the approval.")
    listed = ada.get("/notifications").text
    assert "After the approval." in listed and "Before the approval." not in listed


def test_handles_change_in_settings_unique_checked_and_rate_limited(
    two: tuple[TestClient, TestClient], sample_hub: Hub
) -> None:
    ada, bob = two
    assert _post(ada, "/settings/handle", handle="@Countess").status_code == 303
    assert _user(sample_hub, "ada.lovelace@example.org").handle == "countess"
    assert 'value="countess"' in ada.get("/settings").text
    assert _post(bob, "/settings/handle", handle="COUNTESS").status_code == 409
    for bad in ("a", "bad handle", "x@y.org", "admin", "<script>", "é" * 5):
        assert _post(bob, "/settings/handle", handle=bad).status_code == 400, bad
    assert _user(sample_hub, "bob@example.org").handle == "bob"
    statuses = [_post(ada, "/settings/handle", handle=f"ada{n}").status_code for n in range(5)]
    assert statuses == [303, 303, 303, 303, 429]  # five a day, the first one included
    assert _user(sample_hub, "ada.lovelace@example.org").handle == "ada3"


def test_new_members_get_distinct_handles_from_their_addresses(sample_hub: Hub) -> None:
    with sample_hub.db.write() as conn:
        first = get_or_create_user(conn, "sam@one.org")
        second = get_or_create_user(conn, "sam@two.org")
        third = get_or_create_user(conn, "Sam+news@three.org")
        short = get_or_create_user(conn, "x@four.org")
    assert [first.handle, second.handle, third.handle] == ["sam", "sam2", "sam3"]
    assert short.handle == "x_member"


def test_a_report_reaches_the_curators_queue_once_and_a_curator_hides_the_comment(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    comment = _comment(ada, paper, "Buy cheap pills")
    assert _post(ada, f"/comments/{comment}/report", reason="mine").status_code == 400
    assert _post(bob, f"/comments/{comment}/report", reason="   ").status_code == 400
    assert _post(bob, f"/comments/{comment}/report", reason="Spam").status_code == 303
    assert _post(bob, f"/comments/{comment}/report", reason="Spam!").status_code == 400
    assert _count(sample_hub, comment_reports) == 1
    assert "Reported" in bob.get(f"/papers/{paper}").text
    assert bob.get("/admin/reports", follow_redirects=False).status_code == 403
    with sample_hub.db.write() as conn:
        curator = get_or_create_user(conn, "cur@example.org")
        set_role(conn, curator.user_id, Role.CURATOR)
    cur = TestClient(ada.app)
    sign_in(cur, sample_hub, "cur@example.org")
    queue = cur.get("/admin/reports").text
    assert "Buy cheap pills" in queue and "Spam" in queue and "Reported comments (1)" in queue
    assert _post(cur, f"/admin/reports/{comment}", action="hide").status_code == 303
    assert "Buy cheap pills" not in TestClient(ada.app).get(f"/papers/{paper}").text
    assert "No reported comments" in cur.get("/admin/reports").text
    # Dismissing leaves a comment shown; nothing open: 404.
    other = _comment(ada, paper, "A fine comment")
    _post(bob, f"/comments/{other}/report", reason="I dislike it")
    assert _post(cur, f"/admin/reports/{other}", action="dismiss").status_code == 303
    assert _post(cur, f"/admin/reports/{other}", action="dismiss").status_code == 404
    assert "A fine comment" in TestClient(ada.app).get(f"/papers/{paper}").text


def test_reports_and_replies_are_rate_limited(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    ids = [_comment(ada, paper, f"comment {n}") for n in range(10)]
    # Replies count with comments: Ada has used her 10 per 10 minutes.
    refused = _post(ada, f"/papers/{paper}/comments", body="one more", parent_id=str(ids[0]))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    zed = TestClient(ada.app)
    sign_in(zed, sample_hub, "zed@example.org")
    ids.append(_comment(zed, paper, "comment 10"))
    statuses = [_post(bob, f"/comments/{cid}/report", reason="meh").status_code for cid in ids]
    assert statuses == [303] * 10 + [429]  # 10 reports an hour
    assert _count(sample_hub, comment_reports) == 10


def test_notification_mail_setting_and_one_click_unsubscribe(
    two: tuple[TestClient, TestClient], sample_hub: Hub
) -> None:
    ada, _bob = two
    user = _user(sample_hub, "ada.lovelace@example.org")
    assert "Mail me my notifications" in ada.get("/settings").text  # off by default
    assert _post(ada, "/settings/notifications", email="1").status_code == 303
    with sample_hub.db.read() as conn:
        assert email_enabled(conn, user.user_id)
    token = unsubscribe_token(db=sample_hub.db, user_id=user.user_id)
    mail_client = TestClient(ada.app)  # no cookies, no CSRF token: a mail client
    assert "Stop notification mail?" in mail_client.get(f"/notifications/unsubscribe/{token}").text
    with sample_hub.db.read() as conn:
        assert email_enabled(conn, user.user_id)  # opening the link changes nothing
    done = mail_client.post(f"/notifications/unsubscribe/{token}")
    assert done.status_code == 200 and "Notification mail is off" in done.text
    with sample_hub.db.read() as conn:
        assert not email_enabled(conn, user.user_id)
    forged = f"{user.user_id}.{'A' * 24}"
    assert mail_client.post(f"/notifications/unsubscribe/{forged}").status_code == 404
    assert mail_client.get("/notifications/unsubscribe/nonsense").status_code == 404


def test_the_api_lists_threads_posts_replies_and_reads_notifications(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, _bob = two
    ada_user = _user(sample_hub, "ada.lovelace@example.org")
    bob_user = _user(sample_hub, "bob@example.org")
    top = _comment(ada, paper, "Top.")
    script = TestClient(ada.app)
    bob_auth = _bearer(sample_hub, bob_user)
    ada_auth = _bearer(sample_hub, ada_user)
    body = {"body": "Via the API, @ada_lovelace", "parent_id": top}
    assert script.post(f"/api/papers/{paper}/comments", json=body).status_code == 401
    made = script.post(f"/api/papers/{paper}/comments", json=body, headers=bob_auth)
    assert made.status_code == 201, made.text
    assert made.json()["parent_id"] == top and made.json()["mentions"] == ["ada_lovelace"]
    gone = {"body": "x", "parent_id": 10**9}
    assert (
        script.post(f"/api/papers/{paper}/comments", json=gone, headers=bob_auth).status_code == 404
    )
    listed = script.get(f"/api/papers/{paper}/comments").json()
    assert listed["count"] == 2
    assert [(c["id"], c["parent_id"]) for c in listed["comments"]] == [
        (top, None),
        (made.json()["id"], top),
    ]
    assert "email" not in str(listed) and "@example.org" not in str(listed)
    assert script.get("/api/papers/9999.99999/comments").status_code == 404
    assert script.get("/api/notifications").status_code == 401
    mine = script.get("/api/notifications", headers=ada_auth).json()
    assert mine["unread"] == 1 and mine["notifications"][0]["kind"] == "reply"
    read = script.post(
        "/api/notifications/read", json={"ids": [mine["notifications"][0]["id"]]}, headers=ada_auth
    )
    assert read.json() == {"marked": 1, "unread": 0}
    assert script.post("/api/notifications/read", json={}, headers=ada_auth).json()["marked"] == 0


NEW_FORMS = [
    ("/papers/{paper}/comments", {"body": "reply", "parent_id": "{comment}"}),
    ("/comments/{comment}/report", {"reason": "spam"}),
    ("/notifications/read", {}),
    ("/settings/handle", {"handle": "newname"}),
    ("/settings/notifications", {"email": "1"}),
    ("/admin/reports/{comment}", {"action": "hide"}),
]


def _state(hub: Hub) -> tuple[object, ...]:
    with hub.db.read() as conn:
        return (
            conn.scalar(select(func.count()).select_from(comments)),
            conn.scalar(select(func.count()).select_from(comment_reports)),
            conn.scalar(select(func.count()).where(notifications.c.read_at.is_not(None))),
            tuple(conn.execute(select(comments.c.hidden_at)).scalars()),
            get_user_by_email(conn, "bob@example.org").handle,  # type: ignore[union-attr]
            email_enabled(conn, _user(hub, "bob@example.org").user_id),
        )


def test_every_new_form_is_refused_without_its_token_or_from_another_origin(
    two: tuple[TestClient, TestClient], sample_hub: Hub, paper: str
) -> None:
    ada, bob = two
    comment = _comment(ada, paper, "@bob hello")
    with sample_hub.db.write() as conn:
        set_role(conn, _user(sample_hub, "bob@example.org").user_id, Role.CURATOR)
    before = _state(sample_hub)
    token = csrf(bob)
    for path, data in NEW_FORMS:
        url = path.format(paper=paper, comment=comment)
        fields = {k: v.format(comment=comment) for k, v in data.items()}
        assert bob.post(url, data=fields, follow_redirects=False).status_code == 403, url
        for headers in ({"Origin": "https://evil.test"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = bob.post(
                url, data={**fields, "csrf_token": token}, headers=headers, follow_redirects=False
            )
            assert refused.status_code == 403, (url, headers)
    assert _state(sample_hub) == before
    # With the token, from the hub itself, each one works.
    for path, data in NEW_FORMS:
        url = path.format(paper=paper, comment=comment)
        fields = {k: v.format(comment=comment) for k, v in data.items()}
        done = bob.post(url, data={**fields, "csrf_token": token}, follow_redirects=False)
        assert done.status_code == 303, (url, done.text[:200])
    assert _state(sample_hub) != before


def test_notification_pages_need_a_signed_in_member(client: TestClient) -> None:
    for path in ("/notifications", "/admin/reports"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and "/sign-in" in response.headers["location"]
    assert client.get("/members/999999").status_code == 404
