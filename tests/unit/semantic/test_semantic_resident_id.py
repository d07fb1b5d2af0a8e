import datetime as dt
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhub.semantic import check_resident_id, corrupt_one_char, make_resident_id
from exhub.semantic.resident_id import resident_id_check_char

pytestmark = pytest.mark.unit

ANHUI_AREAS = ["340104", "340102", "340181", "341202", "341882"]
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today())


def check(values):
    result = check_resident_id(pa.array(values, pa.string()))
    return result.values.to_pylist(), result.valid.to_pylist()


def test_standard_example_passes():
    assert check(["11010519491231002X"]) == (["11010519491231002X"], [True])


def test_lowercase_x_accepted_and_upper_cased():
    assert check(["11010519491231002x"]) == (["11010519491231002X"], [True])


def test_spaces_and_full_width_digits_stripped():
    values, valid = check([" 110105 19491231 002X\u3000", "１１０１０５１９４９１２３１００２Ｘ"])
    assert values == ["11010519491231002X"] * 2
    assert valid == [True, True]


def test_fifteen_digit_upgrade():
    assert check(["110105491231002"]) == (["11010519491231002X"], [True])


def test_fifteen_digit_with_impossible_date_fails():
    assert check(["110105490231002"]) == ([None], [False])


def test_wrong_check_char_fails():
    assert check(["110105194912310021"]) == ([None], [False])


@pytest.mark.parametrize(
    "birth",
    [dt.date(1899, 12, 31), dt.date.today() + dt.timedelta(days=1)],
)
def test_birth_date_out_of_range_fails_even_with_right_check(birth):
    body = f"340104{birth:%Y%m%d}123"
    assert check([body + resident_id_check_char(body)]) == ([None], [False])


def test_impossible_birth_date_fails_even_with_right_check():
    body = "34010419490230123"
    assert check([body + resident_id_check_char(body)]) == ([None], [False])


def test_unknown_province_prefix_fails_even_with_right_check():
    body = "99010519491231002"
    assert check([body + resident_id_check_char(body)]) == ([None], [False])


@pytest.mark.parametrize(
    "bad", ["", "abc", "11010519491231002", "1101051949123100211", "X1010519491231002X"]
)
def test_wrong_shapes(bad):
    values, valid = check([bad])
    assert values == [None]
    # Blank input is treated as missing, not as invalid.
    assert valid == [bad == ""]


def test_null_is_valid_with_null_value():
    assert check([None]) == ([None], [True])


def test_integer_input_is_accepted():
    result = check_resident_id(pa.array([110105491231002, None]))
    assert result.values.to_pylist() == ["11010519491231002X", None]


def test_make_resident_id_is_deterministic():
    a = make_resident_id(random.Random(7), dt.date(1990, 5, 17))
    b = make_resident_id(random.Random(7), dt.date(1990, 5, 17))
    assert a == b
    assert a.startswith("34010419900517")


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False), birth=births, area=st.sampled_from(ANHUI_AREAS))
def test_generated_ids_pass(rng, birth, area):
    id_number = make_resident_id(rng, birth, area)
    assert check([id_number, id_number.lower()]) == ([id_number] * 2, [True, True])


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False), birth=births, pos=st.integers(0, 17))
def test_any_single_digit_change_fails(rng, birth, pos):
    id_number = make_resident_id(rng, birth)
    # MOD 11-2 detects every single substitution, including ones that leave a real
    # birth date or a known province in place.
    for digit in "0123456789":
        if digit != id_number[pos]:
            changed = id_number[:pos] + digit + id_number[pos + 1 :]
            assert check([changed]) == ([None], [False]), changed


@settings(deadline=None)
@given(rng=st.randoms(use_true_random=False), birth=births)
def test_corrupt_one_char_breaks_generated_id(rng, birth):
    id_number = make_resident_id(rng, birth)
    changed = corrupt_one_char(rng, id_number)
    assert sum(a != b for a, b in zip(changed, id_number, strict=True)) == 1
    assert check([changed])[1] == [False]


def test_batch_of_many_rows_mixes_valid_invalid_and_null():
    rng = random.Random(3)
    good = [make_resident_id(rng, dt.date(1980, 1, 1) + dt.timedelta(days=i)) for i in range(500)]
    bad = [corrupt_one_char(rng, g) for g in good]
    values, valid = check(good + bad + [None])
    assert valid == [True] * 500 + [False] * 500 + [True]
    assert values == good + [None] * 501
