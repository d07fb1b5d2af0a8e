import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhub.semantic import parse_dates
from exhub.semantic.dates import excel_serial_to_date

pytestmark = pytest.mark.unit

MARCH_1 = dt.date(2019, 3, 1)


def parse(values, **kwargs):
    result = parse_dates(pa.array(values), **kwargs)
    assert result.values.type == pa.date32()
    return result.values.to_pylist(), result.valid.to_pylist()


@pytest.mark.parametrize(
    "raw",
    [
        "20190301",
        "2019-03-01",
        "2019-3-1",
        "2019/3/1",
        "2019/03/01",
        "2019.3.1",
        "2019年3月1日",
        "2019年03月01日",
        "2019 年 3 月 1 日",
        "２０１９年３月１日",
        "2019-03-01 08:30:00",
        "2019-03-01T08:30:00",
        "2019/3/1 8:30",
        "43525",
        " 43525 ",
    ],
)
def test_accepted_shapes(raw):
    assert parse([raw]) == ([MARCH_1], [True])


@pytest.mark.parametrize(
    "raw",
    [
        "0000-00-00",
        "2019-02-30",
        "2019-02-29",
        "2019-13-01",
        "20190230",
        "2019031",
        "2019-3/1",
        "2019-02-29 10:00:00",
        "60",
        "0",
        "60001",
        "not a date",
    ],
)
def test_rejected_without_crash(raw):
    assert parse([raw]) == ([None], [False])


def test_leap_day_accepted():
    assert parse(["2020-02-29", "2000-02-29"]) == (
        [dt.date(2020, 2, 29), dt.date(2000, 2, 29)],
        [True, True],
    )


def test_excel_serials_around_the_1900_leap_bug():
    values, valid = parse(["1", "59", "61", "43525"])
    assert values == [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), MARCH_1]
    assert valid == [True] * 4


def test_excel_serial_ints_and_floats():
    assert parse([43525, 60, 0, None]) == ([MARCH_1, None, None, None], [True, False, False, True])
    assert parse([43525.0, 43525.75, float("nan")]) == (
        [MARCH_1, MARCH_1, None],
        [True, True, False],
    )


def test_nulls_and_blanks_are_valid_nulls():
    assert parse([None, "", "  "]) == ([None, None, None], [True, True, True])


def test_date32_passes_through():
    arr = pa.array([MARCH_1, None], pa.date32())
    result = parse_dates(arr)
    assert result.values.to_pylist() == [MARCH_1, None]
    assert result.valid.to_pylist() == [True, True]


def test_timestamps_are_cast():
    arr = pa.array([dt.datetime(2019, 3, 1, 23, 59), None], pa.timestamp("us"))
    assert parse_dates(arr).values.to_pylist() == [MARCH_1, None]


def test_custom_formats_replace_builtin_shapes():
    values, valid = parse(
        ["01/03/2019", "1/3/2019", "31/02/2019", "2019-03-01"], formats=["%d/%m/%Y"]
    )
    assert values == [MARCH_1, MARCH_1, None, None]
    assert valid == [True, True, False, False]


def test_custom_formats_tried_in_order():
    values, _ = parse(["01/03/2019", "2019.03.01"], formats=["%d/%m/%Y", "%Y.%m.%d"])
    assert values == [MARCH_1, MARCH_1]


def test_chunked_input():
    result = parse_dates(pa.chunked_array([["2019-03-01"], ["20190301", None]]))
    assert result.values.to_pylist() == [MARCH_1, MARCH_1, None]


def test_excel_serial_function_direct():
    assert excel_serial_to_date(pa.array([43525, 60000, 60001])).to_pylist() == [
        MARCH_1,
        dt.date(2064, 4, 8),
        None,
    ]


@settings(deadline=None)
@given(day=st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_round_trip_every_builtin_shape(day):
    shapes = [
        f"{day:%Y%m%d}",
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    ]
    assert parse(shapes) == ([day] * 5, [True] * 5)
