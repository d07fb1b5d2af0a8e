"""What the CLI and the portal show, as plain dicts: datasets, runs and quarantined rows.

One place builds each view, so ``exhub datasets list`` and the portal's catalog page agree.
A ``department`` narrows a view to what that department may see (``exhub.access``).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import duckdb
import pyarrow as pa

from exhub.access import DatasetAccess, department_access
from exhub.duck import connect as offline_duckdb
from exhub.engine.facts import (
    current_files,
    dataset_facts,
    load_table,
    row_count,
    rows_per_source,
    storage,
)
from exhub.engine.hub import Hub
from exhub.errors import NotFoundError
from shared_catalog import AccessRequestRecord, AccessStatus

DATASET_COLUMNS = ["name", "title", "version", "sharing", "owner", "rows", "sources", "fresh"]
RUN_COLUMNS = ["run_id", "source", "stream", "dataset", "status", "extracted", "published"]
RUN_COLUMNS += ["quarantined"]
ACCESS_COLUMNS = ["id", "dataset", "department", "status", "columns", "rows", "expires_at"]
ACCESS_COLUMNS += ["purpose", "answer"]
QUARANTINE_COLUMNS = ["_run_id", "_source", "_source_position", "failed_rules", "reasons", "raw"]


def listed_to(hub: Hub, department: str | None) -> dict[str, DatasetAccess] | None:
    """The datasets listed to ``department`` with its access; None for the operator (all)."""
    return None if department is None else department_access(hub, department)


def dataset_record(hub: Hub, name: str, listed: dict[str, DatasetAccess] | None = None):
    """The catalog record of dataset ``name``.

    Raises:
        ConfigError: no such dataset, or it is not listed to the department.
    """
    record = hub.repository.get_dataset(name)
    if record is None or (listed is not None and name not in listed):
        names = [d.name for d in hub.repository.list_datasets()]
        known = ", ".join(n for n in names if listed is None or n in listed) or "none yet"
        raise NotFoundError(
            f"no dataset '{name}' (known: {known})", fix="see `exhub datasets list`"
        )
    return record


def dataset_rows(hub: Hub, department: str | None = None) -> list[dict[str, Any]]:
    """One row per dataset listed: rows, sources, freshness, pass rate (and access)."""
    listed = listed_to(hub, department)
    rows = []
    for record in hub.repository.list_datasets():
        if listed is not None and record.name not in listed:
            continue
        contract = hub.contracts.get(f"{record.name}@{record.current_version}")
        table = load_table(hub, contract)
        facts = dataset_facts(hub, record.name, record.update_cycle)
        row = {
            "name": record.name,
            "title": record.title_zh,
            "version": record.current_version,
            "sharing": record.sharing_class,
            "owner": record.owner_department_id,
            "rows": row_count(table),
            "sources": len(rows_per_source(table)),
            "fresh": facts["fresh"],
            "pass_rate": facts["quality_pass_rate"],
        }
        if listed is not None:
            access = listed[record.name]
            row["access"] = access.basis
            row["masked"] = ", ".join(access.masked) if access.readable else "(not readable)"
        rows.append(row)
    return rows


def dataset_detail(hub: Hub, name: str, department: str | None = None) -> dict[str, Any]:
    """A dataset: contract, fields, rows per source, storage, latest runs (and access)."""
    listed = listed_to(hub, department)
    record = dataset_record(hub, name, listed)
    access = None if listed is None else listed[name]
    contract = hub.contracts.get(f"{record.name}@{record.current_version}")
    table = load_table(hub, contract)
    runs = hub.repository.list_runs(dataset_name=name, limit=5)
    files = current_files(table)  # planned once for the row counts and the storage facts
    detail = {
        "name": record.name,
        "title": f"{contract.title.zh} / {contract.title.en}",
        "description": contract.description.zh if contract.description else None,
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
    }
    if access is not None:
        detail |= {"access": access.basis, "grants": list(access.grants)}
    return detail


def run_rows(
    hub: Hub,
    *,
    source: str | None = None,
    dataset: str | None = None,
    limit: int = 50,
    department: str | None = None,
) -> list[dict[str, Any]]:
    """Runs, newest first (for a department: only runs of datasets listed to it)."""
    listed = listed_to(hub, department)
    runs = hub.repository.list_runs(
        source_id=source, dataset_name=dataset, limit=limit,
        dataset_names=None if listed is None else set(listed),
    )  # fmt: skip
    return [
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
        for r in runs
    ]


def run_detail(hub: Hub, run_id: str, department: str | None = None) -> dict[str, Any]:
    """One run: counts, timings, rule counts, gates, report path.

    A department that does not own the dataset gets it without the gate details, the error
    text and the report path.

    Raises:
        ConfigError: no such run (or, for a department, a run of a dataset not listed to it).
    """
    record = hub.repository.get_run(run_id)
    listed = listed_to(hub, department)
    if record is None or (listed is not None and record.dataset_name not in listed):
        raise NotFoundError(f"no run '{run_id}'", fix="see `exhub runs list`")
    detail = asdict(record)
    if listed is not None and listed[record.dataset_name].basis != "owner":
        # A failed key gate names duplicate keys and an error may quote source values: raw
        # data that only the owner (and the operator and auditors) may see.
        hidden = "(shown to the dataset's owner)"
        detail["gate_results"] = [g | {"detail": hidden} for g in detail["gate_results"]]
        detail["error_message"] = hidden if detail["error_message"] else None
        detail["validation_report_path"] = None
    return detail


RUN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*")


def quarantine_glob(hub: Hub, dataset: str, run_id: str | None) -> str:
    """The quarantine files of a dataset (one run's, or all).

    Raises:
        ConfigError: an unknown dataset, a run of another dataset, or no quarantine.
    """
    if hub.repository.get_dataset(dataset) is None:
        raise NotFoundError(f"no dataset '{dataset}'", fix="see `exhub datasets list`")
    if run_id is not None:
        run = hub.repository.get_run(run_id) if RUN_ID.fullmatch(run_id) else None
        if run is None or run.dataset_name != dataset:
            raise NotFoundError(
                f"no run '{run_id}' of dataset '{dataset}'", fix="see `exhub runs list`"
            )
    folder = hub.settings.warehouse_path / "quarantine" / dataset
    if not folder.exists():
        raise NotFoundError(
            f"no quarantine for dataset '{dataset}'",
            fix="see `exhub datasets list`; a clean dataset has none",
        )
    return str(folder / (f"run_id={run_id}" if run_id else "*") / "*.parquet")


def quarantine_table(
    hub: Hub, dataset: str, run_id: str | None, rule: str | None, limit: int | None
) -> pa.Table | None:
    """Quarantined rows (rule, reason, raw values, position), newest run first; None if none.

    Callers record the read in the audit log before they show it: the rows hold raw values.
    """
    con = offline_duckdb()
    try:
        sql = f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM read_parquet(?)"
        params: list[Any] = [quarantine_glob(hub, dataset, run_id)]
        if rule:
            sql += " WHERE list_contains(failed_rules, ?)"
            params.append(rule)
        sql += " ORDER BY _run_id DESC, _source_position"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return con.sql(sql, params=params).to_arrow_table()
    except duckdb.IOException:
        return None
    finally:
        con.close()


def access_request_row(request: AccessRequestRecord) -> dict:
    """An access request (or grant) as shown: the answer is the revocation reason once revoked."""
    answer = request.revoke_reason if request.status == AccessStatus.REVOKED else None
    return {
        "id": request.id,
        "dataset": request.dataset_name,
        "department": request.department_id,
        "status": request.status,
        "columns": ", ".join(request.columns),
        "rows": request.row_filter or "all",
        "expires_at": request.expires_at,
        "purpose": request.purpose,
        "answer": answer or request.decision_reason,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
        "revoked_by": request.revoked_by,
        "revoked_at": request.revoked_at,
    }
