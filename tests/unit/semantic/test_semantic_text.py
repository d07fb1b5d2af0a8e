import numpy as np
import pyarrow as pa
import pytest

from exhub.semantic import normalize_text

pytestmark = pytest.mark.unit


def test_full_width_ascii_becomes_half_width():
    assert normalize_text(pa.array(["ＡＢＣ１２３"])).to_pylist() == ["ABC123"]


def test_full_width_range_edges():
    assert normalize_text(pa.array(["！～（）"])).to_pylist() == ["!~()"]


def test_bom_removed_and_ideographic_space_trimmed_or_kept_as_space():
    arr = pa.array(["\ufeffabc", "\u3000a\u3000b\u3000", " \t x \n"])
    assert normalize_text(arr).to_pylist() == ["abc", "a b", "x"]


def test_empty_and_blank_become_null_and_null_stays_null():
    arr = pa.array(["", "   ", "\u3000", "\ufeff", None])
    assert normalize_text(arr).to_pylist() == [None] * 5


def test_chinese_text_untouched():
    assert normalize_text(pa.array(["合肥市蜀山区"])).to_pylist() == ["合肥市蜀山区"]


def test_mixed_rows_only_affected_rows_change():
    arr = pa.array(["plain", "ｆｕｌｌ", None, "ｆｕｌｌ", "半角ａ"])
    assert normalize_text(arr).to_pylist() == ["plain", "full", None, "full", "半角a"]


@pytest.mark.parametrize(
    "arr",
    [
        pa.array(["ＡＢ", None], pa.large_string()),
        pa.array(["ＡＢ", None], pa.string_view()),
        pa.array(["ＡＢ", None]).dictionary_encode(),
        pa.chunked_array([["ＡＢ"], [None]]),
    ],
)
def test_string_like_inputs(arr):
    out = normalize_text(arr)
    assert out.type == pa.string()
    assert out.to_pylist() == ["AB", None]


def test_empty_array():
    assert len(normalize_text(pa.array([], pa.string()))) == 0


def test_text_under_a_null_row_is_left_alone():
    # Arrow lets a null row keep bytes; a full-width "Ａ" there must not make the row text.
    data = "Ａx ｂ".encode()
    offsets = pa.py_buffer(np.array([0, 3, 4, 8], np.int32).tobytes())
    validity = pa.py_buffer(np.packbits([False, True, True], bitorder="little"))
    arr = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, pa.py_buffer(data)])
    assert normalize_text(arr).to_pylist() == [None, "x", "b"]


def test_only_rows_holding_special_characters_are_rewritten():
    plain = [f"合肥市蜀山区长江西路{i}号" for i in range(1000)]
    values = [*plain, "（１次变更）", "\ufeff地址", " 末尾空格\u3000", None]
    assert normalize_text(pa.array(values)).to_pylist() == [
        *plain,
        "(1次变更)",
        "地址",
        "末尾空格",
        None,
    ]
