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
