"""Alembic environment of the catalog.

Normally run by ``shared_catalog.migrate.upgrade_catalog``, which hands over an open
connection (``config.attributes["connection"]``) already holding the migration lock. Run
without one (e.g. ``command.revision(..., autogenerate=True)``), it opens its own.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from shared_catalog.migrate import context_options, migration_connection

config = context.config


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(dialect_name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **context_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    with migration_connection(url) as connection:
        run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
