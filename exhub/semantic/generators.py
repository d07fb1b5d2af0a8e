"""Deterministic generators of valid (and deliberately broken) codes for tests and demo data.

Every function draws only from the ``random.Random`` it is given, so a seed reproduces the
same rows on every machine.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from exhub.semantic.resident_id import resident_id_check_char
from exhub.semantic.uscc import CHARSET, uscc_check_char

# (registration authority, institution category) pairs seen in real registers:
# 11/12/13/19 bodies under 机构编制, 51/52/53/59 social organizations under 民政,
# 91/92/93 companies, sole proprietors and farmer cooperatives under 工商, Y1 other.
_USCC_KINDS = ("11", "12", "13", "19", "51", "52", "53", "59", "91", "91", "91", "92", "93", "Y1")
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _require_area(area: str) -> None:
    if len(area) != 6 or not area.isdigit():
        raise ValueError(f"area must be a six-digit GB/T 2260 code, got {area!r}")


def make_resident_id(rng: random.Random, birth: dt.date, area: str = "340104") -> str:
    """Make a valid 18-character resident identity number.

    Args:
        rng: Source of randomness (only the 3-digit sequence number is drawn).
        birth: Birth date to embed.
        area: Six-digit address code.

    Returns:
        The number, check character included.

    Raises:
        ValueError: If ``area`` is not six digits.
    """
    _require_area(area)
    body = f"{area}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + resident_id_check_char(body)


def _org_code(rng: random.Random) -> str:
    """Make a GB 11714 organization code (8 characters + its own check character)."""
    # Codes issued since 2015 by market regulators start with "MA"; older ones are digits.
    if rng.random() < 0.5:
        body = "MA" + "".join(rng.choice(CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice(string.digits) for _ in range(8))
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_CODE_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, area: str = "340100") -> str:
    """Make a valid 18-character unified social credit code.

    Args:
        rng: Source of randomness.
        area: Six-digit administrative division of the registration authority.

    Returns:
        The code, check character included.

    Raises:
        ValueError: If ``area`` is not six digits.
    """
    _require_area(area)
    body = rng.choice(_USCC_KINDS) + area + _org_code(rng)
    return body + uscc_check_char(body)


def _default_alphabet(s: str) -> str:
    """Digits for resident IDs (digits with an optional final X), else the USCC charset."""
    if len(s) in (15, 18) and s[:17].isdigit() and (len(s) == 15 or s[17] in "0123456789Xx"):
        return string.digits
    return CHARSET


def corrupt_one_char(rng: random.Random, s: str, alphabet: str | None = None) -> str:
    """Replace exactly one character of ``s`` with a different allowed character.

    Args:
        rng: Source of randomness (position and replacement).
        s: A non-empty code.
        alphabet: Allowed replacement characters; by default digits for resident IDs and
            the GB 32100 charset for anything else.

    Returns:
        A string of the same length differing from ``s`` at exactly one position.

    Raises:
        ValueError: If ``s`` is empty or the alphabet offers no different character.
    """
    if not s:
        raise ValueError("cannot corrupt an empty string")
    chars = alphabet or _default_alphabet(s)
    pos = rng.randrange(len(s))
    choices = [c for c in chars if c != s[pos]]
    if not choices:
        raise ValueError(f"alphabet {chars!r} has no replacement for {s[pos]!r}")
    return s[:pos] + rng.choice(choices) + s[pos + 1 :]
