"""``exhub runs``: what each sync did."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub
from exhub.errors import ConfigError

app = typer.Typer(help="Sync runs: counts per stage, timings, rule results.", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]


@app.command("list")
def list_runs(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
    limit: Annotated[int, typer.Option(help="most runs shown")] = 50,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List runs, newest first."""
    hub = Hub()
    rows = [
        {
            "run_id": r.id,
            "source": r.source_id,
            "stream": r.stream_name,
            "dataset": r.dataset_name,
            "status": r.status,
            "started_at": r.started_at,
            "extracted": r.extracted_rows,
            "published": r.published_rows,
            "quarantined": r.quarantined_rows,
        }
        for r in hub.repository.list_runs(source_id=source, dataset_name=dataset, limit=limit)
    ]
    emit_rows(
        rows,
        [
            "run_id",
            "source",
            "stream",
            "dataset",
            "status",
            "extracted",
            "published",
            "quarantined",
        ],
        fmt,
        "runs",
    )


@app.command("show")
def show(run_id: str, fmt: FormatOption = Format.TABLE) -> None:
    """Show one run: counts per stage, timings, rule results, gate, report path."""
    hub = Hub()
    record = hub.repository.get_run(run_id)
    if record is None:
        raise ConfigError(f"no run '{run_id}'", fix="see `exhub runs list`")
    emit_record(asdict(record), fmt, f"run {run_id}")
