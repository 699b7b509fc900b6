"""The Database handle: engine, SQLite pragmas, read and write transactions, backup."""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry


class Database:
    """One store, SQLite (the embedded default) or PostgreSQL, chosen by its URL."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, future=True)
        # A handle dropped without dispose() (a CLI command's hub) still closes its pooled
        # connections, instead of leaving them to the garbage collector (and the server).
        weakref.finalize(self, _dispose_in_owner, os.getpid(), self.engine)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms)
        elif self.engine.dialect.name == "postgresql":
            _configure_postgresql(self.engine, busy_timeout_ms)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(url, **kwargs)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; its implicit transaction is rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self, *, store_lock: bool = True) -> Iterator[Connection]:
        """A write transaction; writers queue instead of failing (BEGIN IMMEDIATE on SQLite,
        a transaction-scoped advisory lock on PostgreSQL).

        `store_lock=False` (PostgreSQL only; SQLite has one writer anyway) skips the store-wide
        lock, for short writes whose rows are already this writer's alone and whose statements
        cannot collide with anyone's: the digest ledger's claims (SKIP LOCKED) and the outcomes
        of the rows it claimed. Concurrent senders then commit side by side instead of in turn.
        """
        with self.engine.connect() as conn:
            conn = conn.execution_options(paperfeed_immediate=True, paperfeed_store_lock=store_lock)
            with conn.begin():
                yield conn

    def conninfo(self) -> str:
        """The libpq URL of a PostgreSQL store, for clients other than SQLAlchemy (the job
        queue of the PostgreSQL engine)."""
        if self.is_sqlite:
            raise ValueError("a SQLite store has no libpq connection string")
        plain = self.url.set(drivername="postgresql")
        return plain.render_as_string(hide_password=False)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic."""
        from paperfeed.db.migrate import upgrade

        upgrade(self, revision)

    def backup(self, target: Path) -> None:
        """Copy the live database to `target` with SQLite's online backup API."""
        if not self.is_sqlite:
            raise NotImplementedError(
                "paperfeed backup copies SQLite databases; for PostgreSQL use pg_dump"
            )
        target = target.expanduser().resolve()
        if target.exists():
            raise FileExistsError(f"{target} exists; choose a new file")
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = self.engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            dest = sqlite3.connect(target)
            try:
                # Pages are copied in steps so writers are not blocked for the whole copy.
                source.backup(dest, pages=1024)
            finally:
                dest.close()
        finally:
            raw.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _dispose_in_owner(pid: int, engine: Engine) -> None:
    # Never in a forked child (digest senders): closing inherited connections there would end
    # the parent's PostgreSQL sessions or drop its SQLite file locks.
    if os.getpid() == pid:
        engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot issue BEGIN IMMEDIATE, so we
    # take it over, as the SQLAlchemy docs recommend ("Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL is crash-safe (no corruption); a power cut may lose the last commit.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("paperfeed_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


# Any constant works: advisory locks are per database, so only writers of one store meet.
_WRITER_LOCK = 0x7061706572  # "paper"


def _configure_postgresql(engine: Engine, busy_timeout_ms: int) -> None:
    # The store's writes read, merge and insert (upserts, savepoint races): on SQLite BEGIN
    # IMMEDIATE makes writers take turns, so two imports of the same paper never collide. The
    # same one-writer lock here keeps that true on PostgreSQL (reads never wait for it), with
    # the busy timeout as its wait limit, after which the write fails as on SQLite.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("paperfeed_immediate") and options.get("paperfeed_store_lock", True):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(busy_timeout_ms)}")
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITER_LOCK})")
            conn.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
