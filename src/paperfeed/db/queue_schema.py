"""Procrastinate's own schema (the job queue of the PostgreSQL engine, docs/daily-loop.md):
its SQL as the installed library ships it, the objects it creates, and the filter that keeps
them out of the comparison between the store and db/schema.py (they are not paperfeed's).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

PREFIX = "procrastinate_"
QUEUE = "paperfeed"  # the one queue of the daily loop's jobs (loop/queue.py)


def schema_sql() -> str:
    """The SQL that creates Procrastinate's tables, types, functions and triggers."""
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def created_objects(sql: str) -> dict[str, list[str]]:
    """The tables, types and functions `sql` creates, by kind, in order of creation."""
    found: dict[str, list[str]] = {"TABLE": [], "TYPE": [], "FUNCTION": []}
    for kind, name in re.findall(r"^CREATE (TABLE|TYPE|FUNCTION) (\w+)", sql, re.MULTILINE):
        found[kind].append(name)
    return found


def drop_sql(sql: str) -> list[str]:
    """Statements that remove what `sql` created: tables (and their triggers), then functions,
    then types."""
    objects = created_objects(sql)
    return [
        *(f"DROP TABLE IF EXISTS {name} CASCADE" for name in reversed(objects["TABLE"])),
        *(f"DROP FUNCTION IF EXISTS {name} CASCADE" for name in reversed(objects["FUNCTION"])),
        *(f"DROP TYPE IF EXISTS {name} CASCADE" for name in reversed(objects["TYPE"])),
    ]


def is_paperfeeds(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: compare everything but Procrastinate's objects."""
    return not (name or "").startswith(PREFIX)


def queue_counts(conn: Connection, *, alive_within_s: float, queue: str = QUEUE) -> dict[str, int]:
    """The job queue at a glance: workers that beat within `alive_within_s`, and the jobs of
    `queue` waiting, running and failed (PostgreSQL only; for `paperfeed status`)."""
    workers = conn.execute(
        text(
            "SELECT count(*) FROM procrastinate_workers"
            " WHERE last_heartbeat >= now() - make_interval(secs => :seconds)"
        ),
        {"seconds": alive_within_s},
    ).scalar_one()
    by_status: dict[str, int] = dict(
        conn.execute(
            text(
                "SELECT status::text, count(*) FROM procrastinate_jobs"
                " WHERE queue_name = :queue GROUP BY status"
            ),
            {"queue": queue},
        ).all()
    )
    return {
        "workers": int(workers),
        "waiting": int(by_status.get("todo", 0)),
        "running": int(by_status.get("doing", 0)),
        "failed": int(by_status.get("failed", 0)),
    }
