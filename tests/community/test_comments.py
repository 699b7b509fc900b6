"""community/comments.py: readers' comments, their own edits, curators hiding them."""

from __future__ import annotations

import pytest

from paperfeed.community import comments
from paperfeed.community.limits import RateLimited
from paperfeed.community.papers import NoSuchPaper, paper_community
from paperfeed.db import Database
from paperfeed.db.users import Role, User


def test_a_comment_is_written_edited_hidden_and_deleted(
    db: Database, paper: str, ada: User, bob: User
) -> None:
    comment_id = comments.add_comment(
        db=db, user_id=ada.user_id, paper_id=paper, body="  Nice.\r\nReally.  "
    )
    [shown] = paper_community(db=db, paper_id=paper, user=None).comments
    assert shown.body == "Nice.\nReally." and shown.author == "ada"
    with pytest.raises(comments.NoSuchComment):
        comments.edit_comment(db=db, comment_id=comment_id, user_id=bob.user_id, body="mine")
    comments.edit_comment(db=db, comment_id=comment_id, user_id=ada.user_id, body="Better.")
    comments.hide_comment(db=db, comment_id=comment_id, moderator_id=bob.user_id, hidden=True)
    assert paper_community(db=db, paper_id=paper, user=None).comments == []
    curator = User(bob.user_id, bob.email, None, Role.CURATOR, bob.created_at, bob.handle)
    [hidden] = paper_community(db=db, paper_id=paper, user=curator).comments
    assert hidden.hidden and hidden.body == "Better."
    comments.delete_comment(db=db, comment_id=comment_id, user_id=ada.user_id)
    with pytest.raises(comments.NoSuchComment):
        comments.own_comment(db=db, comment_id=comment_id, user_id=ada.user_id)


def test_empty_long_and_homeless_comments_are_refused(db: Database, paper: str, ada: User) -> None:
    with pytest.raises(comments.CommentRefused, match="needs some text"):
        comments.add_comment(db=db, user_id=ada.user_id, paper_id=paper, body=" \r\n ")
    with pytest.raises(comments.CommentRefused, match="at most"):
        comments.add_comment(
            db=db, user_id=ada.user_id, paper_id=paper, body="x" * (comments.MAX_COMMENT_CHARS + 1)
        )
    with pytest.raises(NoSuchPaper):
        comments.add_comment(db=db, user_id=ada.user_id, paper_id="2401.99999", body="hi")


def test_comments_are_rate_limited(db: Database, paper: str, ada: User) -> None:
    for n in range(10):
        comments.add_comment(db=db, user_id=ada.user_id, paper_id=paper, body=f"c{n}")
    with pytest.raises(RateLimited):
        comments.add_comment(db=db, user_id=ada.user_id, paper_id=paper, body="one more")
