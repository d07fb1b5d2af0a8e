"""The incremental filter: ``cursor >= watermark - lookback``, typed like the cursor column.

The watermark is ISO text. For a timestamp cursor an offset in the watermark is honoured
(the engine stores UTC); a watermark without one is a wall-clock time in the request's zone,
like the source's naive values. ``lookback_seconds`` applies to timestamp and date cursors
(dates step back whole days, rounded up) and is ignored for numeric and text cursors.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from connectors.sql.types import ColumnPlan, Kind
from exhub.errors import ConfigError

_SQLITE_TIME = "%Y-%m-%d %H:%M:%f"


def lower_bound(plan: ColumnPlan, watermark: str, lookback_seconds: int, zone: dt.tzinfo) -> Any:
    """The smallest cursor value to read again.

    Args:
        plan: the cursor column.
        watermark: ISO text of the last published cursor value.
        lookback_seconds: how far before the watermark to start.
        zone: zone of the source's naive timestamps.

    Returns:
        Any: a value of the cursor column's Python type (naive datetime for naive columns).

    Raises:
        ConfigError: the watermark cannot be read as the cursor column's type.
    """
    lookback = dt.timedelta(seconds=lookback_seconds)
    try:
        if plan.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
            moment = dt.datetime.fromisoformat(watermark.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            moment = moment - lookback
            if plan.kind is Kind.TIMESTAMP:
                return moment.astimezone(zone).replace(tzinfo=None)
            return moment
        if plan.kind is Kind.DATE:
            day = dt.date.fromisoformat(watermark.strip()[:10])
            return day - dt.timedelta(days=math.ceil(lookback_seconds / 86_400))
        if plan.kind is Kind.INT:
            return int(Decimal(watermark.strip()))
        if plan.kind in (Kind.DECIMAL, Kind.FLOAT):
            return Decimal(watermark.strip())
    except (ValueError, InvalidOperation) as exc:
        raise ConfigError(
            f"watermark {watermark!r} cannot be read as cursor column "
            f"'{plan.name}' ({plan.arrow_type}): {exc}",
            fix="reset the stream's watermark, or pick a cursor column of a matching type",
            key="cursor",
        ) from None
    return watermark


def cursor_condition(
    column: sa.ColumnElement[Any], plan: ColumnPlan, bound: Any, dialect: str
) -> sa.ColumnElement[bool]:
    """``column >= bound``, robust to how the dialect stores dates.

    SQLite keeps dates as text in whatever layout the legacy program wrote; both sides are
    normalised with ``strftime`` (millisecond precision: a tie reads a row again, which the
    merge on the primary key absorbs, rather than skipping one).

    Args:
        column: the cursor column.
        plan: its conversion plan.
        bound: result of ``lower_bound``.
        dialect: SQLAlchemy dialect name.

    Returns:
        ColumnElement: the WHERE condition.
    """
    if dialect == "sqlite" and plan.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        text = bound.isoformat(sep=" ")
        return sa.func.strftime(_SQLITE_TIME, column) >= sa.func.strftime(
            _SQLITE_TIME, sa.literal(text, sa.String())
        )
    if dialect == "sqlite" and plan.kind is Kind.DATE:
        return sa.func.date(column) >= sa.func.date(sa.literal(bound.isoformat(), sa.String()))
    return column >= sa.literal(bound, column.type)
