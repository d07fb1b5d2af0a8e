"""The catalog behaviour suite on SQLite (embedded default)."""

from __future__ import annotations

import pytest

from shared_catalog.testing import CatalogBehaviour

pytestmark = pytest.mark.unit


class TestSqliteCatalog(CatalogBehaviour):
    pass
