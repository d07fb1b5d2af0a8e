"""The SQL connector against SQLite files: behaviour suite plus SQL-specific cases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from connectors.base import POSITION_COLUMN, ReadRequest, ramping_batch_sizes
from connectors.registry import load_connector
from connectors.sql import SqlConnector, SqlOptions
from connectors.sql.options import safe_url, scrub
from connectors.testing import (
    ConnectorBehaviour,
    ErrorCase,
    SecretCase,
    read_all,
    records_of,
    rejects_of,
)
from exhub.errors import ConfigError, SourceUnreachableError

pytestmark = pytest.mark.unit

UTC = dt.UTC
SECRET = "p@ss%2F/wörd"
ENCODED = quote(SECRET, safe="")

# Naive local times (Asia/Shanghai, UTC+8) as the legacy system writes them.
PEOPLE = [
    (1, "张三", Decimal("12345678.91"), dt.date(1980, 1, 31), dt.datetime(2024, 3, 1, 8, 0), True),
    (2, "李四", Decimal("0.10"), dt.date(1991, 2, 28), dt.datetime(2024, 3, 1, 8, 0), False),
    (3, "王五", Decimal("-5.00"), None, dt.datetime(2024, 3, 2, 9, 30), True),
    (4, "赵六", None, dt.date(2000, 12, 1), dt.datetime(2024, 3, 3, 23, 59, 59), None),
    (5, "钱七", Decimal("99.99"), dt.date(1975, 6, 15), dt.datetime(2024, 3, 4, 0, 0, 1), True),
    (6, "孙八", Decimal("1.00"), dt.date(1969, 7, 20), dt.datetime(2024, 3, 4, 0, 0, 1), False),
    (7, "周九", Decimal("2.50"), dt.date(2001, 9, 9), None, True),
]
COLUMNS = ("id", "name", "amount", "born", "updated_at", "active")


def expected(rows: list[tuple]) -> list[dict]:
    out = []
    for row in rows:
        record = dict(zip(COLUMNS, row, strict=True))
        if record["updated_at"] is not None:
            local = record["updated_at"].replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
            record["updated_at"] = local.astimezone(UTC)
        out.append(record)
    return out


def make_db(path: Path, rows: list[tuple] = PEOPLE) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "persons",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40)),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("born", sa.Date),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("active", sa.Boolean),
    )
    sa.Table("departments", meta, sa.Column("code", sa.String(8), primary_key=True))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
    engine.dispose()
    return url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return make_db(tmp_path / "legacy.db")


@pytest.fixture
def sql(db_url: str) -> Iterator[SqlConnector]:
    connector = SqlConnector.from_options({"url": db_url}, where="test.yaml")
    yield connector
    connector.close()


REQUEST = ReadRequest(
    "persons", key_columns=("id",), cursor="updated_at", batch_size=3, timezone="Asia/Shanghai"
)


def unreachable(url: str) -> SqlConnector:
    return SqlConnector(SqlOptions(url=url, connect_timeout_seconds=2))


class TestSqliteBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, sql: SqlConnector) -> SqlConnector:
        return sql

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return REQUEST

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        return expected(PEOPLE)

    @pytest.fixture
    def error_cases(self, sql: SqlConnector, tmp_path: Path) -> list[ErrorCase]:
        gone = unreachable(f"sqlite:///{tmp_path}/no/such/dir/x.db")
        missing_file = unreachable(f"sqlite:///{tmp_path}/absent.db")
        return [
            ErrorCase(
                "missing table",
                lambda: read_all(sql, replace(REQUEST, source_object="nope")),
                ConfigError,
                r"table 'nope' does not exist .*existing tables: departments, persons",
            ),
            ErrorCase(
                "missing file", lambda: read_all(missing_file, REQUEST), SourceUnreachableError
            ),
            ErrorCase("missing folder", gone.check, SourceUnreachableError),
            ErrorCase(
                "unknown cursor",
                lambda: read_all(sql, replace(REQUEST, cursor="changed")),
                ConfigError,
                "cursor 'changed' is not a column",
            ),
            ErrorCase(
                "unknown key",
                lambda: read_all(sql, replace(REQUEST, key_columns=("pk",))),
                ConfigError,
                "key column 'pk'",
            ),
            ErrorCase(
                "bad watermark",
                lambda: read_all(sql, replace(REQUEST, watermark="yesterday")),
                ConfigError,
                "watermark 'yesterday'",
            ),
            ErrorCase(
                "bad zone",
                lambda: read_all(sql, replace(REQUEST, timezone="Mars/Olympus")),
                ConfigError,
                "Mars/Olympus",
            ),
            ErrorCase(
                "not a url",
                lambda: SqlConnector.from_options({"url": "nonsense"}, where="x.yaml"),
                ConfigError,
                "x.yaml: connector 'sql' option 'url'",
            ),
        ]

    @pytest.fixture
    def secret_case(self) -> SecretCase:
        pg = unreachable(f"postgresql+psycopg2://legacy:{ENCODED}@127.0.0.1:1/hr")
        my = unreachable(f"mysql+pymysql://legacy:{ENCODED}@127.0.0.1:1/hr")
        return SecretCase(
            SECRET, pg, [pg.check, lambda: read_all(pg, REQUEST), my.check, my.describe]
        )


def test_registered_under_sql() -> None:
    assert load_connector("sql") is SqlConnector


def test_arrow_types_follow_the_reflected_columns(sql: SqlConnector) -> None:
    schema = read_all(sql, REQUEST)[0].records.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("name").type == pa.string()
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert schema.field("born").type == pa.date32()
    assert schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("active").type == pa.bool_()
    assert schema.names[-1] == POSITION_COLUMN


def test_decimals_are_exact(sql: SqlConnector) -> None:
    table = records_of(read_all(sql, REQUEST))
    amounts = dict(zip(table["id"].to_pylist(), table["amount"].to_pylist(), strict=True))
    assert amounts[1] == Decimal("12345678.91")
    assert str(amounts[2]) == "0.10"


def test_naive_timestamps_are_read_in_the_request_zone(sql: SqlConnector) -> None:
    request = replace(REQUEST, cursor=None)  # by id: row 1 first
    shanghai = records_of(read_all(sql, request))["updated_at"][0].as_py()
    utc = records_of(read_all(sql, replace(request, timezone="UTC")))["updated_at"][0].as_py()
    assert shanghai == dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    assert utc == dt.datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def test_batches_stream_in_key_order(sql: SqlConnector) -> None:
    request = replace(REQUEST, cursor=None)
    batches = read_all(sql, request)
    assert [b.records.num_rows for b in batches] == [1, 1, 1, 3, 1]  # ramping up to 3
    positions = records_of(batches)[POSITION_COLUMN].to_pylist()
    assert positions == [f"persons id={i}" for i in range(1, 8)]


def test_position_names_every_key(sql: SqlConnector) -> None:
    request = ReadRequest("persons", key_columns=("id", "name"), batch_size=10)
    positions = records_of(read_all(sql, request))[POSITION_COLUMN].to_pylist()
    assert positions[0] == "persons id=1,name=张三"


def test_position_is_the_row_number_without_keys(sql: SqlConnector) -> None:
    positions = records_of(read_all(sql, ReadRequest("persons", batch_size=4)))
    assert positions[POSITION_COLUMN].to_pylist() == [f"persons row={i}" for i in range(1, 8)]


def test_lookback_reads_again_before_the_watermark(sql: SqlConnector) -> None:
    # Watermark = 2024-03-04 00:00:01 Shanghai, as the engine stores it (UTC).
    request = replace(REQUEST, watermark="2024-03-03T16:00:01+00:00")
    assert sorted(records_of(read_all(sql, request))["id"].to_pylist()) == [5, 6]
    wider = replace(request, lookback_seconds=3600)
    assert sorted(records_of(read_all(sql, wider))["id"].to_pylist()) == [4, 5, 6]


def test_naive_watermark_is_local_time(sql: SqlConnector) -> None:
    request = replace(REQUEST, watermark="2024-03-02 09:30:00")
    assert records_of(read_all(sql, request))["id"].to_pylist() == [3, 4, 5, 6]


def test_value_that_does_not_fit_is_a_reject(tmp_path: Path) -> None:
    url = make_db(tmp_path / "dirty.db", PEOPLE[:2])
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO persons VALUES (9, '吴十', 1.5, '1990-13-45', NULL, 1)"))
    engine.dispose()
    with SqlConnector(SqlOptions(url=url)) as sql:
        batches = read_all(sql, replace(REQUEST, cursor=None))
    assert records_of(batches)["id"].to_pylist() == [1, 2]
    rejects = rejects_of(batches).to_pylist()
    assert len(rejects) == 1
    assert rejects[0][POSITION_COLUMN] == "persons id=9"
    assert "column born" in rejects[0]["reason"] and "1990-13-45" in rejects[0]["reason"]
    assert json.loads(rejects[0]["raw"])["name"] == "吴十"


def test_schema_option_and_alias(db_url: str) -> None:
    sql = SqlConnector.from_options({"url": db_url, "schema": "main"}, where="x.yaml")
    assert sql.options.schema_name == "main"
    assert records_of(read_all(sql, REQUEST)).num_rows == len(PEOPLE)
    with pytest.raises(ConfigError, match="schema 'main'"):
        read_all(sql, replace(REQUEST, source_object="nope"))


def test_engine_keeps_no_pool(sql: SqlConnector) -> None:
    assert isinstance(sql._engine.pool, NullPool)
    sql.check()


def test_options_are_frozen_and_hide_the_url(db_url: str) -> None:
    options = SqlOptions.model_validate({"url": db_url})
    with pytest.raises(ValueError):
        options.connect_timeout_seconds = 3  # type: ignore[misc]
    assert db_url not in repr(options)


def test_missing_driver_names_the_package() -> None:
    with pytest.raises(ConfigError, match="MySQLdb"):
        SqlConnector(SqlOptions(url="mysql+mysqldb://u@h/db"))


def test_describe_and_scrub_hide_every_spelling() -> None:
    url = sa.engine.make_url(f"postgresql+psycopg2://u:{ENCODED}@db.hr.gov:5432/hr?sslpassword=k3y")
    assert safe_url(url) == "postgresql+psycopg2://u:***@db.hr.gov:5432/hr?sslpassword=***"
    text = f"failed for {SECRET} / {ENCODED} / k3y"
    assert scrub(text, url) == "failed for *** / *** / ***"


def test_batch_sizes_ramp_up_to_the_requested_size() -> None:
    sizes = ramping_batch_sizes(50_000)
    assert [next(sizes) for _ in range(6)] == [6_250, 12_500, 25_000, 50_000, 50_000, 50_000]
    sizes = ramping_batch_sizes(1)
    assert [next(sizes) for _ in range(4)] == [1, 1, 1, 1]
