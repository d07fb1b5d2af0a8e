"""The ADBC path's conforming of Arrow columns, on arrays shaped as ADBC hands them over.

The reads themselves run against a real PostgreSQL in tests/integration/connectors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from connectors.sql.decimals import NAN_SENTINEL, scaled_scale
from connectors.sql.native import _columns, select_sql
from connectors.sql.types import ColumnPlan, Kind

pytestmark = pytest.mark.unit

V = ColumnPlan("v", Kind.DECIMAL, pa.decimal128(12, 2))
Z = ColumnPlan("z", Kind.DECIMAL, pa.decimal128(5, 0))
W = ColumnPlan("w", Kind.DECIMAL, pa.decimal128(30, 5))
U = ColumnPlan("u", Kind.DECIMAL, pa.string())
ID = ColumnPlan("id", Kind.INT, pa.int64())
D = ColumnPlan("d", Kind.DATE, pa.date32())


def test_only_numeric_up_to_18_digits_is_scaled() -> None:
    assert scaled_scale(V) == 2 and scaled_scale(Z) == 0
    assert scaled_scale(ColumnPlan("x", Kind.DECIMAL, pa.decimal128(18, 18))) == 18
    assert scaled_scale(ColumnPlan("x", Kind.DECIMAL, pa.decimal128(19, 2))) is None
    assert scaled_scale(W) is None and scaled_scale(U) is None and scaled_scale(ID) is None


def test_select_keeps_the_source_names() -> None:
    table = sa.Table("t", sa.MetaData(), schema="hr")
    preparer = postgresql.dialect().identifier_preparer
    sql = select_sql(table, [ID, V, Z, W], preparer, order=["v"], cursor="v", bound="$1")
    assert sql == (
        "SELECT id,"
        " CASE WHEN v = 'NaN' THEN (-9223372036854775808)::int8 ELSE (v * 100)::int8 END AS v,"
        " CASE WHEN z = 'NaN' THEN (-9223372036854775808)::int8 ELSE (z)::int8 END AS z,"
        " w FROM hr.t WHERE v >= $1 ORDER BY hr.t.v"
    )


def _batch(columns: dict[str, pa.Array], plans: list[ColumnPlan]):
    return _columns(pa.table(columns), plans, "Asia/Shanghai")


def test_scaled_values_become_exact_decimals_and_nan_a_reject() -> None:
    scaled = pa.array([150, NAN_SENTINEL, None, -1234, 999999999999, -999999999999, 0])
    # A slice, as re-chunking hands it over: the offset must be honoured.
    padded = pa.concat_arrays([pa.array([7, 7], pa.int64()), scaled]).slice(2)
    ids = pa.array(range(len(scaled)), pa.int32())
    batch = _batch({"id": ids, "v": padded}, [ID, V])
    values = batch.arrays[1].to_pylist()
    assert values == [
        Decimal("1.50"),
        None,
        None,
        Decimal("-12.34"),
        Decimal("9999999999.99"),
        Decimal("-9999999999.99"),
        Decimal("0.00"),
    ]
    assert batch.arrays[1].type == pa.decimal128(12, 2)
    assert batch.reasons == {1: ["column v: 'NaN' is not a number that fits decimal(12,2)"]}
    assert batch.raw == {1: '{"id": 1, "v": "NaN"}'}


def test_text_numeric_rejects_what_is_no_finite_decimal() -> None:
    text = pa.array(["1.50000", "nan", None, "-1.5", "1.000001"])
    unbounded = pa.array(["inf", "-inf", "nan", "1e3", None])
    ids = pa.array(range(5), pa.int64())
    batch = _batch({"id": ids, "w": text, "u": unbounded}, [ID, W, U])
    assert batch.arrays[1].to_pylist() == [
        Decimal("1.50000"),
        None,
        None,
        Decimal("-1.50000"),
        None,
    ]
    assert batch.arrays[2].to_pylist() == [None, None, None, "1e3", None]
    assert batch.reasons == {
        0: ["column u: 'Infinity' is not a number that fits numeric"],
        1: [
            "column w: 'NaN' is not a number that fits decimal(30,5)",
            "column u: '-Infinity' is not a number that fits numeric",
        ],
        2: ["column u: 'NaN' is not a number that fits numeric"],
        # Six decimals in a scale-5 column: no pre-check foresaw it, the value-by-value
        # fallback still names it.
        4: ["column w: '1.000001' is not a number that fits decimal(30,5)"],
    }
    assert batch.raw[1] == '{"id": 1, "w": "NaN", "u": "-Infinity"}'


def test_any_other_cast_failure_is_a_reject_not_a_crash() -> None:
    days = pa.array(["2024-02-29", "2024-02-30", None])
    batch = _batch({"id": pa.array([1, 2, 3]), "d": days}, [ID, D])
    assert batch.arrays[1].to_pylist() == [dt.date(2024, 2, 29), None, None]
    assert batch.reasons == {1: ["column d: cannot read '2024-02-30' as date32[day]"]}
    assert batch.raw == {1: '{"id": 2, "d": "2024-02-30"}'}


def test_a_clean_batch_has_no_rejects() -> None:
    batch = _batch({"id": pa.array([1]), "v": pa.array([5], pa.int64())}, [ID, V])
    assert batch.reasons == {} and batch.raw == {}
    assert batch.arrays[1].to_pylist() == [Decimal("0.05")]
