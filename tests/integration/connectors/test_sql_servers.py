"""The SQL connector against real PostgreSQL and MariaDB servers.

Each test session creates its own uniquely named database on each server (and a login whose
password needs URL-encoding) and drops them at the end. A server that is down is started.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from urllib.parse import quote

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.sql import SqlConnector, SqlOptions
from connectors.testing import (
    ConnectorBehaviour,
    ErrorCase,
    SecretCase,
    read_all,
    records_of,
    secret_forms,
)
from exhub.errors import ConfigError, SourceUnreachableError

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
SECRET = "p@ss%2F/wörd"
"""A password that needs URL-encoding; it must never appear in errors, describe() or logs."""


@dataclass(frozen=True)
class Server:
    """One database created for this session."""

    kind: str  # "postgresql" or "mariadb"
    driver: str
    port: int
    database: str
    user: str  # a login whose password is SECRET

    @property
    def admin_url(self) -> str:
        """The superuser on the session's database."""
        return self.url()

    def url(self, *, user: str | None = None, password: str | None = None, port: int = 0) -> str:
        """URL of the session database for ``user`` (default: the superuser)."""
        secret = f":{quote(password, safe='')}" if password is not None else ""
        who = user or ("postgres" if self.kind == "postgresql" else "root")
        query = "?charset=utf8mb4" if self.kind == "mariadb" else ""
        return f"{self.driver}://{who}{secret}@{HOST}:{port or self.port}/{self.database}{query}"


def _autocommit(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def postgresql_server(postgresql_running: None) -> Iterator[Server]:
    suffix = uuid.uuid4().hex[:10]
    name, user = f"exhub_it_{suffix}", f"exhub_leak_{suffix}"
    admin = _autocommit(f"postgresql+psycopg2://postgres@{HOST}:5432/postgres")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        conn.execute(sa.text(f'CREATE ROLE "{user}" LOGIN PASSWORD :p'), {"p": SECRET})
    server = Server("postgresql", "postgresql+psycopg2", 5432, name, user)
    db = _autocommit(server.admin_url)
    with db.connect() as conn:
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}"'))
        conn.execute(
            sa.text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{user}"')
        )
    db.dispose()
    try:
        _seed(server)
        yield server
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{user}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_server(mariadb_running: None) -> Iterator[Server]:
    suffix = uuid.uuid4().hex[:10]
    name, user = f"exhub_it_{suffix}", f"exhub_leak_{suffix}"
    admin = _autocommit(f"mysql+pymysql://root@{HOST}:3306/?charset=utf8mb4")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY :p"), {"p": SECRET})
        conn.execute(sa.text(f"GRANT SELECT ON `{name}`.* TO '{user}'@'%'"))
    server = Server("mariadb", "mysql+pymysql", 3306, name, user)
    try:
        _seed(server)
        yield server
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
COLUMNS = ("id", "name", "amount", "born", "updated_at")
PEOPLE = [
    (1, "张三", Decimal("12345678.91"), dt.date(1980, 1, 31), dt.datetime(2024, 3, 1, 8, 0)),
    (2, "李四", Decimal("0.10"), dt.date(1991, 2, 28), dt.datetime(2024, 3, 1, 8, 0)),
    (3, "王五", Decimal("-5.00"), None, dt.datetime(2024, 3, 2, 9, 30)),
    (4, "赵六", None, dt.date(2000, 12, 1), dt.datetime(2024, 3, 3, 23, 59, 59)),
    (5, "钱七", Decimal("9999999999.99"), dt.date(1975, 6, 15), dt.datetime(2024, 3, 4, 0, 0, 1)),
    (6, "孙八", Decimal("1.00"), dt.date(1969, 7, 20), dt.datetime(2024, 3, 4, 0, 0, 1)),
    (7, "周九", Decimal("2.50"), dt.date(2001, 9, 9), None),
]
REQUEST = ReadRequest(
    "persons", key_columns=("id",), cursor="updated_at", batch_size=3, timezone="Asia/Shanghai"
)
MANY = 2500
EVENT_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _seed(server: Server) -> None:
    engine = sa.create_engine(server.admin_url, poolclass=sa.pool.NullPool)
    meta = sa.MetaData()
    persons = sa.Table(
        "persons",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40)),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("born", sa.Date),
        sa.Column("updated_at", sa.DateTime),
    )
    many = sa.Table(
        "many",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("v", sa.String(20)),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(persons.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in PEOPLE])
        conn.execute(many.insert(), [{"id": i, "v": f"值{i}"} for i in range(MANY)])
        if server.kind == "postgresql":
            conn.execute(
                sa.text(
                    "CREATE TABLE events (id int PRIMARY KEY, at timestamptz, payload jsonb,"
                    " ref uuid, span interval, flag boolean)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO events VALUES (1, '2024-03-01 08:00:00+08', '{\"a\": 1}',"
                    f" '{EVENT_ID}', '1 day', true)"
                )
            )
            conn.execute(sa.text("CREATE SCHEMA hr"))
            conn.execute(sa.text("CREATE TABLE hr.staff (id int PRIMARY KEY, name text)"))
            conn.execute(sa.text("INSERT INTO hr.staff VALUES (1, '欧阳')"))
        else:
            conn.execute(sa.text("SET SESSION sql_mode = ''"))
            conn.execute(
                sa.text(
                    "CREATE TABLE legacy_dates (id int PRIMARY KEY, d date, ts datetime,"
                    " t time, flag tinyint(1))"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO legacy_dates VALUES (1, '0000-00-00', '0000-00-00 00:00:00',"
                    " '12:30:00', 1), (2, '2024-02-29', '2024-02-29 12:00:00', '00:00:01', 0)"
                )
            )
    engine.dispose()


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


# PostgreSQL has two read paths: Arrow-native ADBC (the default) and SQLAlchemy.
@pytest.fixture(params=["auto", "sqlalchemy"])
def reader(request: pytest.FixtureRequest, server: Server) -> str:
    if server.kind != "postgresql" and request.param != "auto":
        return "auto"  # one path only: keep the other servers' cases single
    return request.param


@pytest.fixture
def sql(server: Server, reader: str) -> Iterator[SqlConnector]:
    with SqlConnector(SqlOptions(url=server.admin_url, reader=reader)) as connector:
        yield connector


def connector_for(url: str) -> SqlConnector:
    return SqlConnector(SqlOptions(url=url, connect_timeout_seconds=3))


def expected_people() -> list[dict]:
    rows = []
    for row in PEOPLE:
        record = dict(zip(COLUMNS, row, strict=True))
        if record["updated_at"]:
            record["updated_at"] = record["updated_at"].replace(tzinfo=SHANGHAI).astimezone(UTC)
        rows.append(record)
    return rows


class TestServerBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, sql: SqlConnector) -> SqlConnector:
        return sql

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return REQUEST

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        return expected_people()

    @pytest.fixture
    def error_cases(self, server: Server, sql: SqlConnector) -> list[ErrorCase]:
        down = connector_for(server.url(port=1))
        return [
            ErrorCase(
                "missing table",
                lambda: read_all(sql, replace(REQUEST, source_object="personen")),
                ConfigError,
                r"table 'personen' does not exist .*existing tables: .*many, persons",
            ),
            ErrorCase("port closed", down.check, SourceUnreachableError, f"{server.database}"),
            ErrorCase("port closed, read", lambda: read_all(down, REQUEST), SourceUnreachableError),
        ]

    @pytest.fixture
    def secret_case(self, server: Server) -> SecretCase:
        user = connector_for(server.url(user=server.user, password=SECRET))
        down = connector_for(server.url(user=server.user, password=SECRET, port=1))
        actions = [
            user.check,
            lambda: read_all(user, REQUEST),
            down.check,
            lambda: read_all(down, REQUEST),
        ]
        return SecretCase(SECRET, down, actions)


def test_numeric_12_2_is_exact(sql: SqlConnector) -> None:
    table = records_of(read_all(sql, replace(REQUEST, cursor=None)))
    assert table.schema.field("amount").type == pa.decimal128(12, 2)
    amounts = table["amount"].to_pylist()
    assert amounts[0] == Decimal("12345678.91") and str(amounts[0]) == "12345678.91"
    assert amounts[4] == Decimal("9999999999.99")


def test_the_login_with_the_secret_reads(server: Server) -> None:
    with connector_for(server.url(user=server.user, password=SECRET)) as user:
        assert records_of(read_all(user, REQUEST)).num_rows == len(PEOPLE)
        assert SECRET not in user.describe() and "***" in user.describe()


def test_refused_credentials_are_a_config_error(mariadb_server: Server) -> None:
    # MariaDB checks passwords (the local PostgreSQL trusts every login, so it cannot refuse).
    server = mariadb_server
    wrong = connector_for(server.url(user=server.user, password="x" + SECRET))
    with pytest.raises(ConfigError, match="refused the credentials") as info:
        wrong.check()
    for form in secret_forms(SECRET):
        assert form not in str(info.value)


def _open_connections(server: Server) -> int:
    """Connections to the session database, other than this one."""
    if server.kind == "postgresql":
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        )
    else:
        sql = "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = :db"
    url = server.url()
    if server.kind == "mariadb":  # connect to no database, so as not to count ourselves
        url = url.replace(f"/{server.database}", "/")
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        count = conn.execute(sa.text(sql), {"db": server.database}).scalar_one()
    admin.dispose()
    return count


def test_streams_in_batches_over_one_connection(server: Server, sql: SqlConnector) -> None:
    batches = sql.read_batches(ReadRequest("many", key_columns=("id",), batch_size=1000))
    sizes = [next(batches).records.num_rows]
    assert _open_connections(server) == 1
    sizes += [b.records.num_rows for b in batches]
    assert sizes == [125, 250, 500, 1000, 625]  # small first batches, then batch_size
    deadline = time.monotonic() + 5
    while _open_connections(server) and time.monotonic() < deadline:
        time.sleep(0.1)  # the server notices the disconnect asynchronously
    assert _open_connections(server) == 0


def test_postgresql_types(postgresql_server: Server) -> None:
    with SqlConnector(SqlOptions(url=postgresql_server.admin_url)) as sql:
        table = records_of(read_all(sql, ReadRequest("events", key_columns=("id",))))
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("flag").type == pa.bool_()
    (row,) = table.to_pylist()
    assert row["at"] == dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    assert json.loads(row["payload"]) == {"a": 1}
    assert row["ref"] == str(EVENT_ID)
    assert row["span"] == "1 day, 0:00:00"
    assert row["flag"] is True
    assert row[POSITION_COLUMN] == "events id=1"


def test_postgresql_schema_option(postgresql_server: Server) -> None:
    options = SqlOptions.model_validate({"url": postgresql_server.admin_url, "schema": "hr"})
    with SqlConnector(options) as hr:
        assert records_of(read_all(hr, ReadRequest("staff"))).column("name").to_pylist() == ["欧阳"]
        with pytest.raises(ConfigError, match=r"schema 'hr' .*existing tables: staff"):
            read_all(hr, ReadRequest("persons"))


def test_mariadb_zero_dates_are_quarantined_never_a_crash(mariadb_server: Server) -> None:
    with SqlConnector(SqlOptions(url=mariadb_server.admin_url)) as sql:
        batches = read_all(sql, ReadRequest("legacy_dates", key_columns=("id",)))
    rejects = pa.concat_tables([b.rejects for b in batches if b.rejects is not None])
    assert rejects.column(POSITION_COLUMN).to_pylist() == ["legacy_dates id=1"]
    (reason,) = rejects.column("reason").to_pylist()
    assert "zero date" in reason and "column d" in reason and "column ts" in reason
    assert "0000-00-00" in rejects.column("raw").to_pylist()[0]
    table = records_of(batches)
    assert table.schema.field("d").type == pa.date32()
    assert table.schema.field("t").type == pa.time64("us")
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [2]
    assert rows[0]["d"] == dt.date(2024, 2, 29)
    assert rows[0]["ts"] == dt.datetime(2024, 2, 29, 4, 0, tzinfo=UTC)
    assert rows[0]["flag"] == 0
