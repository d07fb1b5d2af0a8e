"""Where the suite's legacy database lives and what it is called."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "exhub_bench")

# The legacy table (N rows), the smaller table for the memory-scaling point, and the
# backup of rows the incremental rounds change (restored afterwards).
TABLE = "rk_jbxx"
SMALL_TABLE = "rk_jbxx_small"
BACKUP_TABLE = "rk_jbxx_backup"
INSERTED_TABLE = "rk_jbxx_inserted"

SOURCE_ID = "gaj_rkxx"
SMALL_SOURCE_ID = "gaj_rkxx_small"
DATASET = "person_registry"


def dsn(database: str = PG_DATABASE) -> str:
    """Libpq connection string (no password: the local server trusts ``postgres``)."""
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={database}"


def pg_uri(database: str = PG_DATABASE) -> str:
    """``postgresql://`` URI for ADBC, connectorx and dlt."""
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def sqlalchemy_url(database: str = PG_DATABASE) -> str:
    """SQLAlchemy URL as a source file writes it."""
    return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
