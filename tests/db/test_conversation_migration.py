"""m018 on a store that has members and comments: every member gets a handle from their
address (collisions numbered), and nothing that refers to members or comments is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, insert, select

from paperfeed.db import Database
from paperfeed.db.migrate import current_revision
from paperfeed.db.papers import upsert_papers
from paperfeed.db.schema import comments, sessions, users
from paperfeed.models import PaperRecord


def test_m018_gives_every_member_a_handle_and_keeps_their_rows(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("m017")
    now = dt.datetime(2026, 3, 20, 12, 0)
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord(paper_id="2603.00001", title="T", abstract="A")])
    # m017's tables, written as m017 knew them (no handle, no parent_id).
    with db.engine.begin() as conn:
        for number, email in enumerate(
            ["sam@a.org", "sam@b.org", "jo.ann+x@c.org", "admin@d.org", "x@e.org"], start=1
        ):
            conn.execute(
                insert(users).values(user_id=number, email=email, role="member", created_at=now)
            )
        conn.execute(
            comments.insert().values(
                comment_id=1, paper_id="2603.00001", user_id=1, body="kept", created_at=now
            )
        )
        conn.execute(
            sessions.insert().values(
                session_hash="s" * 64, user_id=2, created_at=now, last_seen_at=now, expires_at=now
            )
        )
    db.migrate("m018")
    assert current_revision(db) == "m018"
    with db.read() as conn:
        handles = dict(conn.execute(select(users.c.email, users.c.handle)).all())
        assert conn.scalar(select(func.count()).select_from(comments)) == 1
        assert conn.scalar(select(func.count()).select_from(sessions)) == 1
        assert conn.scalar(select(comments.c.parent_id)) is None
    assert handles == {
        "sam@a.org": "sam",
        "sam@b.org": "sam2",
        "jo.ann+x@c.org": "jo_ann",
        "admin@d.org": "admin_member",
        "x@e.org": "x_member",
    }
