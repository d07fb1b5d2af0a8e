"""Connector registry: entry points in the ``exhub.connectors`` group, imported lazily.

A connector whose optional driver is missing raises an error naming the extra to install,
as pyiceberg's catalog registry does.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector
from exhub.errors import ConfigError

ENTRY_POINT_GROUP = "exhub.connectors"


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_connectors() -> list[str]:
    """Names of every registered connector (nothing imported)."""
    return sorted(_entry_points())


def load_connector(name: str) -> type[Connector]:
    """Import and return the connector class registered as ``name``.

    Raises:
        ConfigError: unknown name, or its driver is not installed (names the extra).
    """
    eps = _entry_points()
    if name not in eps:
        raise ConfigError(
            f"unknown connector '{name}'",
            fix=f"use one of: {', '.join(available_connectors())}",
            key="connector",
        )
    try:
        cls = eps[name].load()
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"connector '{name}' needs the Python package '{exc.name}', which is not installed",
            fix=f"pip install 'exhub[{name}]'",
            key="connector",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"entry point '{name}' is not a Connector", key="connector")
    return cls
