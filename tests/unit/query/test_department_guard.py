"""What a department's SQL may name, decided on the parse tree before anything runs."""

from __future__ import annotations

import pytest

from exhub.errors import QueryError
from exhub.query.guard import check_department_sql

pytestmark = pytest.mark.unit

READABLE = {"legal_entity", "person"}
UNREADABLE = {"certificate": "conditional: needs a grant"}


def check(sql: str) -> None:
    check_department_sql(sql, "civil_affairs", readable=READABLE, unreadable=UNREADABLE)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM person",
        "FROM person SELECT name",
        "SELECT p.name FROM person p JOIN legal_entity l ON p.resident_id = l.uscc",
        "WITH recent AS (SELECT * FROM person) SELECT count(*) FROM recent",
        "SELECT * FROM person WHERE resident_id IN (SELECT resident_id FROM person)",
        "SELECT r FROM range(3) t(r)",
        "SELECT * FROM person, unnest([1, 2]) u(x)",
        "DESCRIBE person",
        "SUMMARIZE SELECT gender FROM person",
        "SELECT count(*) FROM LEGAL_ENTITY",  # names are case-insensitive, as in DuckDB
    ],
)
def test_datasets_ctes_and_value_generators_are_allowed(sql):
    check(sql)


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT * FROM read_parquet('/w/data/x.parquet')", "table function read_parquet()"),
        ("SELECT * FROM 'data/x.parquet'", "'data/x.parquet' is not a dataset name"),
        ("SELECT * FROM duckdb_views()", "table function duckdb_views()"),
        ("SELECT * FROM query('SELECT 1')", "table function query()"),
        ("SELECT (SELECT count(*) FROM glob('/w/*')) FROM person", "table function glob()"),
        ("SELECT * FROM information_schema.tables", "'information_schema.tables' is not"),
        ("SELECT * FROM main.person", "'main.person' is not a dataset"),
        ("SELECT * FROM certificate", "may not read 'certificate': conditional: needs a grant"),
        (
            "WITH certificate AS (SELECT * FROM certificate) SELECT * FROM certificate",
            "may not read 'certificate'",
        ),
        ("SELECT * FROM secret_registry", "unknown dataset 'secret_registry'"),
        ("SHOW TABLES", "SHOW is not allowed"),
        ("PIVOT person ON gender USING count(*)", "cannot be checked"),
        ("SELECT current_setting('allowed_paths')", "current_setting() is not allowed"),
        # A CTE named like a file, out of scope where the name is used: DuckDB would read the
        # file (found by review; the guard once took any CTE name as allowed anywhere).
        (
            'SELECT * FROM (WITH "/w/x.parquet" AS (SELECT 1) SELECT 1) x, "/w/x.parquet"',
            "'/w/x.parquet' is not a dataset name",
        ),
    ],
)
def test_everything_else_is_refused_with_the_reason(sql, message):
    with pytest.raises(QueryError, match=None) as raised:
        check(sql)
    assert message in raised.value.message
