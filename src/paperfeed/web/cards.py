"""Who reads a list page: card stats are shared between anonymous readers and cached."""

from __future__ import annotations

from fastapi import Request

from paperfeed.web.auth import optional_user


def reader_id(request: Request) -> int | None:
    """The signed-in reader's user id, or None (anonymous pages are cached and shared)."""
    user = optional_user(request)
    return user.user_id if user is not None else None
