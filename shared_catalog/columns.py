"""Column types shared by the catalog models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware in UTC.

    PostgreSQL stores ``timestamptz`` and returns it in the session time zone; SQLite has no
    time zone type and returns naive values. Both are normalised to UTC on read. Naive values
    are refused on write: the catalog never guesses a zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC before it is stored.

        Args:
            value: The Python value, or None.
            dialect: The database dialect.

        Returns:
            The UTC value; naive on SQLite, which cannot store an offset.

        Raises:
            ValueError: If ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: catalog timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Attach UTC to naive values and convert aware ones to UTC.

        Args:
            value: The value returned by the driver, or None.
            dialect: The database dialect.

        Returns:
            A timezone-aware datetime in UTC, or None.
        """
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
