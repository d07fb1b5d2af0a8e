"""Connector plugins: each reads one kind of legacy system into Arrow record batches."""

from connectors.base import (
    POSITION_COLUMN,
    REJECT_SCHEMA,
    Capability,
    Connector,
    ExtractBatch,
    KeyPositions,
    ReadRequest,
)
from connectors.registry import available_connectors, load_connector

__all__ = [
    "POSITION_COLUMN",
    "REJECT_SCHEMA",
    "Capability",
    "Connector",
    "ExtractBatch",
    "KeyPositions",
    "ReadRequest",
    "available_connectors",
    "load_connector",
]
