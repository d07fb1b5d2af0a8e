"""What a department's SQL may name: its readable datasets, its own CTEs, nothing else.

Checked on DuckDB's parse tree before anything is bound. It is the first of two locks: the
connection the SQL then runs on has external access disabled and only the datasets' files
allowed. The views mask columns, but a table function such as ``read_parquet`` on one of
those files would read the raw values past the view, so departments may not call table
functions (except the few that generate values), name a file, or reach a schema
(``information_schema``, ``main``) instead of a dataset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exhub.errors import QueryError
from exhub.query.names import parse_tree

VALUE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions that only generate values and read nothing."""
HIDDEN_FUNCTIONS = frozenset({"current_setting", "getenv"})
"""Scalar functions that would show the connection's settings (the data files' paths)."""
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A dataset or CTE name. Anything else (a quoted path, a URL) could be read as a file by
DuckDB's replacement scans when no CTE of that name is in scope where it is used."""


@dataclass
class References:
    """Every name a statement refers to."""

    tables: list[tuple[str, str, str]] = field(default_factory=list)  # (catalog, schema, name)
    table_functions: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    ctes: set[str] = field(default_factory=set)
    show_targets: set[str] = field(default_factory=set)


def references(tree: Any, found: References | None = None) -> References:
    """Collect table, table-function, CTE and SHOW names from a ``json_serialize_sql`` tree."""
    found = found if found is not None else References()
    if isinstance(tree, list):
        for item in tree:
            references(item, found)
        return found
    if not isinstance(tree, dict):
        return found
    kind = tree.get("type")
    if kind == "BASE_TABLE":
        found.tables.append(
            (tree.get("catalog_name") or "", tree.get("schema_name") or "", tree["table_name"])
        )
    elif kind == "TABLE_FUNCTION":
        function = tree.get("function") or {}
        found.table_functions.add(str(function.get("function_name", "?")).lower())
    elif tree.get("class") == "FUNCTION" and tree.get("function_name"):
        found.functions.add(str(tree["function_name"]).lower())
    elif kind == "SHOW_REF" and tree.get("table_name"):
        found.show_targets.add(tree["table_name"])
    for key, value in tree.items():
        if key == "cte_map":
            found.ctes.update(entry.get("key") for entry in value.get("map", []))
        references(value, found)
    return found


def check_department_sql(
    sql: str, department: str, *, readable: set[str], unreadable: Mapping[str, str]
) -> None:
    """Refuse SQL that names anything but the department's readable datasets.

    Args:
        sql: One SELECT (already checked to be one).
        department: Who asks (for the messages).
        readable: Datasets the department may query.
        unreadable: Datasets listed to it but not readable, with the reason.

    Raises:
        QueryError: naming the table function, schema, file or dataset that is not allowed.
    """
    tree = parse_tree(sql)
    if tree is None:
        raise QueryError(
            "this statement cannot be checked against your department's access",
            fix="write it with SELECT, JOIN, WITH and subqueries (PIVOT is not supported)",
        )
    found = references(tree)
    functions = sorted(found.table_functions - VALUE_FUNCTIONS)
    if functions:
        raise QueryError(
            f"table function {functions[0]}() is not allowed for department {department}",
            fix="read datasets by name: SELECT ... FROM person",
            function=functions[0],
        )
    hidden = sorted(found.functions & HIDDEN_FUNCTIONS)
    if hidden:
        raise QueryError(
            f"{hidden[0]}() is not allowed for department {department}",
            fix="the connection's settings are not part of any dataset",
            function=hidden[0],
        )
    if found.show_targets:
        raise QueryError(
            "SHOW is not allowed for departments",
            fix="`exhub datasets list --as DEPT` lists what you may read",
        )
    readable = {n.lower() for n in readable}
    unreadable = {n.lower(): why for n, why in unreadable.items()}
    ctes = {c.lower() for c in found.ctes if c}
    for catalog, schema, table in found.tables:
        name = table.lower()  # DuckDB resolves names case-insensitively
        if not PLAIN_NAME.fullmatch(table):
            raise QueryError(
                f"'{table}' is not a dataset name",
                fix="read datasets by name: SELECT ... FROM person",
                table=table,
            )
        if catalog or schema:
            qualified = ".".join(p for p in (catalog, schema, table) if p)
            raise QueryError(
                f"'{qualified}' is not a dataset: name datasets without a schema",
                fix="SELECT ... FROM person",
                table=qualified,
            )
        if name in readable:
            continue
        # Before the CTE names: `WITH person AS (SELECT * FROM person)` is still a read.
        if name in unreadable:
            raise QueryError(
                f"department {department} may not read '{name}': {unreadable[name]}",
                fix=f"ask the owner: exhub access request {name} --as {department} "
                "--columns ... --purpose ... --expires ...",
                dataset=name,
            )
        if name in ctes:
            continue
        raise QueryError(
            f"unknown dataset '{name}' for department {department}",
            fix=f"`exhub datasets list --as {department}` lists what you may read",
            dataset=name,
        )
