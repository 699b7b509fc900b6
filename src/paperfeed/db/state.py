"""Ingest state in the store: high-water marks and resumption tokens, one row per source+key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from paperfeed.db.schema import ingest_state, utc_now


def load_state(conn: Connection, *, source: str, key: str) -> dict[str, Any] | None:
    """Return the stored state of one source and key, or None."""
    value = conn.scalar(
        select(ingest_state.c.value).where(
            ingest_state.c.source == source, ingest_state.c.key == key
        )
    )
    return dict(value) if value is not None else None


def save_state(conn: Connection, *, source: str, key: str, value: dict[str, Any]) -> None:
    """Store the state of one source and key, in the caller's transaction."""
    where = (ingest_state.c.source == source) & (ingest_state.c.key == key)
    result = conn.execute(
        ingest_state.update().where(where).values(value=value, updated_at=utc_now())
    )
    if result.rowcount == 0:
        conn.execute(
            ingest_state.insert().values(source=source, key=key, value=value, updated_at=utc_now())
        )


def clear_state(conn: Connection, *, source: str, key: str) -> None:
    """Forget the state of one source and key."""
    conn.execute(
        ingest_state.delete().where(ingest_state.c.source == source, ingest_state.c.key == key)
    )
