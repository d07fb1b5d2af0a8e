"""Text normalization shared by every string-shaped semantic type.

Legacy Chinese systems pad fields with the ideographic space U+3000, type digits and Latin
letters with a Chinese IME in full-width form (U+FF01-U+FF5E) and write a UTF-8 BOM at the
start of exported files, which then sticks to the first value of the first column.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import to_string_array

BOM = "\ufeff"
IDEOGRAPHIC_SPACE = "\u3000"
_FULL_WIDTH_FIRST = 0xFF01
_FULL_WIDTH_LAST = 0xFF5E
# Full-width ASCII sits at a fixed offset from ASCII: U+FF01 is "!" (U+0021).
_FULL_TO_HALF = {
    cp: cp - (_FULL_WIDTH_FIRST - 0x21) for cp in range(_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST + 1)
}
_FULL_WIDTH_CLASS = f"[{chr(_FULL_WIDTH_FIRST)}-{chr(_FULL_WIDTH_LAST)}]"


def _full_width_to_half(arr: pa.Array) -> pa.Array:
    """Map full-width ASCII to ASCII in the rows that contain any.

    Arrow has no character-translate kernel, and 94 regex passes over every row would cost
    far more than translating the few distinct values that actually hold full-width text.
    """
    has_full = pc.fill_null(pc.match_substring_regex(arr, _FULL_WIDTH_CLASS), False)
    if not pc.any(has_full).as_py():
        return arr
    affected = pc.filter(arr, has_full)
    uniques = pc.unique(affected)
    translated = pa.array([s.translate(_FULL_TO_HALF) for s in uniques.to_pylist()], pa.string())
    replacement = pc.take(translated, pc.index_in(affected, value_set=uniques))
    return pc.replace_with_mask(arr, has_full, replacement)


def normalize_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Normalize free text coming from legacy systems.

    Removes the BOM (U+FEFF), maps full-width ASCII (U+FF01-U+FF5E) to half-width, turns the
    ideographic space U+3000 into a plain space, trims Unicode whitespace at both ends and
    turns the resulting empty strings into null. Nulls stay null.

    Args:
        arr: A string-like array (anything :func:`to_string_array` accepts).

    Returns:
        A ``string`` array of the same length.

    Example:
        >>> normalize_text(pa.array(["\u3000ＡＢＣ１２３ ", "", None])).to_pylist()
        ['ABC123', None, None]
    """
    arr = to_string_array(arr)
    # One scan decides whether the three rewrites are needed at all: most columns of most
    # systems hold none of these characters, and each rewrite is a full pass.
    special = f"[{BOM}{IDEOGRAPHIC_SPACE}{chr(_FULL_WIDTH_FIRST)}-{chr(_FULL_WIDTH_LAST)}]"
    if pc.any(pc.match_substring_regex(arr, special)).as_py():
        arr = pc.replace_substring(arr, BOM, "")
        arr = pc.replace_substring(arr, IDEOGRAPHIC_SPACE, " ")
        arr = _full_width_to_half(arr)
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def squeeze(arr: pa.Array | pa.ChunkedArray, drop: str = r"\s") -> pa.Array:
    r"""Normalize text and delete every character matching the regex class ``drop``.

    Args:
        arr: A string-like array.
        drop: The body of a RE2 character class (what goes between the brackets), e.g.
            ``r"\s\-()"`` for whitespace, dashes and parentheses.

    Returns:
        The normalized array with those characters removed; empty results become null.
    """
    arr = pc.replace_substring_regex(normalize_text(arr), f"[{drop}]+", "")
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)
