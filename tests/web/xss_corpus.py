"""Hostile text for the XSS tests: every payload bumps `window.__xss` if it ever runs."""

from __future__ import annotations

import datetime as dt

from paperfeed.db.collections import create_collection, set_in_collection, update_item_note
from paperfeed.db.comments import add_comment
from paperfeed.db.feed import feature_papers
from paperfeed.db.papers import upsert_papers
from paperfeed.db.users import get_or_create_user, set_display_name
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


def plant(hub: Hub) -> int:
    """Store a paper, comment, reader name and public collection (with a note) made of payloads.

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
    return collection_id
