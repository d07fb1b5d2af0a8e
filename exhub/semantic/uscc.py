"""``cn_uscc``: unified social credit codes (统一社会信用代码) per GB 32100-2015.

Layout of the 18 characters: registration authority (1), institution category (1),
registration authority's administrative division (6 digits, GB/T 2260), the organization's
GB 11714 identifier (9) and a check character computed modulo 31 over the first 17.

GB 32100-2015 itself names the authorities 1 (机构编制), 5 (民政), 9 (工商) and Y (其他).
Codes for further authorities were assigned afterwards and are common in government data:
2 (外交), 3 (司法行政: law firms, notaries), 4 (文化), 6 (旅游), 7 (宗教), 8 (工会),
A (中央军委改革和编制办公室) and N (农业: rural collective economic organizations). All of
them are accepted by default because rejecting them would quarantine real organizations;
pass ``authorities="159Y"`` for the letter of the 2015 text. The category character and the
embedded GB 11714 check character are not checked: their rules differ per authority.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic.result import SemanticResult, finish, to_string_array, weighted_char_sum
from exhub.semantic.text import squeeze

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AUTHORITIES_2015 = "159Y"
AUTHORITIES_ASSIGNED = "123456789ANY"
REASON = "unified social credit code format or check character invalid"


def uscc_check_char(body: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a code.

    Args:
        body: At least 17 characters from :data:`CHARSET`; only the first 17 are used.

    Returns:
        One character of :data:`CHARSET`.

    Raises:
        ValueError: If a character is outside the charset or there are fewer than 17.
    """
    head = body[:17]
    if len(head) != 17 or any(c not in CHARSET for c in head):
        raise ValueError(f"need 17 characters from {CHARSET}, got {body!r}")
    total = sum(CHARSET.index(c) * w for c, w in zip(head, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def check_uscc(
    arr: pa.Array | pa.ChunkedArray, *, authorities: str = AUTHORITIES_ASSIGNED
) -> SemanticResult:
    """Check and normalize unified social credit codes.

    Whitespace is removed, full-width characters mapped to ASCII and letters upper-cased.

    Args:
        arr: A string-like array of codes.
        authorities: Accepted first characters (registration authorities).

    Returns:
        ``values`` holds the normalized 18-character codes; ``valid`` is False where a
        non-null input has the wrong shape or authority, a non-digit division code, or a
        wrong check character.
    """
    s = pc.utf8_upper(squeeze(to_string_array(arr)))
    shape = f"^[{authorities}][{CHARSET}][0-9]{{6}}[{CHARSET}]{{10}}$"
    shape_ok = pc.match_substring_regex(s, shape)
    remainder = pc.modulo(weighted_char_sum(s, CHARSET, WEIGHTS), 31)
    expected = pc.take(
        pa.array(list(CHARSET), pa.string()), pc.modulo(pc.subtract(31, remainder), 31)
    )
    check_ok = pc.equal(pc.utf8_slice_codeunits(s, 17, 18), expected)
    return finish(s, s, pc.and_(shape_ok, check_ok), REASON)
