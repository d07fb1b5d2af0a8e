"""Frozen copy of the semantic checks before the numpy fast paths (reference for tests).

The fast paths in ``exhub.semantic`` must give exactly these results; the differential
tests in ``test_fast_paths.py`` and ``bench_semantic.py`` compare against this module.
Do not optimize it.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.admin_division import load_divisions
from exhub.semantic.result import SemanticResult, to_string_array

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)
PROVINCE_PREFIXES = (
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "91",
)  # fmt: skip
_SEPARATORS = r"\s\-().\x{2013}\x{2014}"
_COUNTRY_CODE = r"^(?:\+86|0086|86)(1\d{10})$"
_PLAUSIBLE_LAYOUT = r"^\d{2}(?:0[1-9]|[1-6]\d|70|90)\d{2}$"

BOM = "\ufeff"
IDEOGRAPHIC_SPACE = "\u3000"
_FULL_WIDTH_FIRST = 0xFF01
_FULL_WIDTH_LAST = 0xFF5E
_FULL_TO_HALF = {
    cp: cp - (_FULL_WIDTH_FIRST - 0x21) for cp in range(_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST + 1)
}
_FULL_WIDTH_CLASS = f"[{chr(_FULL_WIDTH_FIRST)}-{chr(_FULL_WIDTH_LAST)}]"
_DIGITS = "0123456789"


def finish(original: pa.Array, values: pa.Array, ok: pa.Array, reason: str) -> SemanticResult:
    ok = pc.fill_null(ok, False)
    null_value = pa.scalar(None, type=values.type)
    return SemanticResult(
        values=pc.if_else(ok, values, null_value),
        valid=pc.or_(pc.is_null(original), ok),
        reason=reason,
    )


def weighted_char_sum(codes: pa.Array, alphabet: str, weights: tuple[int, ...]) -> pa.Array:
    as_bytes = codes.cast(pa.binary())
    value_set = pa.array([c.encode() for c in alphabet], pa.binary())
    total: pa.Array | None = None
    for pos, weight in enumerate(weights):
        char = pc.binary_slice(as_bytes, pos, pos + 1)
        term = pc.multiply(pc.index_in(char, value_set=value_set).cast(pa.int64()), weight)
        total = term if total is None else pc.add(total, term)
    assert total is not None
    return total


_DAYS_IN_MONTH = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())


def date_from_parts(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    y, m, d = (pc.cast(a, pa.int64()) for a in (year, month, day))
    leap = pc.or_(
        pc.and_(pc.equal(pc.modulo(y, 4), 0), pc.not_equal(pc.modulo(y, 100), 0)),
        pc.equal(pc.modulo(y, 400), 0),
    )
    month_ok = pc.and_(pc.greater_equal(m, 1), pc.less_equal(m, 12))
    month_len = pc.add(
        pc.take(_DAYS_IN_MONTH, pc.if_else(month_ok, m, 0)),
        pc.and_(leap, pc.equal(m, 2)).cast(pa.int64()),
    )
    ok = pc.and_(
        pc.and_(month_ok, pc.and_(pc.greater_equal(y, 1), pc.less_equal(y, 9999))),
        pc.and_(pc.greater_equal(d, 1), pc.less_equal(d, month_len)),
    )
    early = pc.less_equal(m, 2)
    y = pc.subtract(y, early.cast(pa.int64()))
    era = pc.divide(y, 400)
    year_of_era = pc.subtract(y, pc.multiply(era, 400))
    shifted_month = pc.if_else(early, pc.add(m, 9), pc.subtract(m, 3))
    day_of_year = pc.add(
        pc.divide(pc.add(pc.multiply(shifted_month, 153), 2), 5), pc.subtract(d, 1)
    )
    day_of_era = pc.add(
        pc.add(pc.multiply(year_of_era, 365), pc.divide(year_of_era, 4)),
        pc.subtract(day_of_year, pc.divide(year_of_era, 100)),
    )
    days = pc.subtract(pc.add(pc.multiply(era, 146097), day_of_era), 719468)
    days = pc.if_else(pc.fill_null(ok, False), days, pa.scalar(None, pa.int64()))
    return days.cast(pa.int32()).cast(pa.date32())


def _full_width_to_half(arr: pa.Array) -> pa.Array:
    has_full = pc.fill_null(pc.match_substring_regex(arr, _FULL_WIDTH_CLASS), False)
    if not pc.any(has_full).as_py():
        return arr
    affected = pc.filter(arr, has_full)
    uniques = pc.unique(affected)
    translated = pa.array([s.translate(_FULL_TO_HALF) for s in uniques.to_pylist()], pa.string())
    replacement = pc.take(translated, pc.index_in(affected, value_set=uniques))
    return pc.replace_with_mask(arr, has_full, replacement)


def normalize_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    arr = to_string_array(arr)
    special = f"[{BOM}{IDEOGRAPHIC_SPACE}{chr(_FULL_WIDTH_FIRST)}-{chr(_FULL_WIDTH_LAST)}]"
    if pc.any(pc.match_substring_regex(arr, special)).as_py():
        arr = pc.replace_substring(arr, BOM, "")
        arr = pc.replace_substring(arr, IDEOGRAPHIC_SPACE, " ")
        arr = _full_width_to_half(arr)
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def squeeze(arr: pa.Array | pa.ChunkedArray, drop: str = r"\s") -> pa.Array:
    arr = pc.replace_substring_regex(normalize_text(arr), f"[{drop}]+", "")
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def _check_chars(body: pa.Array) -> pa.Array:
    remainder = pc.modulo(weighted_char_sum(body, _DIGITS, WEIGHTS), 11)
    return pc.take(pa.array(list(CHECK_CHARS), pa.string()), remainder)


def _birth_ok(body: pa.Array, today: dt.date) -> pa.Array:
    born = date_from_parts(
        *(pc.utf8_slice_codeunits(body, a, b) for a, b in ((6, 10), (10, 12), (12, 14)))
    )
    return pc.and_(
        pc.greater_equal(born, pa.scalar(EARLIEST_BIRTH)),
        pc.less_equal(born, pa.scalar(today)),
    )


def check_resident_id(arr: pa.Array | pa.ChunkedArray) -> SemanticResult:
    raw = to_string_array(arr)
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
    check_ok = pc.or_(is15, pc.equal(pc.utf8_slice_codeunits(s, 17, 18), check))
    province_ok = pc.is_in(
        pc.utf8_slice_codeunits(body, 0, 2), value_set=pa.array(PROVINCE_PREFIXES, pa.string())
    )
    ok = pc.and_(pc.and_(check_ok, province_ok), _birth_ok(body, dt.date.today()))
    values = pc.binary_join_element_wise(body, check, "")
    return finish(
        s, values, ok, "resident id format, check digit, birth date or province code invalid"
    )


def check_mobile(arr: pa.Array | pa.ChunkedArray) -> SemanticResult:
    s = squeeze(to_string_array(arr), _SEPARATORS)
    s = pc.replace_substring_regex(s, _COUNTRY_CODE, r"\1")
    return finish(
        s,
        s,
        pc.match_substring_regex(s, r"^1[3-9]\d{9}$"),
        "mobile number is not 11 digits starting with 13-19",
    )


def check_admin_division(
    arr: pa.Array | pa.ChunkedArray, as_of: dt.date | None = None
) -> SemanticResult:
    on = as_of or dt.date.today()
    table = load_divisions()
    s = squeeze(to_string_array(arr))
    six = pc.match_substring_regex(s, r"^\d{6}$")
    listed = pc.is_in(s, value_set=table.codes_in_force(on))
    prefix = pc.utf8_slice_codeunits(s, 0, 2)
    exact_only = pc.is_in(prefix, value_set=pa.array(sorted(table.full_provinces), pa.string()))
    plausible = pc.and_(
        pc.is_in(prefix, value_set=table.province_prefixes(on)),
        pc.match_substring_regex(s, _PLAUSIBLE_LAYOUT),
    )
    ok = pc.and_(six, pc.if_else(exact_only, listed, pc.or_(listed, plausible)))
    return finish(
        s, s, ok, "administrative division code unknown or not in force on the as-of date"
    )
