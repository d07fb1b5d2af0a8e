"""The Arrow-native read path: ADBC for PostgreSQL, no Python object per value.

Why only PostgreSQL: the benchmark suite measured ADBC at 340k rows/s through the whole
extract stage against ~100k for the SQLAlchemy path, so it is the default there. The other
native drivers were tried on legacy data and refused as defaults: connectorx (MySQL/MariaDB)
panics on a zero date (``0000-00-00``) instead of letting the row be quarantined, and ADBC's
SQLite driver infers each column's type from the first rows and fails on the mixed-type
columns old SQLite programs leave behind. Those databases keep the SQLAlchemy path, which
quarantines such rows value by value.

The driver hands over Arrow record batches; exhub only re-chunks them to the requested
batch size and fixes what ADBC leaves loose: ``numeric`` arrives as text or, up to 18
digits, as a scaled ``int8`` (both made exactly the reflected ``decimal(p,s)``, never through
float; see ``connectors.sql.decimals``) and naive timestamps arrive without a zone (read in
the source's zone, stored in UTC). A value that does not fit its column (NaN in a numeric)
makes its row a reject with its raw values and a reason, as on the SQLAlchemy path.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import URL

from connectors.base import ramping_batch_sizes
from connectors.sql.decimals import (
    cast_each,
    from_scaled,
    from_text,
    raw_value,
    scaled_scale,
    select_item,
)
from connectors.sql.types import ColumnPlan, Kind, cast_reason, raw_row_text
from exhub.extract.read_ahead import read_ahead

RECEIVE_BUFFER_BYTES = 2**20

try:
    import adbc_driver_postgresql.dbapi as adbc_postgresql
except ImportError:  # pragma: no cover - part of the locked install
    adbc_postgresql = None


def adbc_errors() -> tuple[type[BaseException], ...]:
    """Exception classes the native driver raises (empty when it is not installed)."""
    if adbc_postgresql is None:
        return ()
    return (adbc_postgresql.Error,)


def native_available(url: URL) -> bool:
    """True when the URL's database has an installed Arrow-native driver."""
    return adbc_postgresql is not None and url.get_backend_name() == "postgresql"


def libpq_uri(url: URL, timeout_seconds: int) -> str:
    """The libpq URI ADBC expects (driver suffix dropped, password kept URL-encoded)."""
    plain = url.set(drivername="postgresql")
    query = dict(plain.query)
    query.setdefault("connect_timeout", str(timeout_seconds))
    return plain.set(query=query).render_as_string(hide_password=False)


def bound_literal(bound: Any) -> str | None:
    """The cursor's lower bound as a typed SQL literal, or None to send it as ``$1``.

    A query without parameters goes through ``COPY ... TO STDOUT (FORMAT binary)``, which
    streams; a parameterised one is a prepared statement whose whole result libpq holds in
    memory before the first batch (an incremental read of 50k rows: 0.34 s against 0.24 s,
    and memory that grows with the change). The bound is computed by exhub from the stored
    watermark, and only types whose text cannot carry a quote are inlined; text cursors
    stay parameters.
    """
    if isinstance(bound, bool):
        return None
    if isinstance(bound, dt.datetime):
        kind = "TIMESTAMP" if bound.tzinfo is None else "TIMESTAMPTZ"
        return f"{kind} '{bound.isoformat(sep=' ')}'"
    if isinstance(bound, dt.date):
        return f"DATE '{bound.isoformat()}'"
    if isinstance(bound, int):
        return str(bound)
    if isinstance(bound, Decimal) and bound.is_finite():
        return f"CAST('{bound}' AS numeric)"
    return None


def select_sql(
    table: sa.Table,
    plans: Sequence[ColumnPlan],
    preparer: Any,
    *,
    order: Sequence[str],
    cursor: str | None,
    bound: str | None,
) -> str:
    """The SELECT statement of a native read.

    ``bound`` is the cursor's lower bound as SQL: a literal from ``bound_literal``, or ``$1``.
    """
    # Scaled numeric columns keep the source's name (``... AS "name"``).
    columns = ", ".join(select_item(p, preparer.quote(p.name)) for p in plans)
    sql = f"SELECT {columns} FROM {preparer.format_table(table)}"
    if cursor and bound is not None:
        sql += f" WHERE {preparer.quote(cursor)} >= {bound}"
    if order:
        # Qualified: a bare name would sort by the (scaled) output column of that name.
        source = preparer.format_table(table)
        sql += " ORDER BY " + ", ".join(f"{source}.{preparer.quote(name)}" for name in order)
    return sql


@dataclass(frozen=True)
class NativeBatch:
    """One batch's columns conformed to the plans, plus the rows that did not fit.

    Attributes:
        arrays: one array per plan; a rejected row holds NULL where its value did not fit.
        reasons: per rejected row index, why (one reason per column that failed).
        raw: per rejected row index, JSON text of the row's values as the database sent them.
    """

    arrays: list[pa.Array]
    reasons: dict[int, list[str]] = field(default_factory=dict)
    raw: dict[int, str] = field(default_factory=dict)


def _conform(array: pa.Array, plan: ColumnPlan, zone_name: str) -> tuple[pa.Array, dict[int, str]]:
    if isinstance(array.type, pa.BaseExtensionType):
        array = array.storage  # numeric (and other opaque types) arrive as text
    if plan.kind is Kind.DECIMAL:
        if pa.types.is_integer(array.type) and scaled_scale(plan) is not None:
            return from_scaled(array, plan)
        if pa.types.is_string(array.type):
            return from_text(array, plan)
    if (
        pa.types.is_fixed_size_binary(array.type)
        and array.type.byte_width == 16
        and (pa.types.is_string(plan.arrow_type))
    ):
        # uuid: 16 raw bytes on the wire, its canonical text in the dataset.
        values = [None if v is None else str(uuid.UUID(bytes=v)) for v in array.to_pylist()]
        return pa.array(values, pa.string()), {}
    if plan.kind is Kind.TIMESTAMP and pa.types.is_timestamp(array.type):
        naive = array.cast(pa.timestamp("us"))
        local = pc.assume_timezone(naive, zone_name, ambiguous="earliest", nonexistent="earliest")
        return local.cast(plan.arrow_type), {}
    if array.type == plan.arrow_type:
        return array, {}
    try:
        return array.cast(plan.arrow_type), {}
    except pa.ArrowNotImplementedError:
        # Exotic types (interval, money, ranges) rendered as text, value by value.
        values = [None if v is None else _text(v) for v in array.to_pylist()]
        return pa.array(values, plan.arrow_type), {}
    except pa.ArrowInvalid:
        # Some value does not fit: those rows are rejects, the others stay records.
        return cast_each(array, plan, cast_reason)


def _text(value: Any) -> str:
    if isinstance(value, pa.MonthDayNano):
        # Rendered as psycopg2 renders an interval, so both read paths agree.
        span = str(dt.timedelta(days=value.days, microseconds=value.nanoseconds // 1000))
        return f"{value.months} mons {span}" if value.months else span
    return str(value)


def read_native(
    url: URL,
    timeout_seconds: int,
    sql: str,
    parameters: Sequence[Any],
    plans: Sequence[ColumnPlan],
    zone_name: str,
    batch_size: int,
) -> Iterator[NativeBatch]:
    """Yield each batch (at most ``batch_size`` rows), conformed to the plans."""
    assert adbc_postgresql is not None
    with adbc_postgresql.connect(libpq_uri(url, timeout_seconds)) as connection:
        cursor = connection.cursor()
        # The driver's default 16 MB receive buffer held ~40 MB more for no faster read; at
        # 1 MB the first rows of an incremental read arrive after 0.06 s instead of 0.18 s
        # (4 MB), and a full read of 5M rows takes as long (11.1-11.6 s either way).
        cursor.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(RECEIVE_BUFFER_BYTES)}
        )
        try:
            if parameters:
                cursor.execute(sql, parameters=tuple(parameters))
            else:
                cursor.execute(sql)
            reader = cursor.fetch_record_batch()
            pending: list[pa.RecordBatch] = []
            rows = 0
            sizes = ramping_batch_sizes(batch_size)
            size = next(sizes)
            # The driver decodes the wire format while it is asked for the next batch; on its
            # own thread that overlaps re-chunking, type fixes and everything downstream.
            for batch in read_ahead(iter(reader), depth=2, name="adbc-read"):
                pending.append(batch)
                rows += batch.num_rows
                while rows >= size:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, size), table.slice(size)
                    yield _columns(head, plans, zone_name)
                    pending = rest.to_batches()
                    rows = rest.num_rows
                    size = next(sizes)
            if rows:
                yield _columns(pa.Table.from_batches(pending), plans, zone_name)
        finally:
            cursor.close()


def _columns(table: pa.Table, plans: Sequence[ColumnPlan], zone_name: str) -> NativeBatch:
    originals = [table.column(index).combine_chunks() for index in range(len(plans))]
    conformed = [
        _conform(array, plan, zone_name) for array, plan in zip(originals, plans, strict=True)
    ]
    batch = NativeBatch([array for array, _ in conformed])
    for _, reasons in conformed:
        for index, reason in reasons.items():
            batch.reasons.setdefault(index, []).append(reason)
    if batch.reasons:
        names = [plan.name for plan in plans]
        for index in sorted(batch.reasons):
            values = [
                _raw_value(original, array, plan, index, index in failed)
                for original, (array, failed), plan in zip(originals, conformed, plans, strict=True)
            ]
            batch.raw[index] = raw_row_text(names, values)
    return batch


def _raw_value(
    original: pa.Array, conformed: pa.Array, plan: ColumnPlan, index: int, failed: bool
) -> Any:
    """One value of a rejected row as the database sent it (as the SQLAlchemy path shows it)."""
    if isinstance(original.type, pa.BaseExtensionType):
        original = original.storage
    if plan.kind is Kind.DECIMAL:
        return raw_value(original, conformed, plan, index)
    if failed or plan.kind is Kind.TIMESTAMP:
        return original[index].as_py()  # naive local time, as the source holds it
    return conformed[index].as_py()
