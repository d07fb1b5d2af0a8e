"""Real PostgreSQL and MariaDB for the connector tests.

Each test session creates its own uniquely named database on each server (and a login whose
password needs URL-encoding) and drops them at the end. A server that is down is started.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

# Detailed assertion messages from the shared behaviour suite.
pytest.register_assert_rewrite("connectors.testing")

HOST = "127.0.0.1"
SECRET = "p@ss%2F/wörd"
"""A password that needs URL-encoding; it must never appear in errors, describe() or logs."""


@dataclass(frozen=True)
class Server:
    """One database created for this session."""

    kind: str  # "postgresql" or "mariadb"
    driver: str
    port: int
    database: str
    admin_url: str  # superuser, on the session's database
    user: str  # a login whose password is SECRET
    user_can_login: bool  # False where auth is "trust" (any password is accepted)

    def url(self, *, user: str | None = None, password: str | None = None, port: int = 0) -> str:
        """URL of the session database for ``user`` (default: the superuser)."""
        secret = f":{quote(password, safe='')}" if password is not None else ""
        who = user or ("postgres" if self.kind == "postgresql" else "root")
        query = "?charset=utf8mb4" if self.kind == "mariadb" else ""
        return f"{self.driver}://{who}{secret}@{HOST}:{port or self.port}/{self.database}{query}"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _ensure_running(port: int, command: list[str]) -> None:
    if _port_open(port):
        return
    subprocess.run(command, check=False, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.5)
    pytest.fail(f"no database server on {HOST}:{port}, and `{' '.join(command)}` did not start one")


def _autocommit(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[Server]:
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
    start = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1] if versions else "15"]
    _ensure_running(5432, [*start, "main", "start"])
    suffix = uuid.uuid4().hex[:10]
    name, user = f"exhub_it_{suffix}", f"exhub_leak_{suffix}"
    admin = _autocommit(f"postgresql+psycopg2://postgres@{HOST}:5432/postgres")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        conn.execute(sa.text(f'CREATE ROLE "{user}" LOGIN PASSWORD :p'), {"p": SECRET})
    server = Server(
        "postgresql", "postgresql+psycopg2", 5432, name, "", user, user_can_login=False
    )
    server = Server(**{**server.__dict__, "admin_url": server.url()})
    db = _autocommit(server.admin_url)
    with db.connect() as conn:
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}"'))
        conn.execute(
            sa.text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{user}"')
        )
    db.dispose()
    try:
        yield server
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{user}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[Server]:
    _ensure_running(
        3306,
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"],
    )
    suffix = uuid.uuid4().hex[:10]
    name, user = f"exhub_it_{suffix}", f"exhub_leak_{suffix}"
    admin = _autocommit(f"mysql+pymysql://root@{HOST}:3306/?charset=utf8mb4")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY :p"), {"p": SECRET})
        conn.execute(sa.text(f"GRANT SELECT ON `{name}`.* TO '{user}'@'%'"))
    server = Server("mariadb", "mysql+pymysql", 3306, name, "", user, user_can_login=True)
    server = Server(**{**server.__dict__, "admin_url": server.url()})
    try:
        yield server
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()
