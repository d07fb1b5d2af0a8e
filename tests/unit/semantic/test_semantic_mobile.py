import pyarrow as pa
import pytest

from exhub.semantic import check_mobile

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138-0013-8000",
        "0086 13800138000",
        "8613800138000",
        "(+86) 138 0013 8000",
        "138.0013.8000",
        "１３８００１３８０００",
        "138\u20140013\u20148000",
        "13800138000",
    ],
)
def test_normalized_to_eleven_digits(raw):
    result = check_mobile(pa.array([raw]))
    assert result.values.to_pylist() == ["13800138000"]
    assert result.valid.to_pylist() == [True]


@pytest.mark.parametrize(
    "raw", ["12800138000", "1380013800", "138001380001", "861380013800", "010-12345678", "abc"]
)
def test_invalid(raw):
    result = check_mobile(pa.array([raw]))
    assert result.values.to_pylist() == [None]
    assert result.valid.to_pylist() == [False]


def test_null_and_integer_input():
    result = check_mobile(pa.array([13912345678, None]))
    assert result.values.to_pylist() == ["13912345678", None]
    assert result.valid.to_pylist() == [True, True]
