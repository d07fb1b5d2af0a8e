import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhub.semantic import check_uscc, corrupt_one_char, make_uscc
from exhub.semantic.uscc import AUTHORITIES_2015, CHARSET, uscc_check_char

pytestmark = pytest.mark.unit

# The worked example printed in GB 32100-2015.
STANDARD_EXAMPLE = "91350100M000100Y43"


def check(values, **kwargs):
    result = check_uscc(pa.array(values, pa.string()), **kwargs)
    return result.values.to_pylist(), result.valid.to_pylist()


def test_standard_example_passes():
    assert check([STANDARD_EXAMPLE]) == ([STANDARD_EXAMPLE], [True])


def test_lowercase_and_spaces_normalized():
    assert check([" 91350100m000100y43 "]) == ([STANDARD_EXAMPLE], [True])


def test_check_char_function_matches_example():
    assert uscc_check_char(STANDARD_EXAMPLE) == "3"


@pytest.mark.parametrize(
    "bad",
    [
        "91350100M000100Y44",  # wrong check char
        "91350100M000100Y4",  # too short
        "91350100M000100Y433",  # too long
        "9135010OM000100Y43",  # letter in the division code
        "91350100M00O100Y43",  # O is not in the charset
    ],
)
def test_invalid(bad):
    assert check([bad]) == ([None], [False])


def test_unassigned_authority_fails_even_with_right_check():
    body = "C1340100MA2N00000"
    assert check([body + "0"])[1] == [False]
    assert all(check([body + c])[1] == [False] for c in CHARSET)


def test_strict_2015_authorities_option():
    body = "31340100MA2N00000"
    code = body + uscc_check_char(body)
    assert check([code])[1] == [True]
    assert check([code], authorities=AUTHORITIES_2015)[1] == [False]


def test_null_valid():
    assert check([None]) == ([None], [True])


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False), area=st.sampled_from(["340100", "340104", "110000"]))
def test_generated_codes_pass(rng, area):
    code = make_uscc(rng, area)
    assert code[2:8] == area
    assert check([code, code.lower()]) == ([code, code], [True, True])


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False), pos=st.integers(0, 17))
def test_any_single_char_change_fails(rng, pos):
    code = make_uscc(rng)
    for char in CHARSET:
        if char != code[pos]:
            changed = code[:pos] + char + code[pos + 1 :]
            assert check([changed]) == ([None], [False]), changed


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_corrupt_one_char_breaks_generated_code(rng):
    code = make_uscc(rng)
    changed = corrupt_one_char(rng, code)
    assert sum(a != b for a, b in zip(changed, code, strict=True)) == 1
    assert check([changed])[1] == [False]


def test_make_uscc_deterministic():
    assert make_uscc(random.Random(1)) == make_uscc(random.Random(1))
