"""The value every semantic check returns, and the small array helpers the checks share."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class SemanticResult:
    """Outcome of checking one column against a semantic type.

    Attributes:
        values: Normalized values, same length as the input; null where the input was null
            or invalid.
        valid: True where the input was null or blank after normalization (required-ness
            is a separate rule) or was a valid value; False where a non-blank input failed
            the check. Never null.
        reason: Short English reason written to quarantine for the rows where ``valid`` is
            False.
    """

    values: pa.Array
    valid: pa.BooleanArray
    reason: str

    @property
    def invalid_count(self) -> int:
        """Number of non-null inputs that failed the check."""
        return len(self.valid) - pc.sum(self.valid.cast(pa.int64()), min_count=0).as_py()


def to_string_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Return ``arr`` as a single ``pa.string()`` array.

    Args:
        arr: Any array Arrow can cast to string (string views, large strings, dictionaries,
            integers, ...). Chunked arrays are combined.

    Returns:
        A plain ``string`` array with the same nulls.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


def finish(original: pa.Array, values: pa.Array, ok: pa.Array, reason: str) -> SemanticResult:
    """Assemble a result from a per-row check.

    Args:
        original: The raw input, only used for its nulls.
        values: Normalized candidate values (may hold garbage where ``ok`` is not True).
        ok: Boolean array; True where the value passed every check. Null counts as False.
        reason: Quarantine reason for failing rows.

    Returns:
        The result with ``values`` nulled where invalid and ``valid`` True for null inputs.
    """
    ok = pc.fill_null(ok, False)
    null_value = pa.scalar(None, type=values.type)
    return SemanticResult(
        values=pc.if_else(ok, values, null_value),
        valid=pc.or_(pc.is_null(original), ok),
        reason=reason,
    )


def weighted_char_sum(codes: pa.Array, alphabet: str, weights: tuple[int, ...]) -> pa.Array:
    """Sum ``weights[i] * alphabet.index(code[i])`` for every row, column by column.

    The loop runs over the character positions, not the rows, so the work per position is
    one vectorized slice and one hash lookup.

    Args:
        codes: ASCII strings at least ``len(weights)`` long; shorter rows give null.
        alphabet: Characters in value order (digit ``d`` at index ``d``).
        weights: Weight per position, starting at position 0.

    Returns:
        An int64 array of weighted sums; null where a character is outside ``alphabet``.
    """
    # Byte slices are several times faster than code-unit slices and the inputs are ASCII.
    as_bytes = codes.cast(pa.binary())
    value_set = pa.array([c.encode() for c in alphabet], pa.binary())
    total: pa.Array | None = None
    for pos, weight in enumerate(weights):
        char = pc.binary_slice(as_bytes, pos, pos + 1)
        term = pc.multiply(pc.index_in(char, value_set=value_set).cast(pa.int64()), weight)
        total = term if total is None else pc.add(total, term)
    assert total is not None
    return total


def _comparable(arr: pa.Array) -> pa.Array:
    """Lower-case, collapse whitespace and drop leading zeros of every digit run."""
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"\s+", " ")
    return pc.replace_substring_regex(arr, r"(^|\D)0+(\d)", r"\1\2")


def strptime_strict(arr: pa.Array, fmt: str) -> pa.Array:
    """Parse ``arr`` with ``fmt`` and reject dates the C library silently rolled over.

    ``strptime`` accepts day 30 in February and ``timegm`` turns 2019-02-30 into
    2019-03-02. Formatting the parsed value back with the same format and comparing it,
    leading zeros and case aside, with the input catches that without a per-row loop.

    Args:
        arr: A ``string`` array.
        fmt: A ``strptime`` format.

    Returns:
        A ``timestamp[s]`` array, null where ``arr`` does not match ``fmt`` or names a day
        that does not exist.
    """
    parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    same = pc.equal(_comparable(pc.strftime(parsed, format=fmt)), _comparable(arr))
    return pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))


_DAYS_IN_MONTH = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())


def date_from_parts(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    """Build dates from year, month and day columns, null where the day does not exist.

    Pure integer arithmetic (H. Hinnant's ``days_from_civil``) instead of ``strptime``:
    it is several times faster on a million rows and never rolls 02-30 over to 03-02.

    Args:
        year: Integer (or digit-string) array; 1..9999 accepted.
        month: Integer (or digit-string) array.
        day: Integer (or digit-string) array.

    Returns:
        A ``date32`` array.
    """
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
    # Count from March so the leap day is the last day of the (shifted) year.
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
