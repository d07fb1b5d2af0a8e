"""``cn_mobile``: mainland China mobile numbers.

Only the shape is checked (11 digits, ``1`` then ``3``-``9``); which number blocks are
assigned to which carrier changes every year and is not a data-quality question.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import SemanticResult, finish, to_string_array
from exhub.semantic.string_bytes import check_digit_codes
from exhub.semantic.text import squeeze

REASON = "mobile number is not 11 digits starting with 13-19"

# Full-width forms are already ASCII after normalize_text; en and em dashes are not, and
# word processors turn typed hyphens into them.
_SEPARATORS = r"\s\-().\x{2013}\x{2014}"
# The country code is stripped only when exactly 11 digits remain, so a bare
# 86-prefixed landline or a truncated number is not mistaken for a mobile.
_COUNTRY_CODE = r"^(?:\+86|0086|86)(1\d{10})$"


def check_mobile(arr: pa.Array | pa.ChunkedArray) -> SemanticResult:
    """Check and normalize mobile phone numbers.

    Spaces, dashes, dots and parentheses are removed and a ``+86``, ``0086`` or ``86``
    country code is dropped.

    Args:
        arr: A string-like (or integer) array of phone numbers.

    Returns:
        ``values`` holds the bare 11-digit numbers; ``valid`` is False where a non-null
        input is not an 11-digit number starting with 13-19.

    Example:
        >>> check_mobile(pa.array(["+86 138-0013-8000"])).values.to_pylist()
        ['13800138000']
    """
    return check_digit_codes(to_string_array(arr), 11, _mobile_digits_ok, _check_general, REASON)


def _mobile_digits_ok(digits: list[np.ndarray]) -> np.ndarray:
    """The rule for rows of 11 plain digits: nothing to strip, so only the prefix 13-19."""
    return (digits[0] == 1) & (digits[1] >= 3) & (digits[1] <= 9)


def _check_general(raw: pa.Array) -> SemanticResult:
    """The full rule on any input: separators and country code removed, then the shape."""
    s = squeeze(raw, _SEPARATORS)
    s = pc.replace_substring_regex(s, _COUNTRY_CODE, r"\1")
    return finish(s, s, pc.match_substring_regex(s, r"^1[3-9]\d{9}$"), REASON)
