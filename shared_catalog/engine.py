"""Engines for the catalog database: SQLite (embedded) or PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential

from shared_catalog.errors import CatalogError

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_OPTION = "exhub_sqlite_begin"
"""Execution option choosing how a SQLite transaction begins: ``IMMEDIATE`` or ``DEFERRED``."""


def parse_url(url: str | URL) -> URL:
    """Parse and check a catalog URL.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///.exhub/catalog.db`` or
            ``postgresql+psycopg2://exhub@db:5432/exhub``.

    Returns:
        The parsed URL.

    Raises:
        CatalogError: If the URL cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogError(
            f"invalid catalog URL: {exc}",
            fix="set catalog to a SQLAlchemy URL such as sqlite:///.exhub/catalog.db",
        ) from exc
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        raise CatalogError(
            f"unsupported catalog database {parsed.get_backend_name()!r}",
            fix="use a sqlite:/// or postgresql+psycopg2:// URL",
            url=parsed.render_as_string(hide_password=True),
        )
    return parsed


def create_catalog_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine configured for the catalog.

    On SQLite every connection gets WAL journaling, a 30 s busy timeout and foreign keys, and
    transactions begin with ``BEGIN IMMEDIATE`` (take the write lock up front, so concurrent
    writers wait instead of failing on a lock upgrade) unless the engine's execution option
    ``exhub_sqlite_begin`` is ``DEFERRED``. The folder of a SQLite file is created if missing.

    Args:
        url: Catalog URL.
        **kwargs: Passed on to :func:`sqlalchemy.create_engine` (``poolclass``, ``echo``...).

    Returns:
        The engine.

    Raises:
        CatalogError: If the URL is invalid or names an unsupported database.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


@retry(
    retry=retry_if_exception_type(sqlite3.OperationalError),
    wait=wait_random_exponential(multiplier=0.02, max=0.5),
    stop=stop_after_delay(SQLITE_BUSY_TIMEOUT_MS / 1000),
    reraise=True,
)
def _enable_wal(cursor: Any) -> None:
    # Switching a new database to WAL ignores busy_timeout: "database is locked" comes back at
    # once when another connection is doing the same, so the switch is retried.
    cursor.execute("PRAGMA journal_mode=WAL")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    if mode not in ("IMMEDIATE", "DEFERRED"):
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be IMMEDIATE or DEFERRED, not {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")
