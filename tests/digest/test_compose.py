"""compose_digest: trending top-N, then topics, then personal picks; each paper once."""

from __future__ import annotations

import datetime as dt

from paperfeed.digest.compose import Candidate, compose_digest
from paperfeed.models import PaperRecord

DAY = dt.date(2026, 3, 20)


def paper(n: int) -> PaperRecord:
    return PaperRecord(paper_id=f"2603.{n:05d}", title=f"Paper {n}", abstract="…")


def candidates(numbers: list[int], why: str) -> list[Candidate]:
    return [Candidate(paper(n), why) for n in numbers]


def compose(**overrides: object) -> list[tuple[str, str]]:
    values: dict[str, object] = {
        "kind": "daily",
        "period": DAY,
        "trending": candidates([1, 2, 3, 4], "trending"),
        "topics": candidates([3, 5, 6], "topic"),
        "personal": candidates([6, 7], "personal"),
        "top_n": 2,
        "max_papers": 10,
        "already_sent": set(),
    }
    plan = compose_digest(**(values | overrides))  # type: ignore[arg-type]
    assert plan.kind == values["kind"] and plan.period == DAY
    return [(item.paper.paper_id[-1], item.why) for item in plan.items]


def test_trending_top_n_comes_first_then_topics_then_personal_each_paper_once() -> None:
    assert compose() == [
        ("1", "trending"),
        ("2", "trending"),
        ("3", "topic"),
        ("5", "topic"),
        ("6", "topic"),
        ("7", "personal"),
    ]


def test_papers_already_sent_never_come_again_and_trending_refills_its_top_n() -> None:
    sent = {"2603.00001", "2603.00006"}
    assert compose(already_sent=sent) == [
        ("2", "trending"),
        ("3", "trending"),
        ("5", "topic"),
        ("7", "personal"),
    ]


def test_max_papers_cuts_the_digest() -> None:
    assert compose(max_papers=3) == [("1", "trending"), ("2", "trending"), ("3", "topic")]


def test_nothing_new_makes_an_empty_plan() -> None:
    plan = compose_digest(
        kind="weekly",
        period=DAY,
        trending=candidates([1], "t"),
        topics=[],
        personal=[],
        top_n=5,
        max_papers=5,
        already_sent={"2603.00001"},
    )
    assert plan.items == () and plan.paper_ids == ()
