"""What goes into a reader's digest on a real store: trending by readers' upvotes, categories,
saved searches through search(), personal picks from upvoted papers' vectors, never a repeat."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from paperfeed.db import Database
from paperfeed.db.digests import Preferences, Subscriber, add_subscriber, sent_paper_ids
from paperfeed.db.schema import feed_entries, papers, upvotes, users
from paperfeed.digest.service import digest_content, send_issue
from paperfeed.hub import Hub
from paperfeed.recommend import recommend
from paperfeed.search.indexer import embed_papers
from tests.digest.conftest import FakeClock, digest_settings
from tests.search.fakes import FakeEmbedder


@pytest.fixture(scope="session")
def embedded_store(digest_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample store with fake-embedded vectors (built once)."""
    folder = tmp_path_factory.mktemp("embedded") / "data"
    shutil.copytree(digest_store, folder)
    shutil.rmtree(folder / "paperfeed-search")
    db = Database(f"sqlite:///{folder / 'paperfeed.db'}")
    embed_papers(db, FakeEmbedder())
    db.dispose()
    return folder


@pytest.fixture
def hub(embedded_store: Path, tmp_path: Path) -> Iterator[Hub]:
    data = tmp_path / "data"
    shutil.copytree(embedded_store, data)
    settings = digest_settings(data)
    made = Hub(
        settings=settings,
        db=Database(f"sqlite:///{data / 'paperfeed.db'}"),
        embedder=FakeEmbedder(),
    )
    yield made
    made.close()


def day_papers(hub: Hub) -> tuple[dt.date, list[tuple[str, tuple[str, ...]]]]:
    with hub.db.read() as conn:
        day = conn.execute(select(feed_entries.c.day).order_by(feed_entries.c.day.desc())).scalar()
        rows = conn.execute(
            select(papers.c.paper_id, papers.c.categories)
            .join(feed_entries, feed_entries.c.paper_id == papers.c.paper_id)
            .where(feed_entries.c.day == day)
            .order_by(papers.c.paper_id)
        ).all()
    assert day is not None
    return day, [(r.paper_id, tuple(r.categories or ())) for r in rows]


def reader(hub: Hub, email: str, liked: list[str], day: dt.date, **prefs: object) -> Subscriber:
    when = dt.datetime.combine(day, dt.time(9))
    with hub.db.write() as conn:
        user_id = conn.execute(
            insert(users).values(email=email, created_at=when).returning(users.c.user_id)
        ).scalar_one()
        if liked:
            conn.execute(
                insert(upvotes),
                [{"user_id": user_id, "paper_id": p, "created_at": when} for p in liked],
            )
        subscriber, _ = add_subscriber(
            conn,
            email=email,
            now=when,
            confirmed=True,
            preferences=Preferences(**prefs),  # type: ignore[arg-type]
        )
        conn.exec_driver_sql(
            "UPDATE subscribers SET user_id = ? WHERE subscriber_id = ?",
            (user_id, subscriber.subscriber_id),
        )
    return (
        Subscriber(**{**subscriber.__dict__, "user_id": user_id}) if False else _reload(hub, email)
    )


def _reload(hub: Hub, email: str) -> Subscriber:
    from paperfeed.db.digests import get_subscriber

    with hub.db.read() as conn:
        found = get_subscriber(conn, email=email)
    assert found is not None
    return found


def test_readers_upvotes_make_trending_and_lead_the_digest(hub: Hub) -> None:
    day, found = day_papers(hub)
    voted = found[-1][0]
    subscriber = reader(hub, "t@example.org", [voted], day, top_n=3, personal=False)
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=1, already_sent=set())
    assert plan.items[0].paper.paper_id == voted
    assert plan.items[0].why.startswith("trending: ")
    assert len(plan.items) == 3  # the rest of the top-N: the day's featured papers


def test_categories_and_saved_searches_add_topic_matches(hub: Hub) -> None:
    day, found = day_papers(hub)
    category = found[0][1][0]
    with hub.db.read() as conn:
        title = conn.execute(
            select(papers.c.title).where(papers.c.paper_id == found[1][0])
        ).scalar()
    assert title is not None
    subscriber = reader(
        hub,
        "topics@example.org",
        [],
        day,
        top_n=0,
        max_papers=40,
        categories=(category,),
        searches=(title,),
        personal=False,
    )
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=2, already_sent=set())
    whys = {item.paper.paper_id: item.why for item in plan.items}
    in_category = [pid for pid, cats in found if category in cats]
    assert any(pid in whys for pid in in_category)
    assert any(w == f"in {category}, a category you follow" for w in whys.values())
    # The exact title is pinned first by search(): that paper is in, as a search match
    # unless its category already brought it.
    assert found[1][0] in whys
    assert (
        any(w.startswith("matches your search") for w in whys.values()) or category in found[1][1]
    )


def test_personal_picks_are_the_readers_for_you_picks(hub: Hub) -> None:
    day, found = day_papers(hub)
    liked = [pid for pid, _ in found[:3]]
    subscriber = reader(hub, "p@example.org", liked, day - dt.timedelta(days=3), top_n=0)
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=3, already_sent=set())
    with hub.db.read() as conn:
        titles = {
            pid: title
            for pid, title in conn.execute(
                select(papers.c.paper_id, papers.c.title).where(papers.c.paper_id.in_(liked))
            )
        }
    reasons = {f"because you upvoted \u201c{t}\u201d" for t in titles.values()}
    picks = [i for i in plan.items if i.why in reasons or i.why.startswith("matches your topic")]
    assert picks and len(picks) <= 10 and len(picks) == len(plan.items)
    # The same picks, in the same order, as the For you page's recommend() gives.
    same = recommend(
        hub.db,
        search_index=hub.search_index,
        user_id=subscriber.user_id or 0,
        since=day,
        until=day,
        limit=10,
        topics=subscriber.categories,
    )
    assert [i.paper.paper_id for i in plan.items] == [p.paper_id for p in same]
    day_ids = {pid for pid, _ in found}
    assert all(p.paper.paper_id in day_ids and p.paper.paper_id not in liked for p in picks)
    # A reader without upvotes gets none.
    nobody = reader(hub, "np@example.org", [], day, top_n=0)
    empty = digest_content(hub).plan(nobody, kind="daily", period=day, key=3, already_sent=set())
    assert empty.items == ()


def test_personal_picks_come_from_an_imported_library_too(hub: Hub) -> None:
    """The digest calls recommend(), which reads the reader's library itself: a reader with
    no upvotes but a BibTeX library gets picks explained by it."""
    from paperfeed.recommend.library import import_library

    day, found = day_papers(hub)
    mine = [pid for pid, _ in found[:3]]
    subscriber = reader(hub, "lib@example.org", [], day, top_n=0)
    bibtex = "".join(
        f"@article{{k{i}, title={{Paper {i}}}, eprint={{{pid}}}, archivePrefix={{arXiv}}}}\n"
        for i, pid in enumerate(mine)
    )
    report = import_library(
        db=hub.db,
        search_index=hub.search_index,
        embedder=hub.embedder,
        user_id=subscriber.user_id or 0,
        data=bibtex.encode(),
        source="mine.bib",
    )
    assert report.matched == 3
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=3, already_sent=set())
    assert plan.items
    assert all(
        i.why.startswith("from your library: \u201c") or i.why.startswith("matches your topic")
        for i in plan.items
    )
    assert any(i.why.startswith("from your library: ") for i in plan.items)
    assert not {i.paper.paper_id for i in plan.items} & set(mine)


def test_a_weekly_digest_leaves_out_what_the_daily_ones_already_sent(hub: Hub) -> None:
    day, _found = day_papers(hub)
    subscriber = reader(hub, "w@example.org", [], day, top_n=5, personal=False)
    report = send_issue(hub, kind="daily", period=day, clock=FakeClock())
    assert report.sent == 1
    with hub.db.read() as conn:
        sent = sent_paper_ids(conn, subscriber_id=subscriber.subscriber_id)
    assert len(sent) == 5
    weekly = digest_content(hub).plan(
        subscriber, kind="weekly", period=day, key=9, already_sent=sent
    )
    assert weekly.items and not {i.paper.paper_id for i in weekly.items} & sent


def test_a_day_without_votes_is_listed_in_the_order_of_its_feed_page(hub: Hub) -> None:
    """With no votes the digest's "trending" section is the day's featured papers, in the
    order the web's page of that day shows them (most upvoted, then the newer id; #11)."""
    import re

    from fastapi.testclient import TestClient

    from paperfeed.web.app import create_app

    day, _ = day_papers(hub)
    subscriber = reader(hub, "order@example.org", [], day, top_n=30, max_papers=30, personal=False)
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=1, already_sent=set())
    page = TestClient(create_app(hub)).get(f"/papers?date={day.isoformat()}").text
    on_page = re.findall(r'<h2 class="card-title[^"]*"[^>]*><a href="/papers/([^"]+)">', page)
    assert len(on_page) == 30
    assert [item.paper.paper_id for item in plan.items] == on_page
    assert on_page[:3] == sorted(on_page[:3], reverse=True)  # no votes: the newer id first


def test_a_followed_authors_new_paper_is_in_the_digest_with_the_reason(hub: Hub) -> None:
    """The digest's personal picks are recommend()'s, which reads the reader's follows."""
    from paperfeed.author_names import parse_name
    from paperfeed.community.authors import author_name, follow

    day, found = day_papers(hub)
    with hub.db.read() as conn:
        authors = conn.execute(
            select(papers.c.authors).where(papers.c.paper_id == found[-1][0])
        ).scalar_one()
    name = parse_name(authors[0])
    assert name is not None
    subscriber = reader(hub, "fan@example.org", [], day, top_n=0)
    follow(db=hub.db, user_id=subscriber.user_id or 0, key=name.key)
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=3, already_sent=set())
    shown = author_name(db=hub.db, key=name.key)
    assert any(
        i.paper.paper_id == found[-1][0] and i.why == f"you follow {shown}" for i in plan.items
    )


def test_personal_picks_for_a_member_with_only_chosen_categories(hub: Hub) -> None:
    """The digest calls recommend(), which reads the reader's chosen categories itself: a
    member with nothing else gets the day's papers of those categories, explained."""
    from paperfeed.recommend.topics import SEED_CACHE, add_reader_topic

    SEED_CACHE.clear()
    day, found = day_papers(hub)
    counts: dict[str, int] = {}
    for _, cats in found:
        for c in cats:
            counts[c] = counts.get(c, 0) + 1
    chosen = sorted(counts, key=lambda c: (-counts[c], c))[1]  # a common category, not the first
    subscriber = reader(hub, "cats@example.org", [], day, top_n=0)
    add_reader_topic(
        db=hub.db,
        search_index=hub.search_index,
        user_id=subscriber.user_id or 0,
        kind="category",
        value=chosen,
    )
    plan = digest_content(hub).plan(subscriber, kind="daily", period=day, key=3, already_sent=set())
    in_category = {pid for pid, cats in found if chosen in cats}
    assert len(plan.items) == min(10, len(in_category))
    assert {i.paper.paper_id for i in plan.items} <= in_category
    assert {i.why for i in plan.items} == {f"matches your topic {chosen}"}


def test_a_claimed_batch_gets_its_readers_picks_ranked_together(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's worker prepares each claimed batch: its readers' picks come from one
    recommend_many call (one evidence query per kind, one batched ranking), and each mail holds
    the picks recommend() gives that reader alone (#13: the send with picks on)."""
    import paperfeed.digest.content as content_module
    from paperfeed.digest.policy import DeliveryPolicy

    day, found = day_papers(hub)
    before = day - dt.timedelta(days=3)
    readers = [
        reader(hub, f"batch{n}@example.org", [pid for pid, _ in found[2 * n : 2 * n + 3]], before)
        for n in range(4)
    ]
    readers.append(reader(hub, "nothing@example.org", [], day, top_n=0))  # no picks to make
    alone = {
        s.subscriber_id: [
            p.paper_id
            for p in recommend(
                hub.db,
                search_index=hub.search_index,
                user_id=s.user_id or 0,
                since=day,
                until=day,
                limit=min(s.max_papers, 10),
                topics=s.categories,
            )
        ]
        for s in readers
    }
    batches: list[int] = []
    real_many = content_module.recommend_many

    def counted(*args: object, **kwargs: object) -> object:
        batches.append(len(kwargs["asks"]))  # type: ignore[arg-type]
        return real_many(*args, **kwargs)  # type: ignore[arg-type]

    def not_again(*args: object, **kwargs: object) -> object:
        raise AssertionError("a prepared reader's picks were computed again")

    monkeypatch.setattr(content_module, "recommend_many", counted)
    monkeypatch.setattr(content_module, "recommend", not_again)
    content = digest_content(hub)
    report = send_issue(
        hub,
        kind="daily",
        period=day,
        clock=FakeClock(),
        policy=DeliveryPolicy(concurrency=1, batch=25),
        content=content,
    )
    assert batches == [5] and report.sent >= 4
    with hub.db.read() as conn:
        for s in readers[:4]:  # each mail holds the picks the reader gets alone
            sent = sent_paper_ids(conn, subscriber_id=s.subscriber_id)
            assert alone[s.subscriber_id] and set(alone[s.subscriber_id]) <= sent


def test_a_failed_batch_preparation_still_sends_every_mail(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If computing a batch's picks together fails, each mail is built alone, as before."""
    from paperfeed.digest.content import RecommendPicks

    day, found = day_papers(hub)
    readers = [
        reader(hub, f"f{n}@example.org", [pid for pid, _ in found[n : n + 3]], day, top_n=0)
        for n in range(3)
    ]

    def broken(self: RecommendPicks, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the batch could not be prepared")

    monkeypatch.setattr(RecommendPicks, "prepare", broken)
    report = send_issue(hub, kind="daily", period=day, clock=FakeClock())
    assert report.sent == 3
    with hub.db.read() as conn:
        assert all(sent_paper_ids(conn, subscriber_id=s.subscriber_id) for s in readers)
