import dataclasses
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exhub.semantic as semantic
from exhub.semantic import SEMANTIC_TYPES, SemanticResult

pytestmark = pytest.mark.unit


def test_registry_keys():
    assert set(SEMANTIC_TYPES) == {
        "cn_resident_id",
        "cn_uscc",
        "cn_admin_division",
        "cn_mobile",
        "date",
    }


def test_public_names():
    for name in [
        "normalize_text",
        "check_resident_id",
        "check_uscc",
        "check_admin_division",
        "check_mobile",
        "parse_dates",
        "SemanticResult",
        "SEMANTIC_TYPES",
        "make_resident_id",
        "make_uscc",
        "corrupt_one_char",
    ]:
        assert hasattr(semantic, name)
        assert name in semantic.__all__


def test_result_is_frozen():
    result = SEMANTIC_TYPES["cn_mobile"](pa.array(["13800138000", "x", None]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.reason = "changed"  # type: ignore[misc]
    assert result.invalid_count == 1
    assert result.reason


def _assert_contract(result: SemanticResult, n: int):
    assert len(result.values) == len(result.valid) == n
    assert result.valid.type == pa.bool_()
    assert result.valid.null_count == 0
    # Invalid rows never carry a value.
    assert pc.all(pc.or_(result.valid, pc.is_null(result.values))).as_py() is not False


@pytest.mark.parametrize("name", sorted(SEMANTIC_TYPES))
def test_empty_and_all_null(name):
    check = SEMANTIC_TYPES[name]
    _assert_contract(check(pa.array([], pa.string())), 0)
    result = check(pa.array([None, None], pa.string()))
    _assert_contract(result, 2)
    assert result.valid.to_pylist() == [True, True]
    assert result.values.to_pylist() == [None, None]


@settings(deadline=None, max_examples=60)
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_arbitrary_text_never_crashes(values):
    arr = pa.array(values, pa.string())
    for check in SEMANTIC_TYPES.values():
        _assert_contract(check(arr), len(values))


def test_as_of_accepted_by_admin_division_registry_entry():
    result = SEMANTIC_TYPES["cn_admin_division"](pa.array(["340221"]), dt.date(2019, 1, 1))
    assert result.valid.to_pylist() == [True]
