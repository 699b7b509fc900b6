"""db/reader_topics.py: a reader's categories and saved searches, checked, unique, bounded."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from paperfeed.db import Database
from paperfeed.db.reader_topics import (
    MAX_CATEGORIES,
    MAX_SEARCHES,
    ReaderTopics,
    TopicError,
    add_topic,
    has_topics,
    remove_topic,
    replace_topics,
    topics_of,
)
from paperfeed.db.schema import users
from paperfeed.db.users import get_or_create_user


def reader(db: Database, email: str = "r@example.org") -> int:
    with db.write() as conn:
        return get_or_create_user(conn, email).user_id


def test_topics_are_unique_per_reader_and_kept_in_order(db: Database) -> None:
    me, other = reader(db), reader(db, "o@example.org")
    with db.write() as conn:
        assert add_topic(conn, user_id=me, kind="category", value="cs.CL")
        assert add_topic(conn, user_id=me, kind="category", value=" cond-mat.stat-mech ")
        assert not add_topic(conn, user_id=me, kind="category", value="cs.CL")
        assert add_topic(conn, user_id=me, kind="search", value="  graph\tneural  nets ")
        assert not add_topic(conn, user_id=me, kind="search", value="graph neural nets")
        assert add_topic(conn, user_id=other, kind="category", value="cs.CL")  # theirs
    with db.read() as conn:
        assert topics_of(conn, user_id=me) == ReaderTopics(
            ("cs.CL", "cond-mat.stat-mech"), ("graph neural nets",)
        )
        assert has_topics(conn, user_id=me)
    with db.write() as conn:
        assert remove_topic(conn, user_id=me, kind="search", value="graph  neural nets")
        assert not remove_topic(conn, user_id=me, kind="search", value="graph neural nets")
        assert not remove_topic(conn, user_id=me, kind="bogus", value="cs.CL")
        assert remove_topic(conn, user_id=me, kind="category", value="cs.CL")
        assert remove_topic(conn, user_id=me, kind="category", value="cond-mat.stat-mech")
    with db.read() as conn:
        assert not has_topics(conn, user_id=me) and not topics_of(conn, user_id=me)
        assert topics_of(conn, user_id=other).categories == ("cs.CL",)


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        ("category", "CS.CL", "not an arXiv category"),
        ("category", "cs.CL; drop table", "not an arXiv category"),
        ("category", "<script>", "not an arXiv category"),
        ("category", "a" * 41, "not an arXiv category"),
        ("search", "   ", "needs some words"),
        ("search", "x" * 201, "at most 200 characters"),
        ("author", "x", "a category or a search"),
    ],
)
def test_malformed_topics_are_refused(db: Database, kind: str, value: str, why: str) -> None:
    me = reader(db)
    with pytest.raises(TopicError, match=why), db.write() as conn:
        add_topic(conn, user_id=me, kind=kind, value=value)
    with db.read() as conn:
        assert not has_topics(conn, user_id=me)


def test_each_reader_has_at_most_20_categories_and_10_searches(db: Database) -> None:
    me = reader(db)
    with db.write() as conn:
        for n in range(MAX_CATEGORIES):
            add_topic(conn, user_id=me, kind="category", value=f"cat.X{chr(65 + n)}")
        for n in range(MAX_SEARCHES - 1):
            add_topic(conn, user_id=me, kind="search", value=f"query {n}")
        add_topic(conn, user_id=me, kind="search", value="x" * 200)  # 200 is allowed
    with pytest.raises(TopicError, match="at most 20 categories"), db.write() as conn:
        add_topic(conn, user_id=me, kind="category", value="cs.CL")
    with pytest.raises(TopicError, match="at most 10 saved searches"), db.write() as conn:
        add_topic(conn, user_id=me, kind="search", value="one more")


def test_replacing_is_all_or_nothing_and_deleting_the_reader_deletes_them(
    db: Database,
) -> None:
    me = reader(db)
    with db.write() as conn:
        replace_topics(conn, user_id=me, categories=["cs.CL", "cs.CL", "hep-th"], searches=["a"])
    for categories, searches in [(["cs.CL", "nope!"], []), ([], [f"q{n}" for n in range(11)])]:
        with pytest.raises(TopicError), db.write() as conn:
            replace_topics(conn, user_id=me, categories=categories, searches=searches)
    with db.read() as conn:
        assert topics_of(conn, user_id=me) == ReaderTopics(("cs.CL", "hep-th"), ("a",))
    with db.write() as conn:
        conn.execute(delete(users).where(users.c.user_id == me))
    with db.read() as conn:
        assert not has_topics(conn, user_id=me)
