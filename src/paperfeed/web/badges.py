"""Counts the header shows a signed-in reader: unread notifications, and for curators the open
reports on comments (template globals; one count query each, only for signed-in pages)."""

from __future__ import annotations

from paperfeed.community.notifications import unread_count
from paperfeed.community.reports import open_report_count
from paperfeed.db.users import Role
from paperfeed.web.auth import viewer
from paperfeed.web.deps import get_hub
from paperfeed.web.request_context import current_request


def unread_notifications() -> int:
    """The signed-in reader's unread notifications (0 when signed out)."""
    request = current_request()
    user = viewer(request)
    if user is None:
        return 0
    cached = getattr(request.state, "unread_notifications", None)
    if cached is None:
        cached = unread_count(db=get_hub(request).db, user_id=user.user_id)
        request.state.unread_notifications = cached
    return int(cached)


def open_reports() -> int:
    """Comments waiting in the curators' queue (0 for everyone but curators)."""
    request = current_request()
    user = viewer(request)
    if user is None or not user.can(Role.CURATOR):
        return 0
    cached = getattr(request.state, "open_reports", None)
    if cached is None:
        cached = open_report_count(db=get_hub(request).db)
        request.state.open_reports = cached
    return int(cached)
