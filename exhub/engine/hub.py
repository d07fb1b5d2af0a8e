"""The hub: settings plus the catalog, contracts and Iceberg catalog they open, built lazily."""

from __future__ import annotations

import logging
import sys
from functools import cached_property

from exhub.contracts import ContractRegistry
from exhub.memory import use_system_allocator
from exhub.settings import Settings, load_settings


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a worker's child swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _show_logs(level: str) -> None:
    """Set exhub's log level; below WARNING its records are printed to stderr.

    Where nothing configured logging (the CLI) Python prints warnings and errors only, so
    ``log_level: INFO`` would show nothing more. Where something did (Airflow's task logs),
    its handlers show the records.
    """
    logger = logging.getLogger("exhub")
    logger.setLevel(level)
    shown = [h for h in logger.handlers if isinstance(h, _CurrentStderr)]
    unconfigured = not logging.getLogger().handlers
    if logger.level < logging.WARNING and unconfigured and not shown:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    elif logger.level >= logging.WARNING:
        for handler in shown:
            logger.removeHandler(handler)


class Hub:
    """Everything a command needs, opened on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        _show_logs(self.settings.log_level)
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
