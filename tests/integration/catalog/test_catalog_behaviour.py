"""The catalog behaviour suite on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC

import pytest

from shared_catalog import CatalogRepository
from shared_catalog.testing import START, CatalogBehaviour, StepClock

pytestmark = pytest.mark.integration


class TestCatalog(CatalogBehaviour):
    pass


def test_postgres_session_zone_does_not_leak(postgres_database: str) -> None:
    """Timestamps read in a Asia/Shanghai session still come back in UTC."""
    options = {"connect_args": {"options": "-c timezone=Asia/Shanghai"}}
    with CatalogRepository(postgres_database, clock=StepClock(), **options) as repo:
        repo.ensure_schema()
        repo.upsert_department("civil", "民政局")
        repo.upsert_source_system("civil_marriage", "civil", "婚姻登记", "sql", None, 2, "h")
        stored = repo.get_source_system("civil_marriage")
    assert stored is not None
    assert stored.updated_at == START
    assert stored.updated_at.tzinfo is UTC
