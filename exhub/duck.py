"""DuckDB connections that never reach the network.

DuckDB downloads a missing extension on first use unless told not to; exhub connects nowhere
but its sources, catalog and warehouse, so every connection is opened here.
"""

from __future__ import annotations

from typing import Any

import duckdb

from exhub.forking import native_threads_started

OFFLINE: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def connect(database: str = ":memory:", **config: Any) -> duckdb.DuckDBPyConnection:
    """An in-memory (or file) DuckDB connection with extension downloads switched off."""
    native_threads_started("DuckDB")  # its thread pool outlives the connection
    connection = duckdb.connect(database, config=OFFLINE | config)
    connection.execute("SET enable_progress_bar = false")
    return connection
