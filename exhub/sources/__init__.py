"""Source-system configuration."""

from exhub.sources.loader import (
    config_hash,
    discover_sources,
    find_source,
    load_source,
    source_path,
)
from exhub.sources.models import FieldMapping, SourceConfig, StreamConfig

__all__ = [
    "FieldMapping",
    "SourceConfig",
    "StreamConfig",
    "config_hash",
    "discover_sources",
    "find_source",
    "load_source",
    "source_path",
]
