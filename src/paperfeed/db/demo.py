"""The demo marker in the store: whether it holds the bundled demo, and the day that is as of.

`paperfeed init` sets it after loading the bundled data; an import that features papers of its
own, or `paperfeed init --no-sample`, clears it. Kept as one `ingest_state` row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from paperfeed.db.state import clear_state, load_state, save_state

_SOURCE, _KEY = "demo", "bundled"


def mark_demo(conn: Connection, *, as_of: dt.date) -> None:
    """Record that the store is the bundled demo, as of `as_of` (its latest curated day)."""
    save_state(conn, source=_SOURCE, key=_KEY, value={"as_of": as_of.isoformat()})


def demo_as_of(conn: Connection) -> dt.date | None:
    """The demo's "as of" day while the store is the demo, else None."""
    state = load_state(conn, source=_SOURCE, key=_KEY)
    if state is None:
        return None
    try:
        return dt.date.fromisoformat(str(state.get("as_of")))
    except ValueError:
        return None


def end_demo(conn: Connection) -> bool:
    """Forget the demo marker; False if there was none."""
    if load_state(conn, source=_SOURCE, key=_KEY) is None:
        return False
    clear_state(conn, source=_SOURCE, key=_KEY)
    return True
