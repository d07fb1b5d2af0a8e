"""The hub: settings plus the catalog, contracts and Iceberg catalog they open, built lazily."""

from __future__ import annotations

import logging
from functools import cached_property

from exhub.contracts import ContractRegistry
from exhub.memory import use_system_allocator
from exhub.settings import Settings, load_settings


class Hub:
    """Everything a command needs, opened on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        logging.getLogger("exhub").setLevel(self.settings.log_level)
        use_system_allocator()

    @cached_property
    def repository(self):
        """The catalog repository (schema migrated on first use)."""
        from shared_catalog import CatalogRepository

        self.settings.state_path.mkdir(parents=True, exist_ok=True)
        repository = CatalogRepository(self.settings.catalog_url)
        repository.ensure_schema()
        return repository

    @cached_property
    def contracts(self) -> ContractRegistry:
        """Shared schemas."""
        return ContractRegistry(self.settings.schemas_path)

    @cached_property
    def iceberg(self):
        """Pyiceberg SQL catalog on the same database."""
        from exhub.publish import open_catalog

        self.repository  # noqa: B018 - the catalog database must exist first
        return open_catalog(self.settings.catalog_url, str(self.settings.warehouse_path))
