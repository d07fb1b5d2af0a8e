"""``exhub query``: one SELECT over the published datasets, through DuckDB."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from exhub.cli.output import Format, dumps, emit_rows
from exhub.engine.hub import Hub
from exhub.errors import ConfigError


class QueryFormat(StrEnum):
    """Result formats."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


def query(
    sql: Annotated[str, typer.Argument(help='one SELECT, e.g. "SELECT count(*) FROM person"')],
    fmt: Annotated[QueryFormat, typer.Option("--format", help="result format")] = QueryFormat.TABLE,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="read the datasets as they were at this ISO time")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="file to write (needed for parquet)")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="why you query: kept in the audit log")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(
            "--as", help="query as this department: its sharing classes, grants and masks apply"
        ),
    ] = None,
) -> None:
    """Query published datasets (SELECT only; each dataset is a table named after it).

    Every query is recorded in the audit log (`exhub audit log`) with your login name (and
    department), the SQL, the datasets it read, its purpose and the rows it returned.

    Without --as you query as the hub's operator and read every dataset raw. With --as DEPT,
    datasets shared on condition need a grant (`exhub access request`), datasets not shared
    do not exist, and protected columns are masked unless granted.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from exhub.query import run_query

    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            raise ConfigError(
                f"--as-of '{as_of}' is not an ISO time",
                fix="e.g. --as-of 2026-11-25T18:00:00+08:00",
            ) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()
    result = run_query(Hub(), sql, as_of=moment, purpose=purpose, department=department)
    if fmt is QueryFormat.PARQUET:
        if not output:
            raise ConfigError("--format parquet needs --output FILE", fix="add -o result.parquet")
        pq.write_table(result, output)
        return
    if fmt is QueryFormat.CSV:
        sink = output or sys.stdout.buffer
        pacsv.write_csv(result, sink)
        return
    rows = result.to_pylist()
    if fmt is QueryFormat.JSON:
        text = dumps(rows)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            typer.echo(text)
        return
    emit_rows(rows, result.column_names, Format.TABLE, f"{result.num_rows} rows")
