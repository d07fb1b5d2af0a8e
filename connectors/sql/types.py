"""Reflected SQL column types to Arrow, and DB-API rows to Arrow arrays without losing a digit.

Rows are read with SQLAlchemy's result processors bypassed, so what the driver returned is
converted here, once, by one set of rules for every dialect:

* Integer → int64; Numeric(p, s) → decimal128(p, s) (from ``Decimal``, never via float);
  Numeric without precision → string (its exact text); Float → float64; Boolean → bool.
* String/Text/Enum → string; Date → date32; Time → time64(us); LargeBinary → binary.
* DateTime → timestamp(us, UTC): naive values are wall-clock times in the request's zone
  (ambiguous or skipped local times, e.g. Shanghai's 1986-1991 summer time, take the earliest
  instant); aware values (``timestamptz``) are converted.
* Anything else → string (JSON for dicts and lists).

MySQL/MariaDB zero dates (``0000-00-00``) arrive from the driver as text; they are read as
NULL and the row is kept (the conform stage flags required nulls). Any other value that does
not fit its column (an unparseable date in SQLite, a number with too many decimals) makes the
whole row a reject: it is quarantined with its raw values, never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import types as sat

ZERO_DATE = re.compile(r"^0000-00-00")
_WIDE = Context(prec=200)  # more digits than any decimal256 (76) holds, plus any scale
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


class Kind(StrEnum):
    """How a column's values are converted."""

    INT = "int"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"  # naive in the source, wall clock of request.timezone
    TIMESTAMP_TZ = "timestamptz"
    TIME = "time"
    BINARY = "binary"
    OTHER = "other"  # unknown type, rendered as text


@dataclass(frozen=True)
class ColumnPlan:
    """One source column: its name, conversion kind and Arrow type."""

    name: str
    kind: Kind
    arrow_type: pa.DataType


UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def plan_column(name: str, sa_type: sat.TypeEngine[Any]) -> ColumnPlan:
    """Choose the Arrow type of a reflected column.

    Args:
        name: column name.
        sa_type: the reflected SQLAlchemy type.

    Returns:
        ColumnPlan: the conversion to apply.
    """
    if isinstance(sa_type, sat.Boolean):
        return ColumnPlan(name, Kind.BOOL, pa.bool_())
    if isinstance(sa_type, sat.Integer):
        return ColumnPlan(name, Kind.INT, pa.int64())
    if isinstance(sa_type, sat.Float):
        return ColumnPlan(name, Kind.FLOAT, pa.float64())
    if isinstance(sa_type, sat.Numeric):
        precision, scale = sa_type.precision, sa_type.scale
        if precision is None or not 0 < precision <= 76:
            return ColumnPlan(name, Kind.DECIMAL, pa.string())
        scale = scale or 0
        build = pa.decimal128 if precision <= 38 else pa.decimal256
        return ColumnPlan(name, Kind.DECIMAL, build(precision, scale))
    if isinstance(sa_type, sat.DateTime):
        if getattr(sa_type, "timezone", False):
            return ColumnPlan(name, Kind.TIMESTAMP_TZ, UTC_TIMESTAMP)
        return ColumnPlan(name, Kind.TIMESTAMP, UTC_TIMESTAMP)
    if isinstance(sa_type, sat.Date):
        return ColumnPlan(name, Kind.DATE, pa.date32())
    if isinstance(sa_type, sat.Time):
        return ColumnPlan(name, Kind.TIME, pa.time64("us"))
    if isinstance(sa_type, sat.LargeBinary | sat.BINARY | sat.VARBINARY):
        return ColumnPlan(name, Kind.BINARY, pa.binary())
    if isinstance(sa_type, sat.String):
        return ColumnPlan(name, Kind.STRING, pa.string())
    return ColumnPlan(name, Kind.OTHER, pa.string())


# --- one value at a time: the slow path, taken only when the fast path fails -------------


def _to_int(v: Any, plan: ColumnPlan) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, Decimal | float) and v != int(v):
        raise ValueError(f"{v!r} is not an integer")
    number = int(v)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f"{v!r} does not fit a 64-bit integer")
    return number


class UnfitValue(ValueError):
    """A value that does not fit its column; ``str()`` is the whole reason."""


def unfit_decimal_reason(plan: ColumnPlan, text: str) -> str:
    """Why a numeric value (NaN, ±Infinity, ...) is no exact decimal of its column.

    Shared by both read paths, so a row's reason does not depend on the reader.
    """
    kind = plan.arrow_type
    label = f"decimal({kind.precision},{kind.scale})" if pa.types.is_decimal(kind) else "numeric"
    return f"column {plan.name}: {text!r} is not a number that fits {label}"


def cast_reason(plan: ColumnPlan, text: Any) -> str:
    """Why a value cannot be cast to its column's Arrow type."""
    return f"column {plan.name}: cannot read {text!r} as {plan.arrow_type}"


def _to_decimal(v: Any, plan: ColumnPlan) -> Decimal | str:
    number = v if isinstance(v, Decimal) else Decimal(repr(v) if isinstance(v, float) else str(v))
    if not number.is_finite():
        raise UnfitValue(unfit_decimal_reason(plan, str(number)))
    if pa.types.is_string(plan.arrow_type):
        # Positional, as PostgreSQL prints a numeric (and ADBC hands it over): str() of
        # Decimal("0.0000001") would be "1E-7".
        return format(number, "f")
    # The default context (28 digits) refuses to quantize a decimal(30,5) value.
    exact = number.quantize(Decimal(1).scaleb(-plan.arrow_type.scale), context=_WIDE)
    if exact != number:
        raise ValueError(f"{v!r} has more than {plan.arrow_type.scale} decimals")
    integer_digits = plan.arrow_type.precision - plan.arrow_type.scale
    if exact and exact.adjusted() >= integer_digits:
        raise ValueError(f"{v!r} has more than {integer_digits} integer digits")
    return exact


def _to_float(v: Any, plan: ColumnPlan) -> float:
    return float(v)


def _to_bool(v: Any, plan: ColumnPlan) -> bool:
    if isinstance(v, bytes):  # MySQL BIT(1)
        v = int.from_bytes(v, "big")
    if v in (0, 1):
        return bool(v)
    raise ValueError(f"{v!r} is not a boolean")


def _to_string(v: Any, plan: ColumnPlan) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8")  # strict: undecodable text is a reject
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str, sort_keys=True)
    return str(v)


def _to_date(v: Any, plan: ColumnPlan) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = _to_string(v, plan).strip()
    if ZERO_DATE.match(text):
        raise ValueError("MySQL zero date: there is no such day")
    return dt.date.fromisoformat(text[:10])


def _to_datetime(v: Any, plan: ColumnPlan) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    text = _to_string(v, plan).strip()
    if ZERO_DATE.match(text):
        raise ValueError("MySQL zero date: there is no such day")
    return dt.datetime.fromisoformat(text)


def _to_time(v: Any, plan: ColumnPlan) -> dt.time:
    if isinstance(v, dt.timedelta):  # MySQL TIME comes back as a timedelta
        if not dt.timedelta(0) <= v < dt.timedelta(days=1):
            raise ValueError(f"{v} is not a time of day")
        return (dt.datetime.min + v).time()
    if isinstance(v, dt.time):
        return v
    return dt.time.fromisoformat(_to_string(v, plan).strip())


def _to_binary(v: Any, plan: ColumnPlan) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


_CONVERT: dict[Kind, Callable[[Any, ColumnPlan], Any]] = {
    Kind.INT: _to_int,
    Kind.DECIMAL: _to_decimal,
    Kind.FLOAT: _to_float,
    Kind.BOOL: _to_bool,
    Kind.STRING: _to_string,
    Kind.DATE: _to_date,
    Kind.TIMESTAMP: _to_datetime,
    Kind.TIMESTAMP_TZ: _to_datetime,
    Kind.TIME: _to_time,
    Kind.BINARY: _to_binary,
    Kind.OTHER: _to_string,
}


def _naive_in(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    """Wall-clock time in ``zone`` (aware values are converted there first)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(zone).replace(tzinfo=None)


def _aware(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


# --- one column at a time -----------------------------------------------------------------


def _raw_array(plan: ColumnPlan, values: Sequence[Any]) -> pa.Array:
    """Build the column in Arrow directly; raises when a value needs the slow path."""
    if plan.kind is Kind.OTHER or (plan.kind is Kind.DECIMAL and plan.arrow_type == pa.string()):
        raise TypeError("always converted value by value")
    # Naive timestamps are localized afterwards, in one vectorized step.
    target = pa.timestamp("us") if plan.kind is Kind.TIMESTAMP else plan.arrow_type
    try:
        return pa.array(values, target)
    except _ARROW_ERRORS:
        if plan.kind in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
            # ISO text, as SQLite stores dates; anything else takes the slow path.
            return pa.array(values, pa.string()).cast(target)
        raise


def _localize(array: pa.Array, zone_name: str) -> pa.Array:
    local = pc.assume_timezone(array, zone_name, ambiguous="earliest", nonexistent="earliest")
    return local.cast(UTC_TIMESTAMP)


def convert_column(
    plan: ColumnPlan, values: Sequence[Any], zone: dt.tzinfo, zone_name: str
) -> tuple[pa.Array, dict[int, str]]:
    """Convert one column of driver values.

    Args:
        plan: the column's conversion.
        values: the driver's values, one per row.
        zone: zone of naive timestamps.
        zone_name: its IANA name.

    Returns:
        tuple: the Arrow array (rejected positions hold NULL) and, per rejected row index,
        why its value did not fit.
    """
    try:
        array = _raw_array(plan, values)
        if plan.kind is Kind.TIMESTAMP:
            array = _localize(array, zone_name)
        return array, {}
    except _ARROW_ERRORS:
        pass
    convert = _CONVERT[plan.kind]
    converted: list[Any] = []
    bad: dict[int, str] = {}
    for index, value in enumerate(values):
        if value is None:
            converted.append(None)
            continue
        try:
            result = convert(value, plan)
            if plan.kind is Kind.TIMESTAMP:
                result = _naive_in(result, zone)
            elif plan.kind is Kind.TIMESTAMP_TZ:
                result = _aware(result, zone)
            converted.append(result)
        except UnfitValue as exc:
            converted.append(None)
            bad[index] = str(exc)
        except (ValueError, TypeError, ArithmeticError, InvalidOperation) as exc:
            converted.append(None)
            bad[index] = f"{cast_reason(plan, value)} ({exc})"
    if plan.kind is Kind.TIMESTAMP:
        return _localize(pa.array(converted, pa.timestamp("us")), zone_name), bad
    return pa.array(converted, plan.arrow_type), bad


def raw_row_text(names: Sequence[str], row: Sequence[Any]) -> str:
    """A row as JSON text of the driver's values, for the reject's ``raw`` column."""

    def text(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).decode("utf-8", errors="backslashreplace")
        return str(value)

    return json.dumps(
        {name: text(value) for name, value in zip(names, row, strict=True)}, ensure_ascii=False
    )
