"""``exhub quarantine``: rows that failed rules, with the rule, reason and raw values."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_rows
from exhub.engine.hub import Hub
from exhub.errors import ConfigError

app = typer.Typer(
    help="Quarantined rows: every failed rule, raw values, source position.", no_args_is_help=True
)


@app.command("list")
def list_rows(
    dataset: str,
    run: Annotated[str | None, typer.Option(help="only this run")] = None,
    rule: Annotated[str | None, typer.Option(help="only rows failing this rule id")] = None,
    limit: Annotated[int, typer.Option(help="most rows shown")] = 50,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
) -> None:
    """List quarantined rows of a dataset (raw values: the listing is audited)."""
    from exhub.audit import record_access
    from exhub.views import QUARANTINE_COLUMNS, quarantine_table

    hub = Hub()
    table = quarantine_table(hub, dataset, run, rule, limit)
    rows = table.to_pylist() if table is not None else []
    record_access(hub, "quarantine_list", dataset, run=run, rule=rule, rows=len(rows))
    for row in rows:
        row["failed_rules"] = ", ".join(row["failed_rules"])
    emit_rows(
        rows,
        QUARANTINE_COLUMNS,
        fmt,
        f"quarantine of {dataset}",
    )


@app.command("export")
def export(
    dataset: str,
    output: Annotated[str, typer.Option("--output", "-o", help="CSV or Parquet file to write")],
    run: Annotated[str | None, typer.Option(help="only this run")] = None,
    rule: Annotated[str | None, typer.Option(help="only rows failing this rule id")] = None,
) -> None:
    """Export quarantined rows (all of them) to CSV or Parquet for the owning department.

    The rows hold raw values: the export is recorded in the audit log before it is written.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from exhub.audit import record_access
    from exhub.views import quarantine_table

    hub = Hub()
    table = quarantine_table(hub, dataset, run, rule, None)
    if table is None:
        raise ConfigError(f"no quarantined rows for '{dataset}'", fix="nothing to export")
    record_access(
        hub, "quarantine_export", dataset, run=run, rule=rule, rows=table.num_rows, file=output
    )
    if output.endswith(".parquet"):
        pq.write_table(table, output)
    else:
        flat = table.set_column(
            table.schema.get_field_index("failed_rules"),
            "failed_rules",
            [[", ".join(v) for v in table.column("failed_rules").to_pylist()]],
        )
        pacsv.write_csv(flat, output)
    typer.echo(f"{table.num_rows} rows written to {output}")


@app.command("replay")
def replay(
    run_id: str,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
) -> None:
    """Re-validate a run's landing with today's mapping and contract; publish what now passes.

    After fixing a mapping (say, a missing code value) the rows that run quarantined are
    published without reading the legacy system again. The whole landing is re-validated, so
    rows that still fail stay in quarantine under the new run.
    """
    from exhub.cli.sync import sync_source

    hub = Hub()
    record = hub.repository.get_run(run_id)
    if record is None:
        raise ConfigError(f"no run '{run_id}'", fix="see `exhub runs list`")
    (summary,) = sync_source(
        hub, record.source_id, replay=run_id, show_progress=fmt is Format.TABLE
    )
    emit_rows(
        [
            {
                "run_id": summary.run_id,
                "replay_of": run_id,
                "status": summary.status,
                "extracted": summary.extracted,
                "published": summary.published,
                "quarantined": summary.quarantined,
                "was_quarantined": record.quarantined_rows,
            }
        ],
        [
            "run_id",
            "replay_of",
            "status",
            "extracted",
            "published",
            "quarantined",
            "was_quarantined",
        ],
        fmt,
        "quarantine replay",
    )
