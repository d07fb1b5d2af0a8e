"""DuckDB query gateway over the published Iceberg datasets.

Each dataset is planned by pyiceberg (current snapshot, or the one current at ``as_of``)
and exposed to DuckDB as a view over exactly the planned data and delete files: those are
the only allowed paths, external access is disabled and the configuration locked before
the user's SQL runs. Only one SELECT statement is accepted, and every query, refused and
failed ones included, is recorded in the catalog's hash-chained audit log.

A query made for a department (``department=``) sees only what ``exhub.access`` allows it:
datasets it may not read have no view, masked columns are masked inside the view, and its
SQL may name nothing but those views (``exhub.query.guard``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import pyarrow as pa
from pyiceberg.table import Table

from exhub.access import DatasetAccess, department_access
from exhub.access.masking import guarded, masked_sql, quoted, raw_where_sql
from exhub.access.policy import ColumnAccess
from exhub.audit import os_user, record_access
from exhub.duck import connect as offline_duckdb
from exhub.engine.hub import Hub
from exhub.errors import QueryError
from exhub.interrupts import ctrl_c_interrupts, is_duckdb_interrupt
from exhub.publish.deletes import LiveFile, live_rows_sql, planned_files, referenced_paths
from exhub.publish.tables import dataset_arrow_schema, load_table_or_none
from exhub.query.guard import check_department_sql
from exhub.query.names import tables_named

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT}


def _snapshot_at(table: Table, as_of: datetime | None) -> int | None:
    if as_of is None:
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot else None
    millis = int(as_of.timestamp() * 1000)
    chosen = None
    for entry in table.history():
        if entry.timestamp_ms <= millis:
            chosen = entry.snapshot_id
    return chosen


def _empty(schema: pa.Schema) -> pa.Table:
    return pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema)


def data_files(table: Table, as_of: datetime | None) -> list[LiveFile]:
    """Data files (with their delete files) of the snapshot current now (or at ``as_of``)."""
    snapshot_id = _snapshot_at(table, as_of)
    if snapshot_id is None:
        return []
    return planned_files(table, snapshot_id)


def check_select(sql: str) -> None:
    """Accept exactly one SELECT statement.

    Raises:
        QueryError: anything else (DDL, COPY, ATTACH, PRAGMA, several statements).
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL does not parse: {exc}", fix="check the SQL syntax") from exc
    if len(statements) != 1:
        raise QueryError(f"one statement per query, got {len(statements)}", fix="send one SELECT")
    if statements[0].type not in ALLOWED_STATEMENTS:
        raise QueryError(
            f"only SELECT is allowed, got {statements[0].type.name}",
            fix="datasets are read-only here; write through `exhub sync`",
        )


def _any_of(conditions: tuple[str, ...]) -> str:
    return " OR ".join(guarded(c) for c in conditions)


def department_view_sql(access: DatasetAccess, rows: str) -> str:
    """The view of ``rows`` for a department: its columns raw or masked, its rows only."""
    picked = []
    for name, how in access.columns.items():
        spec = access.field_spec(name)
        if how is ColumnAccess.RAW or spec is None:
            picked.append(quoted(name))
        elif how is ColumnAccess.RAW_IN_GRANTED_ROWS:
            picked.append(raw_where_sql(spec, _any_of(access.raw_where[name])))
        else:
            picked.append(masked_sql(spec))
    if access.rows_where is not None:
        # Filtered inside, on the raw columns: never on the masked ones the view returns.
        rows = f"SELECT * FROM ({rows}) WHERE {_any_of(access.rows_where)}"
    return f"SELECT {', '.join(picked)} FROM ({rows})"


def open_query_connection(
    hub: Hub,
    *,
    as_of: datetime | None = None,
    access: dict[str, DatasetAccess] | None = None,
    only: set[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A locked-down DuckDB connection with every published dataset as a view.

    DuckDB reads the planned data files itself (statistics pruning, parallel scans), minus
    the rows their position-delete files mark deleted. Those files are the only allowed paths
    once external access is switched off, and the configuration is locked so no query can
    switch it back.

    Args:
        hub: The hub.
        as_of: Read the datasets as they were at this time.
        access: A department's access (``exhub.access.department_access``): only its readable
            datasets get a view, with its masked columns masked. None: every dataset, raw.
        only: Give views only to these datasets (the ones the SQL names), so a query plans
            the tables it reads and no others. None: every dataset.
    """
    # A query of one department must not take the memory the hub and other queries need.
    con = offline_duckdb(threads=2, memory_limit=hub.settings.query_memory_limit)
    views: dict[str, list[LiveFile]] = {}
    for record in hub.repository.list_datasets():
        if only is not None and record.name.lower() not in only:
            continue
        allowed = None if access is None else access.get(record.name)
        if access is not None and (allowed is None or not allowed.readable):
            continue
        contract = hub.contracts.get(f"{record.name}@{record.current_version}")
        table = load_table_or_none(hub.iceberg, contract)
        files = data_files(table, as_of) if table is not None else []
        if files:
            views[record.name] = files
        else:
            # Registered but never published: an empty table, so queries still resolve.
            con.register(record.name, _empty(dataset_arrow_schema(contract)))
    con.execute("SET allowed_paths = ?", [[p for f in views.values() for p in referenced_paths(f)]])
    for name, files in views.items():
        rows = live_rows_sql(files)
        if access is not None:
            rows = department_view_sql(access[name], rows)
        con.execute(f"CREATE VIEW {quoted(name)} AS {rows}")
    if access is not None:
        con.execute("SET python_enable_replacements = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_query(
    hub: Hub,
    sql: str,
    *,
    actor: str | None = None,
    purpose: str | None = None,
    as_of: datetime | None = None,
    department: str | None = None,
    user: str | None = None,
) -> pa.Table:
    """Run one SELECT over the datasets and return the result as Arrow.

    Every query is recorded in the catalog's hash-chained audit log (who, what, why, how
    many rows), refused and failed ones too. The result is handed out only once its entry
    is written: a query that cannot be audited returns nothing.

    Args:
        hub: The hub whose datasets and catalog are used.
        sql: One SELECT statement.
        actor: Who asks, recorded as given; by default the department, else the
            operating-system user.
        purpose: Why, as the actor states it.
        as_of: Read the datasets as they were at this time.
        department: Query as this department: its sharing classes, grants and masks apply.
            None queries as the hub's operator, every dataset raw.
        user: Who acts for the department (default: the operating-system user).

    Raises:
        QueryError: refused statement, unknown table/column, or any DuckDB error.
        ConfigError: unknown department.
    """
    moment = None if as_of is None else as_of.isoformat()
    access = None if department is None else department_access(hub, department)

    def audit(outcome: str, tables: list[str], **facts: object) -> None:
        if department is not None:
            facts |= {"department": department, "user": user or os_user()}
            facts["masked"] = {
                t: access[t].masked for t in tables if t in access and access[t].masked
            }
        record_access(
            hub,
            "query",
            ", ".join(tables),
            actor=actor or department,
            purpose=purpose,
            sql=sql,
            as_of=moment,
            outcome=outcome,
            **facts,
        )

    tables: list[str] = []
    try:
        try:
            check_select(sql)
            if access is not None:
                check_department_sql(
                    sql,
                    department,
                    readable={name for name, a in access.items() if a.readable},
                    unreadable={name: a.basis for name, a in access.items() if not a.readable},
                )
        except QueryError as exc:
            audit("refused", tables_named(sql), error=exc.message)
            raise
        tables = tables_named(sql)
        result = _run_select(hub, sql, tables, as_of=as_of, access=access, audit=audit)
    except BaseException as exc:
        # Ctrl-C may land in any DuckDB call (parsing, connecting, planning), not only the
        # query's own run: each is audited as interrupted and leaves as a KeyboardInterrupt.
        if not (isinstance(exc, KeyboardInterrupt) or is_duckdb_interrupt(exc)):
            raise
        audit("failed", tables, error="interrupted")
        raise KeyboardInterrupt from None
    audit("ok", tables, rows=result.num_rows)
    return result


def _run_select(
    hub: Hub,
    sql: str,
    tables: list[str],
    *,
    as_of: datetime | None,
    access: dict[str, DatasetAccess] | None,
    audit: Callable[..., None],
) -> pa.Table:
    con = open_query_connection(hub, as_of=as_of, access=access, only={t.lower() for t in tables})
    try:
        with ctrl_c_interrupts(con):
            return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        if is_duckdb_interrupt(exc):
            raise
        audit("failed", tables, error=str(exc))
        raise QueryError(
            f"query failed: {exc}", fix="check table and column names (`exhub datasets list`)"
        ) from exc
    finally:
        con.close()
