"""Digest manage links (issue #9): the store keeps no usable token, links mailed before m008
keep working after it, and a signed link is refused once tampered with."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import insert, select

from paperfeed.db import Database
from paperfeed.db.digests import add_subscriber, get_subscriber, list_subscribers
from paperfeed.db.schema import subscribers

NOW = dt.datetime(2026, 3, 20, 8, 0)


def _old_row(conn: object, *, email: str, token: str) -> None:
    """A subscriber as m007 wrote it: the manage token in plain text."""
    conn.execute(  # type: ignore[attr-defined]
        insert(subscribers).values(
            email=email,
            status="active",
            frequency="daily",
            weekday=0,
            top_n=10,
            categories=[],
            searches=[],
            personal=True,
            max_papers=20,
            send_empty=False,
            paused=False,
            token=token,
            confirmed_at=NOW,
            hard_bounces=0,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def test_m008_hashes_old_tokens_in_place_and_old_links_keep_working(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("m007")
    with db.write() as conn:
        _old_row(conn, email="ada@example.org", token="old-token_from-a-mail0")
        _old_row(conn, email="bob@example.org", token="another-old-token-xyz1")
    db.migrate()
    with db.read() as conn:
        stored = set(conn.scalars(select(subscribers.c.token)))
        ada = get_subscriber(conn, token="old-token_from-a-mail0")
        bob = get_subscriber(conn, token="another-old-token-xyz1")
        nobody = get_subscriber(conn, token=hashlib.sha256(b"old-token_from-a-mail0").hexdigest())
    assert stored == {
        hashlib.sha256(b"old-token_from-a-mail0").hexdigest(),
        hashlib.sha256(b"another-old-token-xyz1").hexdigest(),
    }
    assert ada is not None and ada.email == "ada@example.org"
    assert bob is not None and bob.email == "bob@example.org"
    assert nobody is None  # the stored hash is no link
    # New mails carry signed links, which find the same subscriber.
    with db.read() as conn:
        again = get_subscriber(conn, token=ada.token)
    assert again is not None and again.subscriber_id == ada.subscriber_id
    db.dispose()


def test_the_store_holds_no_link_token_and_signed_links_resist_tampering(db: Database) -> None:
    with db.write() as conn:
        made, _ = add_subscriber(conn, email="cy@example.org", now=NOW, confirmed=True)
        other, _ = add_subscriber(conn, email="di@example.org", now=NOW, confirmed=True)
    with db.read() as conn:
        rows = [tuple(str(v) for v in row) for row in conn.execute(select(subscribers))]
        listed = {s.email: s.token for s in list_subscribers(conn)}
        found = get_subscriber(conn, token=made.token)
        number, _, mac = made.token.partition(".")
        swapped = get_subscriber(conn, token=f"{other.subscriber_id}.{mac}")
        flipped = get_subscriber(conn, token=f"{number}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}")
    assert listed["cy@example.org"] == made.token  # stable: every mail carries the same link
    assert not any(made.token in value or mac in value for row in rows for value in row)
    assert found is not None and found.email == "cy@example.org"
    assert swapped is None and flipped is None
