"""A paper's comments as a thread: replies under their parents, as deep as a page can show,
with hidden and deleted comments kept as placeholders where their replies need the context."""

from __future__ import annotations

from dataclasses import dataclass, replace

from paperfeed.db.comments import Comment

__all__ = ["MAX_DEPTH", "ThreadEntry", "comment_thread"]

# Replies nest this deep on the page; deeper ones are shown at this depth, "in reply to" their
# parent's author, so a long back-and-forth does not squeeze into a narrow column.
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """One comment in a paper's thread, as one reader sees it.

    `placeholder`: a hidden or deleted comment shown only so its replies keep their context
    (its text is not shown). `reply_to`: the parent's author, for replies shown flattened at
    `MAX_DEPTH`.
    """

    comment: Comment
    depth: int
    placeholder: bool = False
    reply_to: str | None = None


def comment_thread(comments: list[Comment], *, moderator: bool) -> list[ThreadEntry]:
    """A paper's comments (oldest first) as a thread: each reply under its parent, depth-first.

    Readers do not see hidden or deleted comments; one that has replies they can see stays
    as a placeholder, so its replies read in context. Curators see hidden comments whole.
    """
    by_id = {c.comment_id: c for c in comments}
    children: dict[int | None, list[Comment]] = {}
    for c in comments:
        parent = c.parent_id if c.parent_id in by_id else None
        children.setdefault(parent, []).append(c)

    def gone(c: Comment) -> bool:
        return c.deleted or (c.hidden and not moderator)

    # A reply is always newer than its parent: newest first, children are decided first.
    shown: dict[int, bool] = {}
    for c in reversed(comments):
        kids = children.get(c.comment_id, [])
        shown[c.comment_id] = not gone(c) or any(shown.get(k.comment_id, False) for k in kids)

    entries: list[ThreadEntry] = []
    stack: list[tuple[Comment, int]] = [(c, 0) for c in reversed(children.get(None, []))]
    while stack:
        c, depth = stack.pop()
        if not shown.get(c.comment_id, False):
            continue
        reply_to = None
        if depth > MAX_DEPTH and c.parent_id in by_id:
            reply_to = by_id[c.parent_id].author
        entry = c if not gone(c) else replace(c, body="", mentions={})
        entries.append(ThreadEntry(entry, min(depth, MAX_DEPTH), gone(c), reply_to))
        for kid in reversed(children.get(c.comment_id, [])):
            stack.append((kid, depth + 1))
    return entries
