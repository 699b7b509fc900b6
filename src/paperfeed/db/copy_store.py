"""Copy one whole store into another, SQLite to PostgreSQL or back (`paperfeed migrate-store`).

Every table of `db/schema.py` is copied in dependency order (parents before children), in
batches, with its ids as they are; afterwards PostgreSQL's id sequences are moved past the
copied ids. The source is read in one snapshot (a SQLite read transaction, a REPEATABLE READ
one on PostgreSQL) and the target is written in one transaction, so a copy that fails half-way
leaves the target as it was. Both stores must be at the same migration (the caller migrates the
target first). Search indexes are not in the store: they are rebuilt from it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Table, column, false, func, select, table
from sqlalchemy.engine import URL

from paperfeed.db.engine import Database
from paperfeed.db.migrate import current_revision
from paperfeed.db.schema import metadata

# Rows per INSERT batch: large enough to amortise round trips to PostgreSQL, small enough that
# a batch of papers with their abstracts (~2 KB each) or vectors (1.5 KB) stays a few MB.
BATCH_SIZE = 2_000

# Rows a freshly migrated store already holds: its own random secrets (m008 makes the digest
# link key). They are not content: the source's replace them, so its signed links stay valid.
MADE_BY_MIGRATIONS = frozenset({"site_keys"})

Progress = Callable[[str, int], None]
"""Called with a table's name and the rows just copied, after each batch."""


class StoreCopyError(Exception):
    """The copy cannot start; nothing was written."""


class TargetNotEmpty(StoreCopyError):
    """The target already holds rows (copying onto it needs `force`)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = {name: rows for name, rows in counts.items() if rows}
        listed = ", ".join(f"{name} ({rows:,})" for name, rows in self.counts.items())
        super().__init__(f"the target store is not empty: {listed}")


@dataclass(frozen=True)
class CopyReport:
    """Rows copied per table, in the order they were copied."""

    tables: dict[str, int] = field(default_factory=dict)
    emptied: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def copied_tables() -> list[Table]:
    """The tables a copy moves, parents before children (foreign keys point backwards)."""
    return list(metadata.sorted_tables)


def table_counts(db: Database) -> dict[str, int]:
    """Rows in each table of the schema, in copy order."""
    with db.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in copied_tables()
        }


def same_store(a: URL, b: URL) -> bool:
    """Whether two URLs name one database (one SQLite file, or one server's database)."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        if not a.database or not b.database or ":memory:" in (a.database, b.database):
            return False
        return Path(a.database).expanduser().resolve() == Path(b.database).expanduser().resolve()
    keys = ("host", "port", "database")
    return all(getattr(a, k) == getattr(b, k) for k in keys) and a.query == b.query


def copy_store(
    *,
    source: Database,
    target: Database,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every row of `source` into `target`, ids included, in one target transaction.

    Refuses (StoreCopyError) the same database on both sides and stores at different
    migrations, and (TargetNotEmpty) a target with rows unless `force`, which first empties it.
    The secrets a fresh store makes for itself (MADE_BY_MIGRATIONS) are always replaced.
    """
    if same_store(source.url, target.url):
        raise StoreCopyError("the source and the target are the same database")
    source_revision, target_revision = current_revision(source), current_revision(target)
    if source_revision != target_revision:
        raise StoreCopyError(
            f"the stores are at different migrations (source {source_revision}, target "
            f"{target_revision}): run `paperfeed migrate` on both"
        )
    tables = copied_tables()
    with _snapshot(source) as src, target.write() as dst:
        found = {
            t.name: dst.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        }
        content = {k: v for k, v in found.items() if k not in MADE_BY_MIGRATIONS}
        if any(content.values()) and not force:
            raise TargetNotEmpty(content)
        for t in reversed(tables):  # children first, so no foreign key is left dangling
            if found[t.name]:
                dst.execute(t.delete())
        copied: dict[str, int] = {}
        for t in tables:
            copied[t.name] = _copy_table(t, src, dst, batch_size=batch_size, progress=progress)
        if dst.dialect.name == "postgresql":
            for t in tables:
                _reset_sequence(dst, t)
    return CopyReport(tables=copied, emptied={k: v for k, v in content.items() if v})


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """One read transaction over the whole copy: a consistent snapshot of a live store."""
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _copy_table(
    source_table: Table,
    src: Connection,
    dst: Connection,
    *,
    batch_size: int,
    progress: Progress | None,
) -> int:
    columns = list(source_table.columns)
    json_columns = [c for c in columns if isinstance(c.type, JSON)]
    # SQL NULL and JSON `null` both read as None; ask which it was, so each is written back.
    is_null = [c.is_(None) for c in json_columns]
    query = select(*columns, *is_null).order_by(*source_table.primary_key.columns)
    insert = _writer(source_table).insert()
    total = 0
    result = src.execution_options(yield_per=batch_size).execute(query)
    for batch in result.partitions(batch_size):
        rows = []
        for row in batch:
            values = {c.name: row[i] for i, c in enumerate(columns)}
            for j, c in enumerate(json_columns):
                if values[c.name] is None and not row[len(columns) + j]:
                    values[c.name] = JSON.NULL
            rows.append(values)
        dst.execute(insert, rows)
        total += len(rows)
        if progress is not None:
            progress(source_table.name, len(rows))
    return total


def _writer(source_table: Table) -> Any:
    """The table to insert into: its JSON columns write None as SQL NULL, JSON.NULL as `null`."""
    return table(
        source_table.name,
        *(
            column(c.name, JSON(none_as_null=True) if isinstance(c.type, JSON) else c.type)
            for c in source_table.columns
        ),
    )


def _reset_sequence(dst: Connection, t: Table) -> None:
    """Move a PostgreSQL id sequence past the copied ids (the next insert gets max + 1)."""
    key = t.autoincrement_column
    if key is None:
        return
    sequence = func.pg_get_serial_sequence(t.name, key.name)
    highest = select(func.max(key)).scalar_subquery()
    dst.execute(select(func.setval(sequence, func.coalesce(highest, 0) + 1, false())))
