"""Links in the store: found when a paper is stored, corrected by members, counted stars
(db/links.py), and the "has code" filter of the feed (db/feed.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from paperfeed.code_links import GITHUB, PROJECT, PaperLink
from paperfeed.db import Database
from paperfeed.db.feed import count_featured, feature_papers, papers_for_period
from paperfeed.db.links import (
    MEMBER,
    links_of,
    record_stars,
    repos_to_check,
    set_links,
    with_code,
)
from paperfeed.db.papers import upsert_papers
from paperfeed.db.upvotes import card_stats
from paperfeed.models import Featuring, PaperRecord

DAY = dt.date(2026, 3, 20)


def _paper(pid: str, abstract: str, comment: str | None = None, version: int = 1) -> PaperRecord:
    return PaperRecord(
        paper_id=pid, title=f"Paper {pid}", abstract=abstract, comment=comment, version=version
    )


def test_links_are_found_when_papers_are_stored(db: Database) -> None:
    with db.write() as conn:
        upsert_papers(
            conn,
            [
                _paper("2601.00001", "Code at https://github.com/a/one.", "Page: https://a.io/one"),
                _paper("2601.00002", "No links at all."),
            ],
        )
        found = links_of(conn, ["2601.00001", "2601.00002"])
    assert list(found) == ["2601.00001"]
    links = found["2601.00001"]
    assert links.github_repo == "https://github.com/a/one"
    assert links.project_page == "https://a.io/one"
    assert links.github_stars is None and links.has_code
    assert {link.source for link in links.links} == {"found"}


def test_a_new_version_drops_links_its_text_no_longer_has(db: Database) -> None:
    with db.write() as conn:
        upsert_papers(conn, [_paper("2601.00001", "Code: https://github.com/a/old")])
        record_stars(
            conn, "https://github.com/a/old", stars=5, etag='"x"', now=dt.datetime(2026, 1, 1)
        )
        upsert_papers(
            conn,
            [_paper("2601.00001", "Code: https://github.com/a/new", version=2)],
        )
        links = links_of(conn, ["2601.00001"])["2601.00001"]
    assert [link.url for link in links.links] == ["https://github.com/a/new"]


def test_a_members_links_stay_through_later_imports(db: Database) -> None:
    pid = "2601.00001"
    with db.write() as conn:
        upsert_papers(conn, [_paper(pid, "Code: https://github.com/a/found")])
        record_stars(
            conn, "https://github.com/b/mine", stars=9, etag=None, now=dt.datetime(2026, 1, 1)
        )
        set_links(
            conn,
            pid,
            [PaperLink(GITHUB, "https://github.com/b/mine"), PaperLink(PROJECT, "https://b.org")],
            source=MEMBER,
            user_id=None,
        )
        upsert_papers(conn, [_paper(pid, "Code: https://github.com/a/found2", version=2)])
        links = links_of(conn, [pid])[pid]
    assert links.github_repo == "https://github.com/b/mine"
    assert links.project_page == "https://b.org"
    assert [link.source for link in links.links] == [MEMBER, MEMBER]
    # Cleared by a member: no links, and none found again by the next version.
    with db.write() as conn:
        set_links(conn, pid, [], source=MEMBER)
        upsert_papers(conn, [_paper(pid, "Code: https://github.com/a/found3", version=3)])
        assert links_of(conn, [pid]) == {}
        assert with_code(conn, [pid]) == set()


def test_card_stats_carry_the_links(db: Database) -> None:
    with db.write() as conn:
        upsert_papers(conn, [_paper("2601.00001", "https://huggingface.co/datasets/o/d")])
        stats = card_stats(conn, ["2601.00001", "2601.00002"], user_id=None)
    assert stats["2601.00001"].links.has_code
    assert stats["2601.00001"].links.github_repo is None
    assert not stats["2601.00002"].links.links


def test_has_code_filters_the_feed_and_its_count(db: Database) -> None:
    papers = [
        _paper("2601.00001", "https://github.com/a/one"),
        _paper("2601.00002", "Nothing."),
        _paper("2601.00003", "Project page: https://x.org/p"),  # a page is not code
    ]
    with db.write() as conn:
        upsert_papers(conn, papers)
        feature_papers(conn, [Featuring(p.paper_id, DAY, "test") for p in papers])
        end = DAY + dt.timedelta(days=1)
        every = papers_for_period(conn, DAY, end)
        coded = papers_for_period(conn, DAY, end, with_code=True)
        assert count_featured(conn, DAY, end) == 3
        assert count_featured(conn, DAY, end, with_code=True) == 1
    assert len(every) == 3
    assert [item.paper.paper_id for item in coded] == ["2601.00001"]


def test_stars_are_due_oldest_first_and_shared_by_papers(db: Database) -> None:
    old, new = dt.datetime(2026, 1, 1), dt.datetime(2026, 3, 1)
    with db.write() as conn:
        upsert_papers(
            conn,
            [
                _paper("2601.00001", "https://github.com/a/shared https://github.com/a/fresh"),
                _paper("2601.00002", "https://github.com/a/shared https://github.com/a/stale"),
            ],
        )
        record_stars(conn, "https://github.com/a/fresh", stars=1, etag='"f"', now=new)
        record_stars(conn, "https://github.com/a/stale", stars=2, etag='"s"', now=old)
        due = repos_to_check(conn, checked_before=dt.datetime(2026, 2, 1), limit=10)
        assert [(r.url, r.etag) for r in due] == [
            ("https://github.com/a/shared", None),
            ("https://github.com/a/stale", '"s"'),
        ]
        record_stars(conn, "https://github.com/a/shared", stars=42, etag='"h"', now=new)
        record_stars(conn, "https://github.com/a/stale", stars=None, etag=None, now=new)
        found = links_of(conn, ["2601.00001", "2601.00002"])
    assert found["2601.00001"].github_stars == found["2601.00002"].github_stars == 42
    stale = next(x for x in found["2601.00002"].links if x.url.endswith("stale"))
    assert dataclasses.astuple(stale)[-1] == 2  # unchanged (304): the count stays
