"""Reports on comments in the store: one per member and comment, open until a curator hides
the comment or dismisses its reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.db.schema import comment_reports, comments, papers, users
from paperfeed.db.users import public_name

HIDDEN, DISMISSED = "hidden", "dismissed"


@dataclass(frozen=True, slots=True)
class Report:
    reporter: str
    reason: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReportedComment:
    """A comment with open reports, as the curators' queue shows it."""

    comment_id: int
    paper_id: str
    paper_title: str
    author: str
    body: str
    created_at: dt.datetime
    hidden: bool
    reports: list[Report]


def add_report(
    conn: Connection, *, comment_id: int, user_id: int, reason: str, now: dt.datetime
) -> bool:
    """Record a member's report; False if they already reported this comment."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(comment_reports).values(
                    comment_id=comment_id, user_id=user_id, reason=reason, created_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def has_reported(conn: Connection, *, user_id: int, comment_ids: list[int]) -> set[int]:
    """Which of these comments the member has reported."""
    if not comment_ids:
        return set()
    query = select(comment_reports.c.comment_id).where(
        comment_reports.c.user_id == user_id, comment_reports.c.comment_id.in_(comment_ids)
    )
    return {int(c) for c in conn.scalars(query)}


def open_reports(conn: Connection, *, limit: int = 100) -> list[ReportedComment]:
    """Comments with open reports, the longest-waiting first."""
    reporter = users.alias("reporter")
    author = users.alias("author")
    rows = conn.execute(
        select(
            comment_reports.c.comment_id,
            comment_reports.c.reason,
            comment_reports.c.created_at.label("reported_at"),
            reporter.c.handle.label("reporter_handle"),
            reporter.c.display_name.label("reporter_name"),
            reporter.c.user_id.label("reporter_id"),
            comments.c.paper_id,
            comments.c.body,
            comments.c.created_at,
            comments.c.hidden_at,
            comments.c.user_id.label("author_id"),
            author.c.handle.label("author_handle"),
            author.c.display_name.label("author_name"),
            papers.c.title,
        )
        .join(comments, comments.c.comment_id == comment_reports.c.comment_id)
        .join(papers, papers.c.paper_id == comments.c.paper_id)
        .join(reporter, reporter.c.user_id == comment_reports.c.user_id)
        .join(author, author.c.user_id == comments.c.user_id)
        .where(comment_reports.c.resolved_at.is_(None))
        .order_by(comment_reports.c.created_at, comment_reports.c.report_id)
    )
    found: dict[int, ReportedComment] = {}
    for r in rows:
        shown = found.get(r.comment_id)
        if shown is None:
            if len(found) >= limit:
                continue
            shown = found[r.comment_id] = ReportedComment(
                r.comment_id,
                r.paper_id,
                r.title,
                r.author_name or public_name(r.author_handle, r.author_id),
                r.body,
                r.created_at,
                r.hidden_at is not None,
                [],
            )
        shown.reports.append(
            Report(
                r.reporter_name or public_name(r.reporter_handle, r.reporter_id),
                r.reason,
                r.reported_at,
            )
        )
    return list(found.values())


def resolve_reports(
    conn: Connection, *, comment_id: int, moderator_id: int, resolution: str, now: dt.datetime
) -> int:
    """Close every open report of a comment; return how many."""
    return conn.execute(
        update(comment_reports)
        .where(comment_reports.c.comment_id == comment_id, comment_reports.c.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by=moderator_id, resolution=resolution)
    ).rowcount


def open_report_count(conn: Connection) -> int:
    query = select(comment_reports.c.comment_id).where(comment_reports.c.resolved_at.is_(None))
    return len(set(conn.scalars(query)))
