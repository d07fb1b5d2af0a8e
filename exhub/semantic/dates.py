"""``date``: calendar dates in the shapes legacy government systems export.

Accepted by default: ``20190301``, ``2019-03-01``, ``2019/3/1``, ``2019.3.1``,
``2019年3月1日``, the same with a time of day (``2019-03-01 08:30:00``, ``...T08:30:00``)
and Excel serial day numbers 1-60000 in the 1900 date system, as integers, integral floats
(a time fraction is dropped) or digit strings.

Date-only shapes are matched with regular expressions and turned into dates with integer
arithmetic, so 2019-02-30 and 0000-00-00 come out invalid instead of being rolled over by
the C library's ``strptime``. Caller-supplied formats go through ``strptime`` with a
round-trip check that catches the same roll-over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import (
    SemanticResult,
    date_from_parts,
    finish,
    strptime_strict,
    to_string_array,
)
from exhub.semantic.text import normalize_text

REASON = "date not in a recognized format or not a real calendar day"

_YMD_PATTERNS: tuple[str, ...] = (
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$",
    r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$",
    r"^(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})$",
    r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?$",
)
DEFAULT_DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
)

EXCEL_SERIAL_MAX = 60000
# date32 day numbers: Excel serial 1 is 1900-01-01, i.e. day 0 is 1899-12-31. Excel also
# counts the non-existent 1900-02-29 as serial 60, so from serial 61 on day 0 is 1899-12-30.
_EXCEL_DAY0_BEFORE_LEAP_BUG = -25568
_EXCEL_DAY0_AFTER_LEAP_BUG = -25569
_EXCEL_PHANTOM_LEAP_DAY = 60

_Step = Callable[[pa.Array], pa.Array]


def excel_serial_to_date(serial: pa.Array) -> pa.Array:
    """Convert Excel 1900-system serial day numbers to dates.

    Args:
        serial: An integer array.

    Returns:
        A ``date32`` array; null outside 1..60000 and for serial 60 (1900-02-29, which
        Excel invents for Lotus 1-2-3 compatibility).
    """
    n = pc.cast(serial, pa.int64())
    ok = pc.and_(
        pc.and_(pc.greater_equal(n, 1), pc.less_equal(n, EXCEL_SERIAL_MAX)),
        pc.not_equal(n, _EXCEL_PHANTOM_LEAP_DAY),
    )
    days = pc.if_else(
        pc.less(n, _EXCEL_PHANTOM_LEAP_DAY),
        pc.add(n, _EXCEL_DAY0_BEFORE_LEAP_BUG),
        pc.add(n, _EXCEL_DAY0_AFTER_LEAP_BUG),
    )
    days = pc.if_else(pc.fill_null(ok, False), days, pa.scalar(None, pa.int64()))
    return days.cast(pa.int32()).cast(pa.date32())


def _serial_step(s: pa.Array) -> pa.Array:
    digits = pc.match_substring_regex(s, r"^\d{1,5}(?:\.0+)?$")
    whole = pc.replace_substring_regex(
        pc.if_else(digits, s, pa.scalar(None, pa.string())), r"\.0+$", ""
    )
    return excel_serial_to_date(whole)


def _pattern_step(pattern: str) -> _Step:
    def step(s: pa.Array) -> pa.Array:
        parts = pc.extract_regex(s, pattern)
        return date_from_parts(*(pc.struct_field(parts, name) for name in ("y", "m", "d")))

    return step


def _strptime_step(fmt: str) -> _Step:
    def step(s: pa.Array) -> pa.Array:
        return strptime_strict(s, fmt).cast(pa.date32())

    return step


def _parse_strings(s: pa.Array, steps: Sequence[_Step]) -> pa.Array:
    """Run each step on the rows no earlier step could parse; first success wins."""
    out = pa.nulls(len(s), pa.date32())
    pending = pc.is_valid(s)
    for step in steps:
        if not pc.any(pending).as_py():
            break
        parsed = step(pc.filter(s, pending))
        out = pc.replace_with_mask(out, pending, parsed)
        pending = pc.and_(pending, pc.is_null(out))
    return out


def parse_dates(
    arr: pa.Array | pa.ChunkedArray, formats: Sequence[str] | None = None
) -> SemanticResult:
    """Parse a column of dates into ``date32``.

    ``date32`` input is returned as is; ``date64`` and timestamps are cast (a time zone-aware
    timestamp gives the local date in that zone); integers and floats are read as Excel
    serial numbers; everything else is read as text.

    Args:
        arr: The column.
        formats: ``strptime`` formats to use for text instead of the built-in shapes, tried
            in order on the rows still unparsed. ``None`` uses the built-in shapes and Excel
            serial numbers; a list switches them off, for columns known to use one layout
            (say ``["%d/%m/%Y"]``) where a built-in shape could misread a value.

    Returns:
        ``values`` is ``date32``; ``valid`` is False where a non-null input could not be
        read as a real calendar day.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type
    if pa.types.is_date32(kind):
        return finish(arr, arr, pc.is_valid(arr), REASON)
    if pa.types.is_date64(kind) or pa.types.is_timestamp(kind):
        values = pc.cast(arr, pa.date32())
        return finish(arr, values, pc.is_valid(values), REASON)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        number = pc.floor(arr) if pa.types.is_floating(kind) else arr
        # NaN and infinities cannot be cast to int; they are simply not serial numbers.
        finite = pc.is_finite(number) if pa.types.is_floating(kind) else pc.is_valid(number)
        number = pc.if_else(finite, number, pa.scalar(None, number.type))
        in_range = pc.and_(pc.greater_equal(number, 1), pc.less_equal(number, EXCEL_SERIAL_MAX))
        number = pc.if_else(pc.fill_null(in_range, False), number, pa.scalar(None, number.type))
        values = excel_serial_to_date(number)
        return finish(arr, values, pc.is_valid(values), REASON)

    s = normalize_text(to_string_array(arr))
    if formats is None:
        steps: list[_Step] = [_serial_step, *map(_pattern_step, _YMD_PATTERNS)]
        steps += map(_strptime_step, DEFAULT_DATETIME_FORMATS)
    else:
        steps = [_strptime_step(fmt) for fmt in formats]
    values = _parse_strings(s, steps)
    return finish(s, values, pc.is_valid(values), REASON)
