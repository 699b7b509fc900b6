"""Reports on comments: a signed-in member tells the curators why a comment should go (one
report per member and comment); curators hide the comment or dismiss its reports from the
queue at /admin/reports."""

from __future__ import annotations

from paperfeed.community import limits
from paperfeed.community.comments import NoSuchComment, hide_comment
from paperfeed.db import reports as store
from paperfeed.db.comments import get_comment
from paperfeed.db.engine import Database
from paperfeed.db.reports import DISMISSED, HIDDEN, ReportedComment
from paperfeed.db.schema import utc_now

__all__ = [
    "MAX_REASON_CHARS",
    "ReportRefused",
    "ReportedComment",
    "dismiss_reports",
    "hide_reported",
    "open_report_count",
    "open_reports",
    "report_comment",
    "reported_by",
]

MAX_REASON_CHARS = 1000


class ReportRefused(ValueError):
    """The report cannot be taken; the message says why, for the reader."""


def report_comment(*, db: Database, user_id: int, comment_id: int, reason: str) -> str:
    """Report a visible comment to the curators; return its paper's id.

    Raises `ReportRefused` (no reason, too long, one's own comment, reported already),
    `NoSuchComment` or `RateLimited`.
    """
    text = " ".join(reason.split())
    if not text:
        raise ReportRefused("Say briefly why this comment should be looked at.")
    if len(text) > MAX_REASON_CHARS:
        raise ReportRefused(f"A reason is at most {MAX_REASON_CHARS} characters.")
    with db.read() as conn:
        comment = get_comment(conn, comment_id)
        already = store.has_reported(conn, user_id=user_id, comment_ids=[comment_id])
    if comment is None or comment.hidden or comment.deleted:
        raise NoSuchComment(comment_id)
    if comment.user_id == user_id:
        raise ReportRefused("You cannot report your own comment; edit or delete it instead.")
    if already:
        raise ReportRefused("You have reported this comment already; the curators will see it.")
    limits.hit(db=db, limit=limits.REPORT_PER_USER, who=str(user_id))
    with db.write() as conn:
        if not store.add_report(
            conn, comment_id=comment_id, user_id=user_id, reason=text, now=utc_now()
        ):
            raise ReportRefused("You have reported this comment already; the curators will see it.")
    return comment.paper_id


def reported_by(*, db: Database, user_id: int, comment_ids: list[int]) -> set[int]:
    """Which of these comments the member has reported."""
    with db.read() as conn:
        return store.has_reported(conn, user_id=user_id, comment_ids=comment_ids)


def open_reports(*, db: Database) -> list[ReportedComment]:
    """The curators' queue: reported comments, the longest-waiting first."""
    with db.read() as conn:
        return store.open_reports(conn)


def open_report_count(*, db: Database) -> int:
    with db.read() as conn:
        return store.open_report_count(conn)


def hide_reported(*, db: Database, comment_id: int, moderator_id: int) -> str:
    """Hide a reported comment and close its reports; return its paper id."""
    comment = hide_comment(db=db, comment_id=comment_id, moderator_id=moderator_id, hidden=True)
    with db.write() as conn:
        store.resolve_reports(
            conn,
            comment_id=comment_id,
            moderator_id=moderator_id,
            resolution=HIDDEN,
            now=utc_now(),
        )
    return comment.paper_id


def dismiss_reports(*, db: Database, comment_id: int, moderator_id: int) -> int:
    """Close a comment's open reports, leaving it shown; `NoSuchComment` if none were open."""
    with db.write() as conn:
        closed = store.resolve_reports(
            conn,
            comment_id=comment_id,
            moderator_id=moderator_id,
            resolution=DISMISSED,
            now=utc_now(),
        )
    if not closed:
        raise NoSuchComment(comment_id)
    return closed
