"""Row rules from the contract: required, pattern, value set, range. Vectorized."""

from __future__ import annotations

import datetime as dt
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc

from exhub.conform.conformer import ConformedBatch, RuleFailure
from exhub.contracts.models import Contract, FieldSpec


def row_rule_ids(contract: Contract) -> list[str]:
    """Every row rule id the contract implies, in field order (for reports)."""
    ids = []
    for spec in contract.fields:
        ids.append(f"{spec.name}.type")
        if spec.semantic is not None:
            ids.append(f"{spec.name}.{spec.semantic.value}")
        if spec.required:
            ids.append(f"{spec.name}.required")
        if spec.pattern:
            ids.append(f"{spec.name}.pattern")
        if spec.values:
            ids.append(f"{spec.name}.values")
        if spec.range:
            ids.append(f"{spec.name}.range")
    return ids


def apply_row_rules(contract: Contract, batch: ConformedBatch) -> list[RuleFailure]:
    """All failures of a conformed batch: the conform stage's plus the contract's row rules."""
    failures = list(batch.failures)
    by_field: dict[str, list[pa.Array]] = {}
    for failure in failures:
        by_field.setdefault(failure.rule_id.split(".", 1)[0], []).append(failure.mask)
    for spec in contract.fields:
        column = batch.values.column(spec.name).combine_chunks()
        for rule_id, reason, mask in _field_rules(spec, column, by_field.get(spec.name, [])):
            mask = pc.fill_null(mask, False)
            if pc.any(mask).as_py():
                failures.append(RuleFailure(rule_id, reason, mask))
    return failures


def _field_rules(spec: FieldSpec, column: pa.Array, earlier: list[pa.Array]):
    if spec.required:
        already = reduce(pc.or_, earlier) if earlier else None
        missing = pc.is_null(column)
        if already is not None:
            # A value nulled because it was unreadable is reported once, by its real cause.
            missing = pc.and_(missing, pc.invert(already))
        yield f"{spec.name}.required", f"{spec.name}: required value is missing", missing
    if spec.pattern and pa.types.is_string(column.type):
        matches = pc.match_substring_regex(column, spec.pattern)
        yield (
            f"{spec.name}.pattern",
            f"{spec.name}: does not match pattern {spec.pattern}",
            pc.invert(matches),
        )
    if spec.values:
        allowed = pa.array(spec.values, pa.string())
        inside = pc.is_in(pc.cast(column, pa.string()), value_set=allowed)
        yield (
            f"{spec.name}.values",
            f"{spec.name}: not one of {', '.join(spec.values)}",
            pc.and_(pc.is_valid(column), pc.invert(inside)),
        )
    if spec.range:
        outside = _outside_range(spec, column)
        if outside is not None:
            yield (
                f"{spec.name}.range",
                f"{spec.name}: outside [{spec.range.min}, {spec.range.max}]",
                outside,
            )


def _bound(value: float | str | None, column: pa.Array) -> pa.Scalar | None:
    if value is None:
        return None
    if pa.types.is_date(column.type):
        return pa.scalar(dt.date.fromisoformat(str(value)), pa.date32())
    if pa.types.is_timestamp(column.type):
        moment = dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return pa.scalar(moment, column.type)
    if pa.types.is_decimal(column.type):
        return pc.cast(pa.scalar(float(value)), pa.float64())
    return pa.scalar(float(value))


def _outside_range(spec: FieldSpec, column: pa.Array) -> pa.Array | None:
    assert spec.range is not None
    low, high = _bound(spec.range.min, column), _bound(spec.range.max, column)
    values = pc.cast(column, pa.float64()) if pa.types.is_decimal(column.type) else column
    checks = []
    if low is not None:
        checks.append(pc.less(values, low))
    if high is not None:
        checks.append(pc.greater(values, high))
    if not checks:
        return None
    return reduce(pc.or_, checks)
