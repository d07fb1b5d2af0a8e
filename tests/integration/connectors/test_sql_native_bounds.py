"""The ADBC path inlines the cursor's lower bound: it must select exactly what ``$1`` did.

An inlined bound lets the driver stream through COPY instead of holding the whole result of a
prepared statement. A literal that PostgreSQL read as another type or another instant (a
zone shifted, a microsecond dropped) would lose or repeat rows at the boundary, so every
cursor type is read both ways around values one step either side of the bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors.base import ReadRequest
from connectors.sql import SqlConnector, SqlOptions
from connectors.sql.native import bound_literal
from connectors.testing import read_all, records_of

pytestmark = pytest.mark.integration

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
STEP_US = dt.timedelta(microseconds=1)
NAIVE = dt.datetime(2024, 2, 29, 23, 59, 59, 999_999)
AWARE = dt.datetime(2024, 3, 1, 7, 59, 59, 999_999, tzinfo=SHANGHAI)
DAY = dt.date(2024, 2, 29)
# column type, bound, values below / at / above the bound
CASES = {
    "ts": ("timestamp", NAIVE, [NAIVE - STEP_US, NAIVE, NAIVE + STEP_US]),
    "tstz": ("timestamptz", AWARE, [AWARE - STEP_US, AWARE, AWARE + STEP_US]),
    "day": ("date", DAY, [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]),
    "n": ("bigint", 9_007_199_254_740_993, [9_007_199_254_740_992, 9_007_199_254_740_993, 2**62]),
    "amount": (
        "numeric(20,6)",
        Decimal("12345678901234.000001"),
        [
            Decimal("12345678901234.000000"),
            Decimal("12345678901234.000001"),
            Decimal("12345678901234.000002"),
        ],
    ),
}


@pytest.fixture(scope="module")
def url(postgres_url: str, postgresql_running: None) -> Iterator[str]:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        for name, (sql_type, _, values) in CASES.items():
            con.execute(sa.text(f"DROP TABLE IF EXISTS bound_{name}"))
            con.execute(sa.text(f"CREATE TABLE bound_{name} (id int PRIMARY KEY, c {sql_type})"))
            for index, value in enumerate(values):
                con.execute(
                    sa.text(f"INSERT INTO bound_{name} VALUES (:id, :c)"), {"id": index, "c": value}
                )
    engine.dispose()
    yield postgres_url


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_inlined_bound_selects_what_the_parameter_did(url: str, name: str) -> None:
    _, bound, _ = CASES[name]
    literal = bound_literal(bound)
    assert literal is not None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            table = f"bound_{name}"
            by_literal = con.execute(sa.text(f"SELECT id FROM {table} WHERE c >= {literal}"))
            by_parameter = con.execute(
                sa.text(f"SELECT id FROM {table} WHERE c >= :b"), {"b": bound}
            )
            assert sorted(r[0] for r in by_literal) == sorted(r[0] for r in by_parameter) == [1, 2]
    finally:
        engine.dispose()


def test_text_cursors_stay_parameters() -> None:
    assert bound_literal("2024-02-29 O'Brien") is None
    assert bound_literal(True) is None
    assert bound_literal(Decimal("NaN")) is None


def test_an_incremental_native_read_keeps_the_boundary_row(url: str) -> None:
    """Through the connector: the row at the watermark is read again, the one before is not."""
    connector = SqlConnector(SqlOptions(url=url, reader="adbc"))
    request = ReadRequest(
        "bound_tstz",
        key_columns=("id",),
        cursor="c",
        watermark=AWARE.isoformat(),
        batch_size=2,
        timezone="Asia/Shanghai",
    )
    with connector:
        ids = sorted(records_of(read_all(connector, request)).column("id").to_pylist())
    assert ids == [1, 2]
