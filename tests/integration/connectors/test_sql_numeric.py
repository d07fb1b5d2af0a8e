"""PostgreSQL ``numeric`` through both read paths: exact decimals, NaN/±Infinity as rejects.

``numeric(p,s)`` holds NaN (PostgreSQL 14+ refuses infinity there: "A field with precision
12, scale 2 cannot hold an infinite value"); unconstrained ``numeric`` holds ±Infinity too.
No decimal can hold either, so the row is quarantined with its raw values, never a crash.
The ADBC path reads ``numeric(p<=18,s)`` as a scaled ``int8`` and wider ones as text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Context, Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.sql import SqlConnector, SqlOptions
from connectors.testing import ConnectorBehaviour, ErrorCase, read_all, records_of, rejects_of
from exhub.errors import ConfigError

pytestmark = pytest.mark.integration

D = Decimal
# id, v numeric(12,2), z numeric(5,0), m numeric(18,6), w numeric(30,5), u numeric
COLUMNS = ("id", "v", "z", "m", "w", "u")
ROWS = [
    (1, "-9999999999.99", "-99999", "-999999999999.999999", "-" + "9" * 25 + ".99999", "-1e30"),
    (2, "-12.34", "-1", "-0.000001", "-1234567890123456789012345.12345", "-0.001"),
    (3, "0", "0", "0", "0", "0"),
    (4, "0.01", "1", "0.000001", "0.00001", "0.0000001"),
    (5, "1.50", "42", "123456789012.345678", "1.5", "123456789012345678901234567890.5"),
    (6, "9999999999.99", "99999", "999999999999.999999", "9" * 25 + ".99999", "7"),
    (7, None, None, None, None, None),
    (8, "NaN", "7", "1", "1", "1"),  # NaN in a scaled column (p <= 18)
    (9, "2", "NaN", "NaN", "2", "2"),  # NaN at scale 0 and in numeric(18,6)
    (10, "3", "3", "3", "NaN", "3"),  # NaN in a text-read column (p > 18)
    (11, "4", "4", "4", "4", "Infinity"),
    (12, "5", "5", "5", "5", "-Infinity"),
    (13, "6", "6", "6", "6", "NaN"),
]
BAD = {  # id -> the reasons of its reject
    8: ["column v: 'NaN' is not a number that fits decimal(12,2)"],
    9: [
        "column z: 'NaN' is not a number that fits decimal(5,0)",
        "column m: 'NaN' is not a number that fits decimal(18,6)",
    ],
    10: ["column w: 'NaN' is not a number that fits decimal(30,5)"],
    11: ["column u: 'Infinity' is not a number that fits numeric"],
    12: ["column u: '-Infinity' is not a number that fits numeric"],
    13: ["column u: 'NaN' is not a number that fits numeric"],
}
TYPES = {
    "v": pa.decimal128(12, 2),
    "z": pa.decimal128(5, 0),
    "m": pa.decimal128(18, 6),
    "w": pa.decimal128(30, 5),
    "u": pa.string(),
}
REQUEST = ReadRequest("nums", key_columns=("id",), batch_size=4)


@pytest.fixture(scope="module")
def url(postgresql_running: None) -> Iterator[str]:
    name = f"exhub_it_num_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE nums (id int PRIMARY KEY, v numeric(12,2), z numeric(5,0),"
                    " m numeric(18,6), w numeric(30,5), u numeric)"
                )
            )
            for row in ROWS:
                conn.execute(
                    sa.text(
                        "INSERT INTO nums VALUES (:id, CAST(:v AS numeric), CAST(:z AS numeric),"
                        " CAST(:m AS numeric), CAST(:w AS numeric), CAST(:u AS numeric))"
                    ),
                    dict(zip(COLUMNS, row, strict=True)),
                )
            # A numeric key, and a numeric cursor with NaN rows (NaN sorts above every number).
            conn.execute(
                sa.text("CREATE TABLE ledger (k numeric(10,0) PRIMARY KEY, amt numeric(12,2))")
            )
            conn.execute(
                sa.text(
                    "INSERT INTO ledger VALUES (1, -3.00), (2, 0.50), (3, 'NaN'), (4, 1.25),"
                    " (5, 9.99), (6, 'NaN'), (7, 20.00), (8, NULL)"
                )
            )
        yield url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["auto", "sqlalchemy"])
def sql(request: pytest.FixtureRequest, url: str) -> Iterator[SqlConnector]:
    with SqlConnector(SqlOptions(url=url, reader=request.param)) as connector:
        yield connector


def _expected(value: str | None, kind: pa.DataType) -> object:
    if value is None:
        return None
    if pa.types.is_string(kind):
        return str(Decimal(value))  # exact text, as both paths render it
    return Decimal(value).quantize(Decimal(1).scaleb(-kind.scale), context=Context(prec=60))


def test_numbers_are_exact_and_non_numbers_are_rejects(sql: SqlConnector) -> None:
    batches = read_all(sql, REQUEST)
    records = records_of(batches)
    for name, kind in TYPES.items():
        assert records.schema.field(name).type == kind
    assert records.column_names == [*COLUMNS, POSITION_COLUMN]  # the source's names
    got = {row["id"]: row for row in records.to_pylist()}
    assert sorted(got) == [row[0] for row in ROWS if row[0] not in BAD]
    for row in ROWS:
        if row[0] in BAD:
            continue
        for name, value in zip(COLUMNS[1:5], row[1:5], strict=True):
            expected = _expected(value, TYPES[name])
            assert got[row[0]][name] == expected, (row[0], name)
            if expected is not None:
                assert str(got[row[0]][name]) == str(expected)  # digits and scale kept
    # Unconstrained numeric stays exact text, written out as PostgreSQL prints it.
    assert got[1]["u"] == "-1" + "0" * 30 and got[4]["u"] == "0.0000001"

    rejects = rejects_of(batches).to_pylist()
    assert [r[POSITION_COLUMN] for r in rejects] == [f"nums id={i}" for i in BAD]
    for reject in rejects:
        key = int(reject[POSITION_COLUMN].split("=")[1])
        assert reject["reason"] == "; ".join(BAD[key])
        raw = json.loads(reject["raw"])
        (row,) = [r for r in ROWS if r[0] == key]
        assert raw["id"] == key and set(raw) == set(COLUMNS)
        for name, value in zip(COLUMNS[1:], row[1:], strict=True):
            if value in ("NaN", "Infinity", "-Infinity"):
                assert raw[name] == value  # as the database prints it
            else:
                assert Decimal(raw[name]) == Decimal(value)


def test_both_readers_agree(url: str) -> None:
    reads = {}
    for reader in ("auto", "sqlalchemy"):
        with SqlConnector(SqlOptions(url=url, reader=reader)) as connector:
            batches = read_all(connector, replace(REQUEST, batch_size=5))
        reads[reader] = (records_of(batches), rejects_of(batches))
    assert reads["auto"][0].equals(reads["sqlalchemy"][0])
    assert reads["auto"][1].equals(reads["sqlalchemy"][1])


def test_a_batch_of_only_rejects_and_a_batch_of_none(sql: SqlConnector) -> None:
    batches = read_all(sql, replace(REQUEST, batch_size=104))  # the first batch: 13 rows
    assert [b.records.num_rows for b in batches] == [7]
    assert batches[0].rejects is not None and batches[0].rejects.num_rows == 6
    batches = read_all(sql, replace(REQUEST, batch_size=1))
    assert sum(b.records.num_rows for b in batches) == 7
    assert sum(b.rejects.num_rows for b in batches if b.rejects is not None) == 6


def test_numeric_key_names_the_rejected_row(sql: SqlConnector) -> None:
    batches = read_all(sql, ReadRequest("ledger", key_columns=("k",), batch_size=3))
    rejects = rejects_of(batches)
    assert rejects.column(POSITION_COLUMN).to_pylist() == ["ledger k=3", "ledger k=6"]
    assert json.loads(rejects.column("raw")[0].as_py()) == {"k": "3", "amt": "NaN"}
    records = records_of(batches)
    assert records.column("k").type == pa.decimal128(10, 0)
    assert records.column("amt").to_pylist() == [
        D("-3.00"),
        D("0.50"),
        D("1.25"),
        D("9.99"),
        D("20.00"),
        None,
    ]


class TestNumericCursorBehaviour(ConnectorBehaviour):
    """The shared suite on a numeric cursor whose column holds NaN (read again, rejected)."""

    @pytest.fixture
    def connector(self, sql: SqlConnector) -> SqlConnector:
        return sql

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return ReadRequest("ledger", key_columns=("k",), cursor="amt", batch_size=3)

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        amounts = [("1", "-3.00"), ("2", "0.50"), ("4", "1.25"), ("5", "9.99"), ("7", "20.00")]
        return [{"k": D(k), "amt": D(a)} for k, a in amounts] + [{"k": D(8), "amt": None}]

    @pytest.fixture
    def expected_reject_count(self) -> int:
        return 2

    @pytest.fixture
    def error_cases(self, sql: SqlConnector) -> list[ErrorCase]:
        return [
            ErrorCase(
                "missing table",
                lambda: read_all(sql, ReadRequest("ledgr")),
                ConfigError,
                r"table 'ledgr' does not exist .*existing tables: ledger, nums",
            )
        ]
