"""Map one source batch onto a shared schema: rename, normalize, code maps, casts, semantics.

Everything is vectorized over Arrow arrays; nothing loops per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import POSITION_COLUMN
from exhub.conform.expressions import parse_expression
from exhub.conform.types import arrow_type, cast_values
from exhub.contracts.models import Contract, FieldSpec
from exhub.errors import ConfigError
from exhub.semantic import SEMANTIC_TYPES, normalize_text
from exhub.sources.models import FieldMapping, StreamConfig


@dataclass(frozen=True)
class RuleFailure:
    """Rows of one batch that failed one rule (``mask`` is True where the row failed)."""

    rule_id: str
    reason: str
    mask: pa.Array


@dataclass(frozen=True)
class ConformedBatch:
    """A batch in the shared schema, with the failures found on the way.

    Attributes:
        values: contract columns; unreadable values are null.
        failures: one entry per rule with at least one failing row.
        raw: the source columns the mapping read, as the source typed them (rendered as text
            only for the rows that go to quarantine: the few, not the many).
        positions: where each row came from.
    """

    values: pa.Table
    failures: list[RuleFailure]
    raw: pa.Table
    positions: pa.Array


class Conformer:
    """Applies one stream's mapping to batches of that stream."""

    def __init__(self, contract: Contract, stream: StreamConfig, *, where: str, timezone: str):
        self.contract = contract
        self.stream = stream
        self.where = where
        self.timezone = timezone
        unknown = sorted(set(stream.mapping) - {f.name for f in contract.fields})
        if unknown:
            raise ConfigError(
                f"{where}: mapping names fields {unknown} that {contract.ref} does not have",
                fix=f"map only: {', '.join(f.name for f in contract.fields)}",
                key=f"streams.{stream.name}.mapping.{unknown[0]}",
            )
        unmapped_required = [
            f.name for f in contract.fields if f.required and f.name not in stream.mapping
        ]
        if unmapped_required:
            raise ConfigError(
                f"{where}: required fields {unmapped_required} of {contract.ref} are not mapped",
                fix="add a mapping with 'from' or 'default' for each",
                key=f"streams.{stream.name}.mapping",
            )
        self.source_columns = sorted(
            {column for m in stream.mapping.values() for column in m.source_columns}
        )
        self.expressions = {
            target: parse_expression(m.expr)
            for target, m in stream.mapping.items()
            if m.expr is not None
        }

    def check_columns(self, schema: pa.Schema) -> None:
        """Fail fast, naming the mapping key, when a mapped source column is absent."""
        present = set(schema.names)
        for target, mapping in self.stream.mapping.items():
            missing = [c for c in mapping.source_columns if c not in present]
            if missing:
                raise ConfigError(
                    f"{self.where}: mapping '{target}' reads column '{missing[0]}', which "
                    f"'{self.stream.source}' does not have",
                    fix=f"use one of: {', '.join(n for n in schema.names if n != POSITION_COLUMN)}",
                    key=f"streams.{self.stream.name}.mapping.{target}",
                )

    def conform(self, batch: pa.RecordBatch) -> ConformedBatch:
        """Conform one batch."""
        length = batch.num_rows
        columns: dict[str, pa.Array] = {}
        failures: list[RuleFailure] = []
        for spec in self.contract.fields:
            mapping = self.stream.mapping.get(spec.name)
            if mapping is None:
                columns[spec.name] = pa.nulls(length, arrow_type(spec.type))
                continue
            value, field_failures = self._field(batch, spec, mapping, length)
            columns[spec.name] = value
            failures.extend(f for f in field_failures if pc.any(f.mask).as_py())
        raw = pa.table({name: batch.column(name) for name in self.source_columns})
        return ConformedBatch(
            values=pa.table(columns),
            failures=failures,
            raw=raw,
            positions=batch.column(POSITION_COLUMN),
        )

    def _field(
        self, batch: pa.RecordBatch, spec: FieldSpec, mapping: FieldMapping, length: int
    ) -> tuple[pa.Array, list[RuleFailure]]:
        failures = []
        if mapping.from_ is not None:
            value = batch.column(mapping.from_)
            if isinstance(value, pa.ChunkedArray):
                value = value.combine_chunks()
        elif spec.name in self.expressions:
            value = self.expressions[spec.name].evaluate(batch)
        else:
            value = pa.nulls(length, pa.string())
        if mapping.normalize and (
            pa.types.is_string(value.type) or pa.types.is_large_string(value.type)
        ):
            value = normalize_text(value)
        if mapping.default is not None:
            default = (
                pa.scalar(str(mapping.default)) if _is_text(value) else pa.scalar(mapping.default)
            )
            if pa.types.is_null(value.type):
                value = pa.array([mapping.default] * length)
            else:
                value = pc.fill_null(value, pc.cast(default, value.type))
        if mapping.map is not None:
            value, unmapped = _map_codes(value, mapping)
            if unmapped is not None:
                failures.append(
                    RuleFailure(
                        f"{spec.name}.map",
                        f"{spec.name}: code value not in the mapping's code list",
                        unmapped,
                    )
                )
        value, unreadable = cast_values(
            value, spec.type, date_formats=mapping.date_formats, timezone=self.timezone
        )
        failures.append(
            RuleFailure(
                f"{spec.name}.type", f"{spec.name}: value cannot be read as {spec.type}", unreadable
            )
        )
        if spec.semantic is not None:
            result = SEMANTIC_TYPES[spec.semantic.value](value)
            failures.append(
                RuleFailure(
                    f"{spec.name}.{spec.semantic.value}",
                    f"{spec.name}: {result.reason}",
                    pc.invert(result.valid),
                )
            )
            value = result.values
        return value, failures


def _is_text(array: pa.Array) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any Arrow column as text (values Arrow cannot cast are rendered one by one)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if _is_text(array):
        return array
    try:
        return pc.cast(array, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())


def _map_codes(value: pa.Array, mapping: FieldMapping) -> tuple[pa.Array, pa.Array | None]:
    assert mapping.map is not None
    text = as_text(value)
    keys = pa.array(list(mapping.map.keys()), pa.string())
    targets = pa.array(list(mapping.map.values()), pa.string())
    index = pc.index_in(text, value_set=keys)
    mapped = pc.take(targets, index)
    found = pc.is_valid(index)
    unmapped_mask = pc.and_(pc.is_valid(text), pc.invert(found))
    if mapping.map_unmapped == "keep":
        return pc.if_else(found, mapped, text), None
    if mapping.map_unmapped == "null":
        return mapped, None
    return mapped, unmapped_mask
