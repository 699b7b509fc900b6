"""A real PostgreSQL server for the tests: started once per session, torn down at its end.

It runs Debian's PostgreSQL binaries (`make test` installs the `postgresql` package with apt
where it is missing) on a fresh data folder under /tmp, reachable only through a unix socket in
that folder (no TCP listener at all). PostgreSQL refuses to run as root, so under root, as in CI,
initdb and the server run as the `postgres` system user that the Debian package creates.
Durability is switched off (fsync, synchronous_commit): a crash only loses a test server.

With PAPERFEED_TEST_POSTGRES_URL set (any database on a server where that role may CREATE
DATABASE), that server is used instead and nothing is started.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "PAPERFEED_TEST_POSTGRES_URL"
SYSTEM_USER = "postgres"  # created by Debian's postgresql-common; used when we are root
PORT = 5432  # only names the socket file in our own folder: no TCP port is opened


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's versioned folders first, then PATH."""

    def major(path: str) -> int:
        found = re.search(r"/postgresql/(\d+)/bin", path)
        return int(found.group(1)) if found else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=major, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(on_path)
    for pg_ctl in candidates:
        bindir = Path(pg_ctl).resolve().parent
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    return None


@dataclass
class PostgresServer:
    """A server whose `admin_url` may create and drop databases; `url(name)` names one of them."""

    admin_url: URL
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        params = self.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(params, autocommit=True)

    def create_database(self) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        name = f"paperfeed_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        assert name in self.created, "only databases made here are dropped"
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self.created.remove(name)


class LocalServer:
    """initdb + pg_ctl on a temporary folder; the socket lives in the same folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Under /tmp: a short socket path (unix sockets allow ~100 bytes) that the postgres user
        # can reach, whatever TMPDIR says.
        self.root = Path(tempfile.mkdtemp(prefix="paperfeed-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                pytest.fail(f"running as root needs the {SYSTEM_USER!r} user: install postgresql")
            self.as_user = SYSTEM_USER
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.as_user,
            cwd=self.root,  # the postgres user may not be allowed into the checkout
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stderr}{done.stdout}{log}")

    def start(self) -> URL:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = " ".join(
            [
                "-c listen_addresses=''",  # no TCP: the unix socket below only
                f"-c unix_socket_directories={self.root}",
                f"-c port={PORT}",  # names the socket file; fixed so PGPORT cannot move it
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
            ]
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            port=PORT,
            database="postgres",
            query={"host": str(self.root)},
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The given server, or a local one for the session (started only when a test asks)."""
    given = os.environ.get(ENV_URL)
    if given:
        server = PostgresServer(make_url(given))
        try:
            yield server
        finally:
            for name in list(server.created):
                server.drop_database(server.url(name))
        return
    bindir = find_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL is missing: run `make postgresql` (apt-get install postgresql), "
            f"or set {ENV_URL} to a server of yours"
        )
    local = LocalServer(bindir)
    try:
        yield PostgresServer(local.start())
    finally:
        local.stop()


@pytest.fixture(scope="module")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test module, dropped after it."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
