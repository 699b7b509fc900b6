"""A paper's comments as a thread: replies under their parents, depth capped, and hidden or
deleted comments kept as placeholders only where visible replies need them."""

from __future__ import annotations

import datetime as dt

from paperfeed.community.threads import MAX_DEPTH, comment_thread
from paperfeed.db.comments import Comment

T = dt.datetime(2026, 3, 20, 12, 0)


def _c(
    cid: int, parent: int | None = None, *, hidden: bool = False, deleted: bool = False
) -> Comment:
    return Comment(
        cid, "p", 1, f"author{cid}", f"body {cid}", T, None, hidden, parent, None, deleted
    )


def test_replies_follow_their_parent_depth_first() -> None:
    comments = [_c(1), _c(2), _c(3, 1), _c(4, 3), _c(5, 1), _c(6, 2)]
    thread = comment_thread(comments, moderator=False)
    assert [(e.comment.comment_id, e.depth) for e in thread] == [
        (1, 0), (3, 1), (4, 2), (5, 1), (2, 0), (6, 1),
    ]  # fmt: skip


def test_deep_replies_stay_at_the_deepest_level_and_name_their_parent() -> None:
    comments = [_c(1)] + [_c(n, n - 1) for n in range(2, 9)]
    thread = comment_thread(comments, moderator=False)
    assert [e.depth for e in thread] == [0, 1, 2, 3, 4, 4, 4, 4]
    assert [e.reply_to for e in thread][: MAX_DEPTH + 1] == [None] * (MAX_DEPTH + 1)
    assert thread[5].reply_to == "author5"


def test_hidden_and_deleted_comments_stay_only_as_placeholders_for_visible_replies() -> None:
    comments = [_c(1, hidden=True), _c(2, 1), _c(3, hidden=True), _c(4, deleted=True), _c(5, 4)]
    reader = comment_thread(comments, moderator=False)
    assert [(e.comment.comment_id, e.placeholder) for e in reader] == [
        (1, True), (2, False), (4, True), (5, False),
    ]  # fmt: skip
    assert reader[0].comment.body == "" and reader[2].comment.body == ""
    curator = comment_thread(comments, moderator=True)
    assert [(e.comment.comment_id, e.placeholder) for e in curator] == [
        (1, False), (2, False), (3, False), (4, True), (5, False),
    ]  # fmt: skip


def test_a_hidden_reply_under_a_hidden_comment_hides_the_whole_branch() -> None:
    comments = [_c(1, hidden=True), _c(2, 1, hidden=True), _c(3, 2, deleted=True)]
    assert comment_thread(comments, moderator=False) == []


def test_a_reply_whose_parent_is_gone_shows_at_the_top() -> None:
    thread = comment_thread([_c(7, 99)], moderator=False)
    assert [(e.comment.comment_id, e.depth) for e in thread] == [(7, 0)]
