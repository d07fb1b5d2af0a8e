"""Row filters of grants: a SQL condition over the dataset's own columns, nothing more.

The condition runs inside the gateway's view, on raw values, so it is checked strictly
before the owner sees it: one boolean expression, no subquery, no table or table function,
no comment or statement separator that could change the SQL around it, and only the
dataset's columns. DuckDB then binds it against an empty table of the dataset's schema, so
a type error or an unknown function is reported when the request is filed, not at a query.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from exhub.access.masking import guarded
from exhub.duck import connect as offline_duckdb
from exhub.errors import ConfigError
from exhub.query.guard import references
from exhub.query.names import parse_tree

FORBIDDEN_TOKENS = (";", "--", "/*", "*/")


def _walk(node, found: set[str], columns: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found, columns)
    elif isinstance(node, dict):
        kind = node.get("class") or node.get("type")
        if kind in {"SUBQUERY", "WINDOW"}:
            found.add(kind.lower())
        if node.get("class") == "COLUMN_REF":
            columns.add(node["column_names"][-1])
        for value in node.values():
            _walk(value, found, columns)


def check_row_filter(condition: str, schema: pa.Schema) -> str:
    """``condition`` stripped, if it is a safe filter over ``schema``'s columns.

    Raises:
        ConfigError: naming what is not allowed (a token, a subquery, a table, a column
            the dataset does not have) or DuckDB's binding error.
    """
    text = condition.strip()
    bad = "--rows must not be empty" if not text else None
    for token in FORBIDDEN_TOKENS:
        if token in text:
            bad = f"--rows may not contain '{token}'"
    if bad:
        raise ConfigError(bad, fix="e.g. --rows \"household_division LIKE '340104%'\"")
    tree = parse_tree(f"SELECT 1 FROM dataset WHERE ({text})")
    if tree is None:
        raise ConfigError(f"--rows '{text}' is not a SQL condition", fix="check its syntax")
    found = references(tree)
    kinds: set[str] = set()
    named: set[str] = set()
    _walk(tree, kinds, named)
    if found.table_functions or found.ctes or found.tables != [("", "", "dataset")] or kinds:
        raise ConfigError(
            f"--rows '{text}' may only compare the dataset's own columns",
            fix="no subqueries, tables, table functions or window functions",
        )
    unknown = sorted(named - set(schema.names))
    if unknown:
        raise ConfigError(
            f"--rows names '{unknown[0]}', which the dataset does not have",
            fix=f"columns: {', '.join(schema.names)}",
            column=unknown[0],
        )
    con = offline_duckdb(enable_external_access=False)
    try:
        # One row of NULLs: an empty table would never evaluate (or reject) a bad constant.
        con.register("dataset", pa.table({f.name: pa.array([None], f.type) for f in schema}))
        (kind,) = con.execute(f"SELECT typeof({guarded(text)}) FROM dataset").fetchone()
        con.execute(f"SELECT count(*) FROM dataset WHERE ({text})").fetchall()
    except duckdb.Error as exc:
        raise ConfigError(
            f"--rows '{text}' does not work: {exc}", fix="check names and types"
        ) from None
    finally:
        con.close()
    if kind != "BOOLEAN":
        raise ConfigError(
            f"--rows '{text}' is a {kind}, not a condition", fix="compare: column = 'value'"
        )
    return text
