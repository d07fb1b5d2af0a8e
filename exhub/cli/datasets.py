"""``exhub datasets``: what is published, by whom, how fresh."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub

app = typer.Typer(help="Published datasets (one per shared schema).", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="as this department: what it may see and how (raw or masked)"),
]


@app.command("list")
def list_datasets(department: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List datasets with rows, sources and sharing class.

    With --as DEPT: only the datasets listed to that department (不予共享 datasets of other
    departments are not), with its access to each and the columns it sees masked.
    """
    from exhub.views import DATASET_COLUMNS, dataset_rows

    rows = dataset_rows(Hub(), department)
    extra = ["pass_rate"] if department is None else ["access", "masked"]
    emit_rows(rows, DATASET_COLUMNS + extra, fmt, "datasets")


@app.command("show")
def show(name: str, department: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Show a dataset: contract, rows per source, latest runs (--as DEPT: and its access)."""
    from exhub.views import dataset_detail

    emit_record(dataset_detail(Hub(), name, department), fmt, f"dataset {name}")


@app.command("history")
def history(name: str, fmt: FormatOption = Format.TABLE) -> None:
    """Snapshots of a dataset: when, which run, rows added and removed."""
    from exhub.engine.facts import history as table_history
    from exhub.engine.facts import load_table
    from exhub.views import dataset_record

    hub = Hub()
    record = dataset_record(hub, name)
    table = load_table(hub, hub.contracts.get(f"{record.name}@{record.current_version}"))
    emit_rows(
        table_history(table),
        [
            "snapshot_id",
            "committed_at",
            "run_id",
            "source",
            "operation",
            "added",
            "removed",
            "total",
        ],
        fmt,
        f"history of {name}",
    )
