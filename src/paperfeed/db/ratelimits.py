"""Rate-limit counters in the store: fixed windows per bucket, shared by every worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.db.schema import rate_limits, utc_now

_SWEEP = dt.timedelta(days=1)


def hit_rate_limit(
    conn: Connection,
    bucket: str,
    *,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime | None = None,
) -> float:
    """Count one hit in a fixed window; return 0 if allowed, else seconds until it is.

    Kept in the store rather than in memory so every worker of a hub counts together.
    """
    now = now or utc_now()
    row = conn.execute(select(rate_limits).where(rate_limits.c.bucket == bucket)).first()
    if row is None or row.window_start <= now - window:
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(rate_limits).values(bucket=bucket, window_start=now, hits=1)
                    )
                    return 0.0
            except IntegrityError:  # another request opened the window first
                row = conn.execute(select(rate_limits).where(rate_limits.c.bucket == bucket)).one()
        else:
            conn.execute(
                update(rate_limits)
                .where(rate_limits.c.bucket == bucket)
                .values(window_start=now, hits=1)
            )
            # Sweep windows long closed (every limit's window is shorter than a day).
            conn.execute(delete(rate_limits).where(rate_limits.c.window_start < now - _SWEEP))
            return 0.0
    if row.hits >= limit:
        return max(1.0, float((row.window_start + window - now).total_seconds()))
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.bucket == bucket)
        .values(hits=rate_limits.c.hits + 1)
    )
    return 0.0
