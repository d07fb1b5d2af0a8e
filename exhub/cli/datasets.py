"""``exhub datasets``: what is published, by whom, how fresh."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.access import department_access
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
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="as this department: what it may see and how (raw or masked)"),
]


def _record(hub: Hub, name: str, listed: dict | None = None):
    record = hub.repository.get_dataset(name)
    if record is None or (listed is not None and name not in listed):
        names = [d.name for d in hub.repository.list_datasets()]
        known = ", ".join(n for n in names if listed is None or n in listed) or "none yet"
        raise ConfigError(f"no dataset '{name}' (known: {known})", fix="see `exhub datasets list`")
    return record


@app.command("list")
def list_datasets(department: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """List datasets with rows, sources and sharing class.

    With --as DEPT: only the datasets listed to that department (不予共享 datasets of other
    departments are not), with its access to each and the columns it sees masked.
    """
    hub = Hub()
    listed = None if department is None else department_access(hub, department)
    rows = []
    for record in hub.repository.list_datasets():
        if listed is not None and record.name not in listed:
            continue
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
        if listed is not None:
            access = listed[record.name]
            rows[-1]["access"] = access.basis
            rows[-1]["masked"] = ", ".join(access.masked) if access.readable else "(not readable)"
    columns = ["name", "title", "version", "sharing", "owner", "rows", "sources", "fresh"]
    columns += ["pass_rate"] if listed is None else ["access", "masked"]
    emit_rows(
        rows,
        columns,
        fmt,
        "datasets",
    )


@app.command("show")
def show(name: str, department: AsOption = None, fmt: FormatOption = Format.TABLE) -> None:
    """Show a dataset: contract, rows per source, latest runs (--as DEPT: and its access)."""
    hub = Hub()
    listed = None if department is None else department_access(hub, department)
    record = _record(hub, name, listed)
    access = None if listed is None else listed[name]
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
                | ({} if access is None else {"access": access.columns[f.name].value})
                for f in contract.fields
            ],
            **({} if access is None else {"access": access.basis, "grants": list(access.grants)}),
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
