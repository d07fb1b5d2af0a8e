"""The numpy fast paths give exactly the results of the pre-fast-path implementation.

``semantic_reference`` is a frozen copy of the old code; every check here compares values
(type, content, nulls), the valid mask and the reason on the same input.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import semantic_reference as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from semantic_samples import clean_person_columns, person_columns

from exhub.semantic import (
    check_admin_division,
    check_mobile,
    check_resident_id,
    check_uscc,
    make_uscc,
    normalize_text,
)
from exhub.semantic.admin_division import load_divisions
from exhub.semantic.resident_id import PROVINCE_PREFIXES
from exhub.semantic.text import (
    _ASCII_SPACE,
    _SPACE_LEAD_OF_THREE,
    _THREE_BYTE_SPACES,
    _TWO_BYTE_SPACES,
    is_ascii_space,
    is_space_lead_of_three,
    squeeze,
)

pytestmark = pytest.mark.unit

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters legacy data actually holds, plus every kind of Unicode whitespace and
# multi-byte neighbours of the special characters (U+3001, U+FF00, U+FF5F).
DIRTY_CHARS = [
    *"0123456789Xx",
    *" \t\n\v\f\r\x1c\x1f",
    "\u3000",
    "\u3001",
    "\ufeff",
    *"０１２３４５６７８９Ｘｘ",
    "\uff00",
    "\uff5f",
    *"合肥市",
    *"+-().",
    "\u2013",
    "\u2014",
    *"\u00a0\u0085\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f",
    "é",
    "😀",
    "。",
    "（",
]
dirty_text = st.text(alphabet=st.sampled_from(DIRTY_CHARS), max_size=24)
padding = st.text(alphabet=st.sampled_from([" ", "\u3000", "\t", "\ufeff", "\u00a0"]), max_size=2)
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _decorate(draw, core: str) -> str:
    style = draw(st.sampled_from(["plain", "plain", "lower", "full", "spaced", "cut", "extra"]))
    if style == "lower":
        core = core.lower()
    elif style == "full":
        core = core.translate(FULL_WIDTH)
    elif style == "spaced":
        at = draw(st.integers(0, len(core)))
        core = core[:at] + draw(st.sampled_from([" ", "\u3000", "-"])) + core[at:]
    elif style == "cut":
        core = core[: draw(st.integers(0, len(core)))]
    elif style == "extra":
        core = core + draw(st.sampled_from(["0", "X", "合"]))
    return draw(padding) + core + draw(padding)


@st.composite
def resident_ids(draw) -> str:
    province = draw(
        st.one_of(st.sampled_from(PROVINCE_PREFIXES), st.from_regex(r"[0-9]{2}", fullmatch=True))
    )
    area = province + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    year = draw(st.one_of(st.integers(1890, dt.date.today().year + 1), st.just(0)))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    if draw(st.booleans()):  # near today and the earliest birth date, to hit the edges
        edge = draw(st.sampled_from([dt.date.today(), dt.date(1900, 1, 1)]))
        edge += dt.timedelta(days=draw(st.integers(-1, 1)))
        year, month, day = edge.year, edge.month, edge.day
    body = f"{area}{year:04d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    check = ref.CHECK_CHARS[sum(int(c) * w for c, w in zip(body, ref.WEIGHTS, strict=True)) % 11]
    if draw(st.integers(0, 3)) == 0:
        check = draw(st.sampled_from("0123456789Xx"))
    code = body + check
    if draw(st.integers(0, 4)) == 0 and code[6:8] == "19":
        code = code[:6] + code[8:17]  # first-generation 15-digit number
    return _decorate(draw, code)


@st.composite
def mobiles(draw) -> str:
    digits = draw(st.from_regex(r"1[0-9]{10}", fullmatch=True))
    prefix = draw(st.sampled_from(["", "", "+86", "+86 ", "0086", "86", "(+86)"]))
    if draw(st.booleans()):
        digits = f"{digits[:3]}{draw(st.sampled_from('- .–—'))}{digits[3:7]}-{digits[7:]}"
    return _decorate(draw, prefix + digits)


@st.composite
def division_codes(draw) -> str:
    listed = sorted(d.code for d in load_divisions().divisions)
    code = draw(
        st.one_of(
            st.sampled_from(listed),
            st.from_regex(r"[0-9]{6}", fullmatch=True),
            st.sampled_from(PROVINCE_PREFIXES).flatmap(
                lambda p: st.from_regex(r"[0-9]{4}", fullmatch=True).map(lambda rest: p + rest)
            ),
        )
    )
    return _decorate(draw, code)


def values_of(strategy) -> st.SearchStrategy[list[str | None]]:
    return st.lists(st.one_of(st.none(), strategy, dirty_text), max_size=40)


def _shapes(values: list[str | None]) -> list[pa.Array | pa.ChunkedArray]:
    """The same values as a plain, a sliced, a chunked and a large_string array."""
    arr = pa.array(values, pa.string())
    padded = pa.array(["11", None, "\u3000x", *values], pa.string()).slice(3)
    cut = len(values) // 2
    chunked = pa.chunked_array([arr.slice(0, cut), arr.slice(cut)], pa.string())
    return [arr, padded, chunked, arr.cast(pa.large_string())]


def assert_same_result(new, old) -> None:
    new.values.validate(full=True)
    assert new.values.type == old.values.type
    assert new.values.to_pylist() == old.values.to_pylist()
    assert new.valid.null_count == 0
    assert new.valid.to_pylist() == old.valid.to_pylist()
    assert new.reason == old.reason


def assert_same_text(new: pa.Array, old: pa.Array) -> None:
    new.validate(full=True)
    assert new.type == old.type
    assert new.to_pylist() == old.to_pylist()


@FAST
@given(values_of(resident_ids()))
def test_resident_id_same_as_reference(values):
    for arr in _shapes(values):
        assert_same_result(check_resident_id(arr), ref.check_resident_id(arr))


@FAST
@given(values_of(mobiles()))
def test_mobile_same_as_reference(values):
    for arr in _shapes(values):
        assert_same_result(check_mobile(arr), ref.check_mobile(arr))


@FAST
@given(
    values_of(division_codes()),
    st.sampled_from([None, dt.date(1999, 12, 31), dt.date(2011, 8, 22), dt.date(2023, 6, 1)]),
)
def test_admin_division_same_as_reference(values, as_of):
    for arr in _shapes(values):
        assert_same_result(check_admin_division(arr, as_of), ref.check_admin_division(arr, as_of))


@FAST
@given(values_of(st.one_of(resident_ids(), mobiles())))
def test_normalize_text_and_squeeze_same_as_reference(values):
    for arr in _shapes(values):
        assert_same_text(normalize_text(arr), ref.normalize_text(arr))
        assert_same_text(squeeze(arr), ref.squeeze(arr))
        assert_same_text(squeeze(arr, r"\s\-()"), ref.squeeze(arr, r"\s\-()"))


@pytest.mark.parametrize(
    "arr",
    [
        pa.array([], pa.string()),
        pa.nulls(5, pa.string()),
        pa.array([None, None, None], pa.string()).slice(1),
        pa.array(["", "", None], pa.string()),
        pa.array([" ", "\u00a0", "a\u3000", "\u2029"], pa.string()),
        pa.array(["1", "2", "x ", " y"], pa.string()),
        pa.array([1101011990, None, 13800138000], pa.int64()),
        pa.array(["110101199003077777", "13800138000", "340104"]).dictionary_encode(),
    ],
    ids=lambda a: str(a.type),
)
def test_edge_arrays_same_as_reference(arr):
    assert_same_text(normalize_text(arr), ref.normalize_text(arr))
    assert_same_text(squeeze(arr), ref.squeeze(arr))
    assert_same_result(check_resident_id(arr), ref.check_resident_id(arr))
    assert_same_result(check_mobile(arr), ref.check_mobile(arr))
    assert_same_result(check_admin_division(arr), ref.check_admin_division(arr))


@pytest.mark.parametrize("columns", [person_columns(3000), clean_person_columns(2000)])
def test_realistic_register_same_as_reference(columns):
    assert_same_result(
        check_resident_id(columns["resident_id"]), ref.check_resident_id(columns["resident_id"])
    )
    assert_same_result(check_mobile(columns["mobile"]), ref.check_mobile(columns["mobile"]))
    assert_same_result(
        check_admin_division(columns["division"]), ref.check_admin_division(columns["division"])
    )
    for name in ("name", "address", "resident_id", "mobile", "division"):
        assert_same_text(normalize_text(columns[name]), ref.normalize_text(columns[name]))


def test_uscc_unchanged_through_new_squeeze():
    rng = random.Random(3)
    codes = [make_uscc(rng) for _ in range(300)]
    codes += [c.lower() + " " for c in codes[:50]] + [None, "", "\u3000"]
    arr = pa.array(codes, pa.string())
    old = ref.squeeze(arr)
    assert_same_text(squeeze(arr), old)
    assert check_uscc(arr).valid.to_pylist() == check_uscc(old).valid.to_pylist()


def test_whitespace_table_matches_the_trim_kernel():
    """The byte tables in text.py list exactly what utf8_trim_whitespace removes."""
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array(["a" + chr(c) for c in code_points]))
    kernel = {c for c, t in zip(code_points, trimmed.to_pylist(), strict=True) if t == "a"}
    table = {c for c in range(128) if _ASCII_SPACE[c]}
    for encoded in (*_TWO_BYTE_SPACES.tolist(), *_THREE_BYTE_SPACES.tolist()):
        table.add(ord(encoded.to_bytes(2 if encoded < 0x10000 else 3, "big").decode()))
    assert table == kernel


def test_byte_range_tests_match_the_tables_for_every_byte():
    octets = np.arange(256, dtype=np.uint8)
    assert is_ascii_space(octets).tolist() == _ASCII_SPACE.tolist()
    assert is_space_lead_of_three(octets).tolist() == _SPACE_LEAD_OF_THREE.tolist()
    three_byte_leads = {code >> 16 for code in _THREE_BYTE_SPACES.tolist()}
    assert three_byte_leads == set(np.flatnonzero(_SPACE_LEAD_OF_THREE).tolist())


# Every character the trim kernel removes, and multi-byte neighbours that it keeps.
EDGE_CHARS = [
    *"\t\n\v\f\r\x1c\x1d\x1e\x1f ",
    *"\u0085\u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000",
    *"\u0084\u00a1\u00b7\u1681\u180e\u200b\u200c\u2027\u202a\u205e\u2060\u3001\u3002\ufeff",
    *"\uff01\uff5e\uff00\uff5f",
]


@pytest.mark.parametrize("char", EDGE_CHARS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["alone", "start", "end", "middle", "first_row_alone"])
def test_one_special_row_among_clean_rows(char, where):
    """A single row with the character decides alone whether the kernels must run."""
    clean = ["合肥市蜀山区", "王伟", "ABC", "1", "长江西路12号"]
    row = {
        "alone": char,
        "start": char + "王",
        "end": "王" + char,
        "middle": "王" + char + "伟",
        "first_row_alone": char,
    }[where]
    values = [row, *clean] if where == "first_row_alone" else [*clean, row, *clean]
    for arr in _shapes(values):
        assert_same_text(normalize_text(arr), ref.normalize_text(arr))
        assert_same_text(squeeze(arr), ref.squeeze(arr))
