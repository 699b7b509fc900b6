"""Hostile text for the XSS tests: every payload bumps `window.__xss` if it ever runs."""

from __future__ import annotations

import datetime as dt

from paperfeed.db.collections import create_collection, set_in_collection, update_item_note
from paperfeed.db.comments import add_comment, record_mentions
from paperfeed.db.feed import feature_papers
from paperfeed.db.notifications import add_notifications
from paperfeed.db.papers import upsert_papers
from paperfeed.db.reports import add_report
from paperfeed.db.schema import utc_now
from paperfeed.db.users import Role, get_or_create_user, set_display_name, set_role
from paperfeed.hub import Hub
from paperfeed.models import Featuring, PaperRecord

RUN = "window.__xss++"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src=x onerror="{RUN}">',
    f"<svg onload={RUN}>",
    f"javascript:{RUN}",
    f'<a href="javascript:{RUN}">click</a>',
    f"</textarea><script>{RUN}</script>",
    f'"><script>{RUN}</script>',
    f"'><img src=x onerror={RUN}>",
    "$a<b$",
    f"$\\href{{javascript:{RUN}}}{{x}}$",
    "$\\htmlId{x}{y}$ <style>body{display:none}</style>",
    f'http://x.test/"onmouseover="{RUN}',
    f'<iframe srcdoc="<script>parent.{RUN}</script>"></iframe>',
]
ALL = " ".join(PAYLOADS)
PAPER_ID = "2603.66666"
DAY = dt.date(2026, 3, 20)  # the sample's last day, so the paper is on the home page


def plant(hub: Hub, reader: str | None = None) -> int:
    """Store a paper, comment, reader name and public collection (with a note) made of payloads;
    with `reader` (an address), also a comment of theirs that the hostile member replies to,
    mentioning them (a notification) and reports (a reason in the curators' queue).

    Returns the collection's id.
    """
    record = PaperRecord(
        paper_id=PAPER_ID,
        title=f"Attack $a<b$ {PAYLOADS[0]} {PAYLOADS[1]} {PAYLOADS[5]}",
        abstract=ALL,
        authors=(PAYLOADS[2], PAYLOADS[6], PAYLOADS[7]),
        categories=("cs.CR",),
        primary_category="cs.CR",
        comment=ALL,
        journal_ref=PAYLOADS[4],
        keywords=(PAYLOADS[1],),
    )
    with hub.db.write() as conn:
        upsert_papers(conn, [record])
        feature_papers(conn, [Featuring(PAPER_ID, DAY, "test", upvotes=10_000)])
        user = get_or_create_user(conn, "mallory@example.org")
        set_display_name(conn, user.user_id, PAYLOADS[6])
        add_comment(conn, PAPER_ID, user.user_id, ALL)
        collection_id = create_collection(
            conn, user.user_id, PAYLOADS[1], description=ALL, is_public=True
        )
        set_in_collection(conn, collection_id, user.user_id, PAPER_ID, present=True)
        update_item_note(conn, collection_id, user.user_id, PAPER_ID, note=ALL)
        if reader is not None:
            victim = get_or_create_user(conn, reader)
            mine = add_comment(conn, PAPER_ID, victim.user_id, "An honest question?")
            reply = add_comment(
                conn, PAPER_ID, user.user_id, f"@{victim.handle} {ALL}", parent_id=mine
            )
            assert victim.handle is not None
            record_mentions(conn, reply, {victim.handle: victim.user_id})
            add_notifications(
                conn,
                recipients={victim.user_id: "reply"},
                paper_id=PAPER_ID,
                comment_id=reply,
                actor_id=user.user_id,
                now=utc_now(),
            )
            add_report(conn, comment_id=mine, user_id=user.user_id, reason=ALL, now=utc_now())
            set_role(conn, victim.user_id, Role.CURATOR)  # so the reports queue shows too
    return collection_id
