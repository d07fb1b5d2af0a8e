"""The query gateway accepts one SELECT and cannot reach the file system."""

from __future__ import annotations

import pytest

from exhub.errors import QueryError
from exhub.query import check_select

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("DROP TABLE person", id="ddl"),
        pytest.param("COPY person TO '/tmp/x.csv'", id="copy"),
        pytest.param("ATTACH '/tmp/x.db'", id="attach"),
        pytest.param("SET enable_external_access = true", id="set"),
        pytest.param("SELECT 1; SELECT 2", id="two-statements"),
        pytest.param("INSERT INTO person VALUES (1)", id="insert"),
    ],
)
def test_refuses_everything_but_one_select(sql):
    with pytest.raises(QueryError):
        check_select(sql)


def test_accepts_select():
    check_select("SELECT count(*) FROM person WHERE gender = 'female'")


def test_connection_cannot_read_files_or_unlock(hub_home):
    from exhub.engine.hub import Hub
    from exhub.query import open_query_connection

    con = open_query_connection(Hub())
    with pytest.raises(Exception, match=r"(?i)external|disabled|permission"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    with pytest.raises(Exception, match=r"(?i)lock"):
        con.execute("SET enable_external_access = true")


def test_duckdb_connections_never_download_extensions():
    from exhub.duck import connect

    con = connect()
    settings = con.execute(
        "SELECT current_setting('autoinstall_known_extensions'), "
        "current_setting('autoload_known_extensions')"
    ).fetchall()
    assert settings == [(False, False)]


def test_the_kept_parse_connection_reads_nothing_and_is_one_per_thread():
    from concurrent.futures import ThreadPoolExecutor

    from exhub.query.names import _parser, tables_named

    sql = "WITH recent AS (SELECT * FROM person) SELECT * FROM recent JOIN household USING (hh)"
    assert tables_named(sql) == ["household", "person"]
    con = _parser()
    assert _parser() is con  # kept: parsing the next query opens nothing
    with pytest.raises(Exception, match=r"(?i)external|disabled|permission"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    with pytest.raises(Exception, match=r"(?i)lock"):
        con.execute("SET enable_external_access = true")
    with ThreadPoolExecutor(4) as pool:
        named = list(pool.map(tables_named, [f"SELECT * FROM t{i}" for i in range(40)]))
        others = set(pool.map(lambda _: id(_parser()), range(8)))
    assert named == [[f"t{i}"] for i in range(40)]
    assert id(con) not in others
