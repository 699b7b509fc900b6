"""Followed authors in recommend(): their papers of the window come first, explained "you follow
Z", for a reader with no other signal too; their older papers and other people's stay out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from paperfeed.community.authors import follow
from paperfeed.db.schema import papers, upvotes
from paperfeed.hub import Hub
from paperfeed.recommend import recommend
from paperfeed.recommend.signals import has_signals
from tests.recommend.conftest import WINDOW, ids, make_reader


def _write(hub: Hub, paper_id: str, *names: str) -> None:
    with hub.db.write() as conn:
        conn.execute(
            update(papers)
            .where(papers.c.paper_id == paper_id)
            .values(authors=list(names), modified_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        )


def test_a_followed_authors_new_papers_come_first_with_the_reason(hub: Hub) -> None:
    new_paper, other_new = ids("quantum", old=False)[:2]
    old_paper = ids("quantum", old=True)[0]
    _write(hub, new_paper, "Ada Lovelace", "Charles Babbage")
    _write(hub, old_paper, "A. Lovelace", "Charles Babbage")  # hers, before the window
    _write(hub, other_new, "Alan Lovelace", "Grace Hopper")  # someone else
    reader = make_reader(hub, "f@example.org")
    assert not has_signals(db=hub.db, user_id=reader)
    assert recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW) == []

    follow(db=hub.db, user_id=reader, key="lovelace-ada")
    assert has_signals(db=hub.db, user_id=reader)
    picks = recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW)
    assert picks[0].paper_id == new_paper and picks[0].reason == "you follow Ada Lovelace"
    assert old_paper not in {p.paper_id for p in picks}
    # Her paper teaches the model: the rest are near it, explained by her.
    assert all(p.reason.endswith("whom you follow") for p in picks[1:])
    assert [p.paper_id for p in picks].count(new_paper) == 1


def test_follows_and_upvotes_mix_without_repeats(hub: Hub) -> None:
    new_paper = ids("graph", old=False)[0]
    _write(hub, new_paper, "Ada Lovelace")
    reader = make_reader(hub, "g@example.org")
    with hub.db.write() as conn:
        conn.execute(
            upvotes.insert(),
            [
                {"user_id": reader, "paper_id": p, "created_at": dt.datetime(2026, 3, 5)}
                for p in ids("language", old=True)[:3]
            ],
        )
    follow(db=hub.db, user_id=reader, key="lovelace-ada")
    picks = recommend(hub.db, search_index=hub.search_index, user_id=reader, since=WINDOW, limit=6)
    assert picks[0].paper_id == new_paper and picks[0].reason == "you follow Ada Lovelace"
    assert len(picks) == 6 and len({p.paper_id for p in picks}) == 6
    assert any(p.reason.startswith("because you upvoted") for p in picks[1:])
    # Outside the window nothing of hers is picked first.
    later = recommend(
        hub.db,
        search_index=hub.search_index,
        user_id=reader,
        since=WINDOW + dt.timedelta(days=30),
        limit=6,
    )
    assert all(p.reason != "you follow Ada Lovelace" for p in later)
