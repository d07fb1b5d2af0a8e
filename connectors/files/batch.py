"""Accumulate text rows and rejects into bounded Arrow batches; name columns from a header.

Shared by the file connectors (CSV, fixed-width, Excel): every column is text (the conform
stage casts), ``_source_position`` comes last, rejects use ``REJECT_SCHEMA``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyarrow as pa

from connectors.base import POSITION_COLUMN, REJECT_SCHEMA, ExtractBatch

log = logging.getLogger(__name__)


def header_names(fields: Sequence[str], position: str) -> list[str]:
    """Header names stripped of blanks and BOM; empty ones numbered, duplicates suffixed.

    Args:
        fields: the header's cells, in order.
        position: where the header is, for the log line about a renamed duplicate.

    Returns:
        list[str]: one unique, non-empty name per field, never ``POSITION_COLUMN``.
    """
    names: list[str] = []
    for i, field in enumerate(fields, start=1):
        name = field.strip().lstrip("\ufeff").strip() or f"column_{i}"
        if name in names or name == POSITION_COLUMN:
            taken = {*names, POSITION_COLUMN}
            unique = next(
                f"{name}_{n}" for n in range(2, len(fields) + 3) if f"{name}_{n}" not in taken
            )
            log.warning(
                "%s: column %d renamed from %r to %r (duplicate)", position, i, name, unique
            )
            name = unique
        names.append(name)
    return names


class RowBatch:
    """Accumulates rows of text columns and rejects until ``size`` of them are pending.

    Attributes:
        size: most rows (records plus rejects) per batch.
        columns: the column names, or None until they are known (e.g. before a header).
    """

    def __init__(self, size: int, columns: Sequence[str] | None = None) -> None:
        self.size = size
        self.columns: list[str] | None = None
        self.values: list[list[str | None]] = []
        self.positions: list[str] = []
        self.rejects: list[tuple[str, str, str]] = []
        if columns is not None:
            self.set_columns(list(columns))

    def set_columns(self, columns: list[str]) -> None:
        """Name the columns (before the first row)."""
        self.columns = columns
        self.values = [[] for _ in columns]

    def add(self, fields: Sequence[str | None], position: str) -> None:
        """Add one row with one value per column."""
        for column, value in zip(self.values, fields, strict=True):
            column.append(value)
        self.positions.append(position)

    def reject(self, position: str, raw: str, reason: str) -> None:
        """Add one record that could not be read."""
        self.rejects.append((position, raw, reason))

    @property
    def pending(self) -> int:
        """Rows and rejects not yet flushed."""
        return len(self.positions) + len(self.rejects)

    @property
    def full(self) -> bool:
        """Whether the batch holds ``size`` rows and rejects."""
        return self.pending >= self.size

    def flush(self) -> ExtractBatch:
        """The pending rows and rejects as one batch; the builder starts empty again."""
        columns = self.columns or []
        batch = text_batch(columns, self.values, self.positions, self.rejects)
        self.values = [[] for _ in columns]
        self.positions, self.rejects = [], []
        return batch


def text_batch(
    names: Sequence[str],
    values: Sequence[Sequence[str | None]],
    positions: Sequence[str],
    rejects: Sequence[tuple[str, str, str]],
) -> ExtractBatch:
    """An ``ExtractBatch`` of text columns, ``_source_position`` last, and rejects.

    Args:
        names: the column names.
        values: one sequence of values per column, each as long as ``positions``.
        positions: each row's position.
        rejects: (position, raw, reason) of each record that could not be read.

    Returns:
        ExtractBatch: the records and, when there are any, the rejects.
    """
    schema = pa.schema(
        [pa.field(name, pa.string()) for name in names]
        + [pa.field(POSITION_COLUMN, pa.string(), nullable=False)]
    )
    arrays = [pa.array(column, pa.string()) for column in values]
    records = pa.RecordBatch.from_arrays([*arrays, pa.array(positions, pa.string())], schema=schema)
    table = None
    if rejects:
        table = pa.table(
            [pa.array(list(column), pa.string()) for column in zip(*rejects, strict=True)],
            schema=REJECT_SCHEMA,
        )
    return ExtractBatch(records, table)
