"""``cn_resident_id``: citizen identity numbers per GB 11643-1999.

An 18-character number is a 6-digit address code (GB/T 2260), an 8-digit birth date
(YYYYMMDD), a 3-digit sequence (odd for men) and a check character computed with
ISO 7064 MOD 11-2. Numbers issued before 1999 had 15 digits (two-digit year, no check
character); they are upgraded here by inserting "19" and computing the check character,
as public security bureaus did when re-issuing cards.

Only the province prefix of the address code is checked: cards keep the code of the place
of first registration, so codes retired decades ago are legitimate in current data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import (
    SemanticResult,
    date_from_parts,
    finish,
    to_string_array,
    weighted_char_sum,
)
from exhub.semantic.string_bytes import (
    StringBytes,
    all_digits,
    decimal,
    digit_values,
    finish_with_general_path,
    strings_from_columns,
)
from exhub.semantic.text import squeeze

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# 91 was "abroad" in the 1999 standard and still appears on old records.
PROVINCE_PREFIXES: tuple[str, ...] = (
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "91",
)  # fmt: skip
REASON = "resident id format, check digit, birth date or province code invalid"

_DIGITS = "0123456789"


def resident_id_check_char(body: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits of an ID.

    Args:
        body: At least 17 digits; only the first 17 are used.

    Returns:
        One of ``"0123456789X"``.

    Raises:
        ValueError: If the first 17 characters are not all digits.
    """
    head = body[:17]
    if len(head) != 17 or not head.isdigit():
        raise ValueError(f"need 17 digits, got {body!r}")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(head, WEIGHTS, strict=True)) % 11]


def _check_chars(body: pa.Array) -> pa.Array:
    """Vectorized MOD 11-2 over 17-digit strings; null where ``body`` is not 17 digits."""
    remainder = pc.modulo(weighted_char_sum(body, _DIGITS, WEIGHTS), 11)
    return pc.take(pa.array(list(CHECK_CHARS), pa.string()), remainder)


def _birth_ok(body: pa.Array, today: dt.date) -> pa.Array:
    """True where characters 7-14 are a real date from 1900-01-01 up to ``today``."""
    born = date_from_parts(
        *(pc.utf8_slice_codeunits(body, a, b) for a, b in ((6, 10), (10, 12), (12, 14)))
    )
    return pc.and_(
        pc.greater_equal(born, pa.scalar(EARLIEST_BIRTH)),
        pc.less_equal(born, pa.scalar(today)),
    )


def _check_general(raw: pa.Array, today: dt.date) -> SemanticResult:
    """The full rule on any input: normalization, 15-digit upgrade, every check."""
    s = pc.utf8_upper(squeeze(raw))
    is18 = pc.match_substring_regex(s, r"^\d{17}[\dX]$")
    is15 = pc.match_substring_regex(s, r"^\d{15}$")
    upgraded = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(s, 0, 6), "19", pc.utf8_slice_codeunits(s, 6, 15), ""
    )
    body = pc.if_else(
        is15,
        upgraded,
        pc.if_else(is18, pc.utf8_slice_codeunits(s, 0, 17), pa.scalar(None, pa.string())),
    )
    check = _check_chars(body)
    # A 15-digit number has no check character of its own; the computed one is correct.
    check_ok = pc.or_(is15, pc.equal(pc.utf8_slice_codeunits(s, 17, 18), check))
    province_ok = pc.is_in(
        pc.utf8_slice_codeunits(body, 0, 2), value_set=pa.array(PROVINCE_PREFIXES, pa.string())
    )
    ok = pc.and_(pc.and_(check_ok, province_ok), _birth_ok(body, today))
    values = pc.binary_join_element_wise(body, check, "")
    return finish(s, values, ok, REASON)


# Lookup tables for the fast path. Indexed by values computed from any bytes (garbage for
# rows that turn out not to be digits), hence 256 entries where a digit pair would do.
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), np.uint8)
_KNOWN_PROVINCE = np.zeros(256, bool)
_KNOWN_PROVINCE[[int(p) for p in PROVINCE_PREFIXES]] = True
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int32)
_X, _LOWER_X = ord("X"), ord("x")


def _date_stamp(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``yyyymmdd`` where the date exists (same rule as ``date_from_parts``), else 0."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    month_len = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    exists = month_ok & (year >= 1) & (day >= 1) & (day <= month_len)
    return np.where(exists, year * 10000 + month * 100 + day, 0)


def _check_digit_columns(body: list[np.ndarray], today: dt.date) -> tuple[np.ndarray, ...]:
    """Check character and "province and birth date fine" for 17 ASCII-digit columns."""
    digits = digit_values(body)
    total = np.zeros(len(body[0]), np.int16)
    for digit, weight in zip(digits, WEIGHTS, strict=True):
        total += digit * weight  # at most 9 * 10, no uint8 overflow for digits
    check = _CHECK_BYTES[total % 11]
    province_ok = _KNOWN_PROVINCE[digits[0] * 10 + digits[1]]
    born = _date_stamp(decimal(digits[6:10]), decimal(digits[10:12]), decimal(digits[12:14]))
    earliest = EARLIEST_BIRTH.year * 10000 + EARLIEST_BIRTH.month * 100 + EARLIEST_BIRTH.day
    latest = today.year * 10000 + today.month * 100 + today.day
    return check, province_ok & (born >= earliest) & (born <= latest)


def _fast_rows(view: StringBytes, width: int, today: dt.date):
    """Check the rows of ``width`` (18 or 15) bytes that are plain ASCII digits (and X).

    Such rows need no normalization beyond upper-casing ``x``, so the general rule reduces
    to integer arithmetic on their bytes.

    Returns:
        ``(rows, simple, ok, parts)``: the rows of that length, which of them the fast path
        decided, which of those are valid, and the valid ones' ``(rows, values)`` parts
        (``None`` values where the normalized number is the input, as most are).
    """
    rows = view.rows_of_length(width)
    columns = view.byte_columns(rows, width)
    if width == 18:
        given = np.where(columns[17] == _LOWER_X, _X, columns[17]).astype(np.uint8)
        body = columns[:17]
        simple = all_digits(body) & (all_digits([given]) | (given == _X))
    else:
        simple = all_digits(columns)
        ones, nines = np.full(len(rows), ord("1"), np.uint8), np.full(len(rows), ord("9"), np.uint8)
        body = [*columns[:6], ones, nines, *columns[6:]]
    check, rest_ok = _check_digit_columns(body, today)
    ok = simple & rest_ok & (given == check if width == 18 else True)
    # An 18-digit number is its own normalized value unless its check character is "x".
    rebuilt = ok & (columns[17] == _LOWER_X) if width == 18 else ok
    parts = [(rows[ok & ~rebuilt], None)] if width == 18 else []
    if rebuilt.any():  # rare for 18 digits: skip the 18 column filters when none is
        values = strings_from_columns([column[rebuilt] for column in [*body, check]])
        parts.append((rows[rebuilt], values))
    return rows, simple, ok, parts


def check_resident_id(arr: pa.Array | pa.ChunkedArray) -> SemanticResult:
    """Check and normalize resident identity numbers.

    Spaces (including U+3000) are removed, full-width digits mapped to ASCII, a lowercase
    ``x`` check character upper-cased and 15-digit numbers upgraded to 18.

    Args:
        arr: A string-like array of ID numbers.

    Returns:
        ``values`` holds the 18-character normalized numbers; ``valid`` is False where a
        non-null input has the wrong shape, a wrong check character, a birth date that is
        not a real day between 1900-01-01 and today, or an unknown province prefix.
    """
    raw = to_string_array(arr)
    today = dt.date.today()
    view = StringBytes.of(raw)
    valid = np.ones(len(raw), bool)
    decided = ~view.valid
    parts = []
    # Clean 18- and 15-digit numbers are nearly every row; only the rest (full-width
    # digits, spaces, garbage) needs the general path's normalization.
    for width in (18, 15):
        rows, simple, ok, width_parts = _fast_rows(view, width, today)
        valid[rows[simple]] = ok[simple]
        decided[rows[simple]] = True
        parts += width_parts
    return finish_with_general_path(
        raw, decided, valid, parts, lambda rest: _check_general(rest, today), REASON
    )
