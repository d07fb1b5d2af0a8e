"""Contract types as Arrow types, and casts that turn bad values into rule failures.

A cast never raises on dirty data: values that cannot be read become null and are
reported in a mask, so the row goes to quarantine with the reason.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from exhub.contracts.models import DECIMAL_TYPE
from exhub.semantic import parse_dates

INTEGER_TEXT = r"^[+-]?\d+$"
NUMBER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
TRUE_WORDS = ["true", "t", "yes", "y", "1", "是", "真"]
FALSE_WORDS = ["false", "f", "no", "n", "0", "否", "假"]
TIMESTAMP_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S"]


def arrow_type(contract_type: str) -> pa.DataType:
    """The Arrow type a contract type is stored as."""
    simple = {
        "string": pa.string(),
        "int": pa.int32(),
        "long": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if contract_type in simple:
        return simple[contract_type]
    match = DECIMAL_TYPE.match(contract_type)
    if not match:
        raise ValueError(f"unknown contract type {contract_type!r}")
    return pa.decimal128(int(match[1]), int(match[2]))


def cast_values(
    values: pa.Array, contract_type: str, *, date_formats: list[str] | None, timezone: str
) -> tuple[pa.Array, pa.Array]:
    """Cast ``values`` to the contract type.

    Returns:
        The cast array (null where unreadable) and a boolean mask, True where a non-null
        input could not be read.
    """
    target = arrow_type(contract_type)
    if values.type == target:
        return values, _all_false(len(values))
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), target), _all_false(len(values))
    if contract_type == "date":
        result = parse_dates(values, date_formats)
        return result.values, pc.invert(result.valid)
    if contract_type == "timestamp":
        return _to_timestamp(values, timezone)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return _from_text(values, target, contract_type)
    try:
        cast = pc.cast(values, target, safe=True)
        return cast, _all_false(len(values))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _from_text(pc.cast(values, pa.string()), target, contract_type)


def _all_false(length: int) -> pa.Array:
    return (
        pa.array([False] * length, pa.bool_())
        if length < 64
        else pc.fill_null(pa.nulls(length, pa.bool_()), False)
    )


def _failed(original: pa.Array, cast: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(original), pc.is_null(cast))


def _from_text(
    text: pa.Array, target: pa.DataType, contract_type: str
) -> tuple[pa.Array, pa.Array]:
    if pa.types.is_string(target):
        return text, _all_false(len(text))
    if pa.types.is_boolean(target):
        lowered = pc.utf8_lower(text)
        cast = pc.if_else(
            pc.is_in(lowered, pa.array(TRUE_WORDS)),
            True,
            pc.if_else(pc.is_in(lowered, pa.array(FALSE_WORDS)), False, None),
        )
        return cast, _failed(text, cast)
    pattern = INTEGER_TEXT if pa.types.is_integer(target) else NUMBER_TEXT
    readable = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    candidate = pc.if_else(readable, text, pa.scalar(None, pa.string()))
    try:
        cast = pc.cast(candidate, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        cast = _cast_each(candidate, target)
    return cast, _failed(text, cast)


def _cast_each(candidate: pa.Array, target: pa.DataType) -> pa.Array:
    # Slow path, reached only when some readable-looking value overflows the target
    # (e.g. too many digits for decimal(18,2)): isolate the offenders over unique values.
    uniques = pc.unique(candidate)
    good = []
    for value in uniques.to_pylist():
        if value is None:
            continue
        try:
            pc.cast(pa.array([value]), target, safe=True)
            good.append(value)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    kept = pc.if_else(pc.is_in(candidate, pa.array(good, pa.string())), candidate, None)
    return pc.cast(kept, target, safe=True)


def _to_timestamp(values: pa.Array, timezone: str) -> tuple[pa.Array, pa.Array]:
    ZoneInfo(timezone)  # raises early on an unknown zone name
    if pa.types.is_timestamp(values.type):
        ts = values
        if values.type.tz is None:
            ts = pc.assume_timezone(
                pc.cast(values, pa.timestamp("us")),
                timezone,
                ambiguous="earliest",
                nonexistent="earliest",
            )
        cast = pc.cast(ts, pa.timestamp("us", tz="UTC"))
        return cast, _all_false(len(values))
    if pa.types.is_date(values.type):
        naive = pc.cast(pc.cast(values, pa.date32()), pa.timestamp("us"))
        return _to_timestamp(naive, timezone)
    text = pc.cast(values, pa.string())
    parsed = pa.nulls(len(text), pa.timestamp("us"))
    for fmt in TIMESTAMP_FORMATS:
        attempt = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
        parsed = pc.coalesce(parsed, attempt)
    dates = parse_dates(text, None).values
    parsed = pc.coalesce(parsed, pc.cast(dates, pa.timestamp("us")))
    cast, _ = _to_timestamp(parsed, timezone)
    return cast, _failed(text, cast)
