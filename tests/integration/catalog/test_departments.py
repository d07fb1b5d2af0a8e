"""A department named only as a contract's owner never renames one a source file describes."""

from __future__ import annotations

import pytest

from shared_catalog import CatalogRepository

pytestmark = pytest.mark.integration


def test_ensure_department_adds_but_never_renames(catalog_url: str) -> None:
    with CatalogRepository(catalog_url) as repo:
        repo.ensure_schema()
        repo.upsert_department("market_regulation", "合肥市市场监督管理局")
        kept = repo.ensure_department("market_regulation", "market_regulation")
        added = repo.ensure_department("tax_bureau", "tax_bureau")
        assert kept.name_zh == "合肥市市场监督管理局"
        assert added.name_zh == "tax_bureau"
        assert [d.id for d in repo.list_departments()] == ["market_regulation", "tax_bureau"]
        renamed = repo.upsert_department("tax_bureau", "国家税务总局合肥市税务局")
        assert renamed.name_zh == "国家税务总局合肥市税务局"
