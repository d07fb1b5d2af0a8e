"""Text normalization shared by every string-shaped semantic type.

Legacy Chinese systems pad fields with the ideographic space U+3000, type digits and Latin
letters with a Chinese IME in full-width form (U+FF01-U+FF5E) and write a UTF-8 BOM at the
start of exported files, which then sticks to the first value of the first column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import to_string_array
from exhub.semantic.string_bytes import StringBytes

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


# The characters utf8_trim_whitespace removes (Unicode White_Space per utf8proc), by their
# UTF-8 encoding; test_fast_paths checks this against the kernel over every code point.
_ASCII_SPACE = np.zeros(256, bool)
_ASCII_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_TWO_BYTE_SPACES = np.array([0xC285, 0xC2A0])
_THREE_BYTE_SPACES = np.array(
    [0xE19A80, *range(0xE28080, 0xE2808B), 0xE280A8, 0xE280A9, 0xE280AF, 0xE2819F, 0xE38080]
)
_SPACE_LEAD_OF_THREE = np.zeros(256, bool)
_SPACE_LEAD_OF_THREE[[0xE1, 0xE2, 0xE3]] = True
_LEAD_OF_TWO = 0xC2


# The two tables above as uint8 range tests: a table lookup is a fancy index, which widens
# every byte to int64 first and cost more than the rest of the trim check together
# (callgrind: the check of a code column -30%). Bytes below a range's start wrap around.
def is_ascii_space(octets: np.ndarray) -> np.ndarray:
    """``_ASCII_SPACE[octets]`` for uint8 ``octets``: 0x09-0x0D or 0x1C-0x20."""
    return ((octets - np.uint8(0x09)) <= 4) | ((octets - np.uint8(0x1C)) <= 4)


def is_space_lead_of_three(octets: np.ndarray) -> np.ndarray:
    """``_SPACE_LEAD_OF_THREE[octets]`` for uint8 ``octets``: 0xE1-0xE3."""
    return (octets - np.uint8(0xE1)) <= 2


def _any_code_of(data: np.ndarray, positions: np.ndarray, size: int, wanted: np.ndarray) -> bool:
    """Whether the ``size``-byte big-endian code at any of ``positions`` is in ``wanted``."""
    if len(positions) == 0:
        return False
    code = np.zeros(len(positions), np.int64)
    for k in range(size):
        code = (code << 8) | data.take(positions + k, mode="clip")
    return bool(np.isin(code, wanted).any())


def _special_rows(view: StringBytes) -> np.ndarray | None:
    """Rows that may hold a BOM, U+3000 or full-width ASCII; None when none can.

    All three start with the lead byte 0xEF or 0xE3 in UTF-8, which never occurs inside
    another character: a byte scan rules most columns out far faster than a regex, and the
    exact three-byte sequence is checked only where such a lead byte occurs (Chinese
    punctuation also starts with 0xE3). A lead byte too close to the end to be checked marks
    its row too: an extra row only goes through the exact path, a missed one would not.
    """
    first, last = int(view.offsets[0]), int(view.offsets[-1])
    data = view.data[first:last]
    raw = data.tobytes()
    if raw.find(b"\xef") < 0 and raw.find(b"\xe3") < 0:
        return None
    leads = np.flatnonzero((data == 0xEF) | (data == 0xE3))
    inside = leads + 2 < len(data)
    checked = leads[inside]
    code = (
        (data[checked].astype(np.int64) << 16)
        | (data[checked + 1].astype(np.int64) << 8)
        | data[checked + 2].astype(np.int64)
    )
    special = (code == 0xEFBBBF) | (code == 0xE38080) | ((code >= 0xEFBC81) & (code <= 0xEFBD9E))
    found = np.concatenate([checked[special], leads[~inside]]) + first
    if len(found) == 0:
        return None
    # Offsets never decrease: a byte belongs to the last row starting at or before it.
    rows = np.zeros(len(view.valid), bool)
    rows[np.searchsorted(view.starts, found, side="right") - 1] = True
    rows &= view.valid  # bytes under a null row are not text
    return rows if rows.any() else None


def _normalize_special(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring(arr, BOM, "")
    arr = pc.replace_substring(arr, IDEOGRAPHIC_SPACE, " ")
    arr = _full_width_to_half(arr)
    return pc.utf8_trim_whitespace(arr)


def _may_need_trim(view: StringBytes) -> bool:
    """Whether any non-empty row starts or ends with a character utf8_trim_whitespace removes.

    Looks only at the first and last character of every row, and at their whole UTF-8
    sequence only in the rare rows where it starts with a lead byte of a Unicode space:
    in valid UTF-8 a lead byte 0xC2 two bytes before the end (or 0xE1-0xE3 three bytes
    before it) starts the last character, so the check is exact. Reads past the start or
    end of a short row (clipped at the buffer's ends) can only add candidates, never hide
    one. Everything stays uint8 / bool: whole-column int64 temporaries cost more than the
    check itself.
    """
    data = view.data
    rows = view.valid & (view.ends > view.starts)
    if len(data) == 0 or not rows.any():
        return False
    first = data.take(view.starts, mode="clip")
    index = view.ends - 1
    last = data.take(index, mode="clip")
    if (rows & (is_ascii_space(first) | is_ascii_space(last))).any():
        return True
    starts = view.starts
    if _any_code_of(data, starts[rows & (first == _LEAD_OF_TWO)], 2, _TWO_BYTE_SPACES):
        return True
    if _any_code_of(data, starts[rows & is_space_lead_of_three(first)], 3, _THREE_BYTE_SPACES):
        return True
    index -= 1
    tail_two = rows & (data.take(index, mode="clip") == _LEAD_OF_TWO)
    if _any_code_of(data, index[tail_two], 2, _TWO_BYTE_SPACES):
        return True
    index -= 1
    tail_three = rows & is_space_lead_of_three(data.take(index, mode="clip"))
    return _any_code_of(data, index[tail_three], 3, _THREE_BYTE_SPACES)


def blank_to_null(arr: pa.Array) -> pa.Array:
    """Turn the empty strings of a ``string`` array into nulls, sharing its buffers."""
    view = StringBytes.of(arr)
    keep = view.valid & (view.lengths > 0)
    if keep.sum() == int(view.valid.sum()):
        return arr
    n = len(arr)
    _, offsets, data = arr.buffers()
    # Only the validity changes: point at the same offsets and data.
    offsets = offsets.slice(arr.offset * 4, (n + 1) * 4)
    validity = pa.py_buffer(np.packbits(keep, bitorder="little"))
    nulls = n - int(keep.sum())
    return pa.Array.from_buffers(pa.string(), n, [validity, offsets, data], null_count=nulls)


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
    # Most columns of most systems hold none of these characters and need no trim, and
    # each rewrite is a full pass: byte checks decide which rows the kernels run on.
    view = StringBytes.of(arr)
    special = _special_rows(view)
    if special is not None:
        rows = pa.array(special)
        arr = pc.replace_with_mask(arr, rows, _normalize_special(pc.filter(arr, rows)))
        view = StringBytes.of(arr)
    if _may_need_trim(view):
        arr = pc.utf8_trim_whitespace(arr)
    return blank_to_null(arr)


def squeeze(arr: pa.Array | pa.ChunkedArray, drop: str = r"\s") -> pa.Array:
    r"""Normalize text and delete every character matching the regex class ``drop``.

    Args:
        arr: A string-like array.
        drop: The body of a RE2 character class (what goes between the brackets), e.g.
            ``r"\s\-()"`` for whitespace, dashes and parentheses.

    Returns:
        The normalized array with those characters removed; empty results become null.
    """
    arr = normalize_text(arr)
    # Matching is cheaper than replacing, and normalize_text already nulled the blanks.
    if not pc.any(pc.match_substring_regex(arr, f"[{drop}]")).as_py():
        return arr
    return blank_to_null(pc.replace_substring_regex(arr, f"[{drop}]+", ""))
