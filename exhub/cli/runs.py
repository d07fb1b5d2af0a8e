"""``exhub runs``: what each sync did."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub

app = typer.Typer(help="Sync runs: counts per stage, timings, rule results.", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]


@app.command("list")
def list_runs(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
    limit: Annotated[int, typer.Option(min=1, help="most runs shown")] = 50,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List runs, newest first."""
    from exhub.views import RUN_COLUMNS, run_rows

    rows = run_rows(Hub(), source=source, dataset=dataset, limit=limit)
    emit_rows(rows, RUN_COLUMNS, fmt, "runs")


@app.command("show")
def show(run_id: str, fmt: FormatOption = Format.TABLE) -> None:
    """Show one run: counts per stage, timings, rule results, gate, report path."""
    from exhub.views import run_detail

    emit_record(run_detail(Hub(), run_id), fmt, f"run {run_id}")
