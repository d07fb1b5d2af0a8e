"""``exhub datasets``: what is published, by whom, how fresh."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.facts import (
    current_files,
    dataset_facts,
    load_table,
    row_count,
    rows_per_source,
    storage,
)
from exhub.engine.facts import history as table_history
from exhub.engine.hub import Hub
from exhub.errors import ConfigError

app = typer.Typer(help="Published datasets (one per shared schema).", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]


def _record(hub: Hub, name: str):
    record = hub.repository.get_dataset(name)
    if record is None:
        known = ", ".join(d.name for d in hub.repository.list_datasets()) or "none yet"
        raise ConfigError(f"no dataset '{name}' (known: {known})", fix="see `exhub datasets list`")
    return record


@app.command("list")
def list_datasets(fmt: FormatOption = Format.TABLE) -> None:
    """List datasets with rows, sources and sharing class."""
    hub = Hub()
    rows = []
    for record in hub.repository.list_datasets():
        contract = hub.contracts.get(f"{record.name}@{record.current_version}")
        table = load_table(hub, contract)
        per_source = rows_per_source(table)
        facts = dataset_facts(hub, record.name, record.update_cycle)
        rows.append(
            {
                "name": record.name,
                "title": record.title_zh,
                "version": record.current_version,
                "sharing": record.sharing_class,
                "owner": record.owner_department_id,
                "rows": row_count(table),
                "sources": len(per_source),
                "fresh": facts["fresh"],
                "pass_rate": facts["quality_pass_rate"],
            }
        )
    emit_rows(
        rows,
        ["name", "title", "version", "sharing", "owner", "rows", "sources", "fresh", "pass_rate"],
        fmt,
        "datasets",
    )


@app.command("show")
def show(name: str, fmt: FormatOption = Format.TABLE) -> None:
    """Show a dataset: contract, rows per source, latest runs."""
    hub = Hub()
    record = _record(hub, name)
    contract = hub.contracts.get(f"{record.name}@{record.current_version}")
    table = load_table(hub, contract)
    runs = hub.repository.list_runs(dataset_name=name, limit=5)
    files = current_files(table)  # planned once for the row counts and the storage facts
    emit_record(
        {
            "name": record.name,
            "title": f"{contract.title.zh} / {contract.title.en}",
            "contract": contract.ref,
            "iceberg": record.iceberg_identifier,
            "owner": contract.owner,
            "sharing": contract.sharing.class_.value,
            "update_cycle": contract.update_cycle.value,
            "primary_key": contract.primary_key,
            "rows": row_count(table),
            "rows_per_source": rows_per_source(table, files),
            # Merges mask replaced rows with delete files; `exhub maintain` folds them in.
            "storage": storage(table, files),
            **dataset_facts(hub, name, contract.update_cycle.value, runs=None),
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "required": f.required,
                    "pii": f.pii,
                    "sensitivity": f.sensitivity.value,
                    "zh": f.description.zh,
                }
                for f in contract.fields
            ],
            "latest_runs": [
                {
                    "run_id": r.id,
                    "source": r.source_id,
                    "status": r.status,
                    "published": r.published_rows,
                    "quarantined": r.quarantined_rows,
                }
                for r in runs
            ],
        },
        fmt,
        f"dataset {name}",
    )


@app.command("history")
def history(name: str, fmt: FormatOption = Format.TABLE) -> None:
    """Snapshots of a dataset: when, which run, rows added and removed."""
    hub = Hub()
    record = _record(hub, name)
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
