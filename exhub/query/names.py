"""Which tables a SELECT names, read from DuckDB's parse tree (for the audit log)."""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb

from exhub.duck import connect as offline_duckdb

_PARSERS = threading.local()


def _parser() -> duckdb.DuckDBPyConnection:
    # One connection per thread, kept: opening one costs as much as a small query (~15-30 ms)
    # and parsing reads nothing, so no state of one query reaches the next.
    con = getattr(_PARSERS, "connection", None)
    if con is None:
        con = offline_duckdb(enable_external_access=False)
        con.execute("SET lock_configuration = true")
        _PARSERS.connection = con
    return con


def parse_tree(sql: str) -> dict[str, Any] | None:
    """DuckDB's parse tree of ``sql`` as JSON, or None when it does not parse or serialise.

    Nothing is bound: no view is expanded and no file is opened.
    """
    try:
        (text,) = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    except duckdb.Error:
        return None
    tree = json.loads(text)
    return None if tree.get("error") else tree


def tables_named(sql: str) -> list[str]:
    """The tables a SELECT names, sorted; empty when it does not parse.

    From DuckDB's parse tree alone (``json_serialize_sql``): nothing is bound, so no view is
    expanded and no file is opened. A CTE's name is not a table, unless a CTE body reads a
    table of that name (``WITH person AS (SELECT ... FROM person)``).
    """
    tree = parse_tree(sql)
    if tree is None:
        return []
    named: set[str] = set()
    in_ctes: set[str] = set()
    ctes: set[str] = set()
    _collect(tree, named, in_ctes, ctes, inside_cte=False)
    return sorted(named - (ctes - in_ctes))


def _collect(node: Any, named: set[str], in_ctes: set[str], ctes: set[str], *, inside_cte: bool):
    if isinstance(node, list):
        for item in node:
            _collect(item, named, in_ctes, ctes, inside_cte=inside_cte)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "BASE_TABLE" and node.get("table_name"):
        named.add(node["table_name"])
        if inside_cte:
            in_ctes.add(node["table_name"])
    for key, value in node.items():
        if key == "cte_map":
            for entry in value.get("map", []):
                ctes.add(entry.get("key"))
                _collect(entry.get("value"), named, in_ctes, ctes, inside_cte=True)
        else:
            _collect(value, named, in_ctes, ctes, inside_cte=inside_cte)
