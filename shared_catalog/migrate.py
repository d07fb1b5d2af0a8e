"""Alembic migrations of the catalog, run in code (no ``alembic.ini``).

Our version table is ``exhub_alembic_version`` and autogenerate only looks at ``exhub_*``
tables, so pyiceberg's and Airflow's tables in the same database are never touched.

To write a new migration after changing ``models.py``::

    from alembic import command
    from shared_catalog.migrate import alembic_config
    command.revision(alembic_config("sqlite:///tmp/catalog.db"), "what changed", autogenerate=True)

(run it against a database upgraded to head), then review the generated file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from shared_catalog.columns import UtcDateTime
from shared_catalog.engine import create_catalog_engine
from shared_catalog.models import TABLE_PREFIX, Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Migrations are numbered ``NNNN_what.py`` with revision ``NNNN``, one after the other (a test
# holds Alembic's head to this), so the head is known without importing Alembic.
HEAD_REVISION = max(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("*_*.py"))
VERSION_TABLE = "exhub_alembic_version"
PG_MIGRATION_LOCK = 0x6578687562_0001
"""Key of the PostgreSQL advisory lock serialising concurrent upgrades ("exhub" + 1)."""


def alembic_config(url: str | URL) -> Config:
    """Build an Alembic configuration for the catalog without an ini file.

    Args:
        url: Catalog URL, used when Alembic is not handed an open connection.

    Returns:
        The configuration, with ``script_location`` set to the package's migrations.
    """
    from alembic.config import Config

    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % (e.g. in a quoted password) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Limit autogenerate to the catalog's own tables.

    Args:
        name: Name of the reflected object.
        type_: Kind of object (``table``, ``column``, ``index``...).
        _parent_names: Names of the enclosing schema/table, unused.

    Returns:
        False for tables that belong to someone else (pyiceberg, Airflow).
    """
    if type_ == "table":
        return bool(name) and name.startswith(TABLE_PREFIX) and name != VERSION_TABLE
    return True


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Render :class:`UtcDateTime` as a plain ``sa.DateTime`` in generated migrations.

    Args:
        type_: Kind of item being rendered.
        obj: The item.
        _autogen_context: Alembic's autogenerate context, unused.

    Returns:
        The source text, or False to let Alembic render the item.
    """
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options shared by ``env.py`` and :func:`schema_diff` for ``context.configure``.

    Args:
        dialect_name: ``sqlite`` or ``postgresql``.

    Returns:
        Keyword arguments for :meth:`alembic.runtime.environment.EnvironmentContext.configure`.
    """
    return {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "render_item": render_item,
        "compare_type": True,
        "render_as_batch": dialect_name == "sqlite",
    }


@contextmanager
def _connect(url: str | URL | Engine) -> Iterator[Connection]:
    """A connection to the catalog; an engine made here for a URL is disposed afterwards."""
    engine = url if isinstance(url, Engine) else create_catalog_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        if engine is not url:
            engine.dispose()


@contextmanager
def migration_connection(url: str | URL | Engine) -> Iterator[Connection]:
    """Open a connection in a transaction that no other migration runs alongside.

    PostgreSQL: an advisory transaction lock, and DDL is transactional, so a second process
    waits and then finds the schema at head. SQLite: ``BEGIN IMMEDIATE`` holds the write lock
    for the whole upgrade (other writers wait up to the busy timeout), and foreign keys are
    switched off meanwhile, as batch migrations that copy tables require.

    Args:
        url: Catalog URL, or an engine made by :func:`create_catalog_engine`.

    Yields:
        The connection; the transaction commits when the block exits without error.
    """
    with _connect(url) as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")  # no-op inside a transaction
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK}
                    )
                yield connection
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")


def upgrade_catalog(url: str | URL | Engine) -> None:
    """Upgrade the catalog schema to the newest migration; idempotent.

    Safe when several processes call it at once (see :func:`migration_connection`). A catalog
    already at head costs one query: every exhub command calls this, and Alembic's import and
    script loading took 0.4 s of each one.

    Args:
        url: Catalog URL, or an engine made by :func:`create_catalog_engine`.
    """
    if _at_head(url):
        return
    from alembic import command

    with migration_connection(url) as connection:
        config = alembic_config(connection.engine.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _at_head(url: str | URL | Engine) -> bool:
    with _connect(url) as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return versions.scalars().all() == [HEAD_REVISION]


def current_revision(url: str | URL | Engine) -> str | None:
    """Return the migration the catalog is at, or None if it was never migrated.

    Args:
        url: Catalog URL, or an engine.

    Returns:
        The revision id, e.g. ``"0001"``.
    """
    from alembic.runtime.migration import MigrationContext

    with _connect(url) as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def schema_diff(url: str | URL | Engine) -> list[Any]:
    """Compare the database with the models, as ``alembic revision --autogenerate`` would.

    Args:
        url: Catalog URL, or an engine.

    Returns:
        Alembic's list of differences; empty when the migrations match the models.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with _connect(url) as connection:
        options = context_options(connection.dialect.name)
        metadata = options.pop("target_metadata")
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))
