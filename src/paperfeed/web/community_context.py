"""What the paper page shows of the community: votes, comments, the reader's collections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from paperfeed.db.community import (
    Role,
    User,
    card_stats,
    collections_holding,
    list_comments,
    user_collections,
)


def paper_community_context(conn: Connection, paper_id: str, user: User | None) -> dict[str, Any]:
    """Template context for one paper's community parts, as `user` (or nobody) sees them."""
    moderator = user is not None and user.can(Role.CURATOR)
    stats = card_stats(conn, [paper_id], user_id=user.user_id if user else None)[paper_id]
    return {
        "stats": stats,
        "comments": list_comments(conn, paper_id, include_hidden=moderator),
        "moderator": moderator,
        "my_collections": user_collections(conn, user.user_id) if user else [],
        "in_collections": collections_holding(conn, user.user_id, paper_id) if user else set(),
    }
