"""The JSON API under ``/api`` (bearer token). Arrow IPC for query results on request.

Routes mirror the CLI: datasets, runs, quarantine, query, access requests, grants, audit log,
scorecards. A department gets what ``--as DEPT`` gives it; the operator what the CLI gives
without ``--as``; auditors review everything but read no dataset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from exhub.access.policy import owned_datasets
from exhub.access.requests import (
    answer_request,
    parse_expiry,
    request_access,
    requests_concerning,
    revoke_grant,
)
from exhub.audit import record_access
from exhub.query import run_query
from exhub.serve.deps import (
    Forbidden,
    hub_of,
    principal_of,
    require_department,
    require_querier,
    require_reader_of_raw_rows,
)
from exhub.serve.identity import Principal
from exhub.serve.scorecards import scorecards
from exhub.views import (
    access_request_row,
    dataset_detail,
    dataset_rows,
    quarantine_table,
    run_detail,
    run_rows,
)
from shared_catalog import AccessStatus

ARROW_STREAM = "application/vnd.apache.arrow.stream"
MAX_JSON_ROWS = 100_000
"""JSON answers stop here (``truncated``); Arrow IPC carries any size, column by column."""
router = APIRouter(prefix="/api")
Caller = Annotated[Principal, Depends(principal_of)]


class QueryBody(BaseModel):
    """One SELECT, why, and optionally the moment to read the datasets at."""

    sql: str
    purpose: str | None = None
    as_of: datetime | None = None


class RequestBody(BaseModel):
    """An access request: columns of a dataset, for a purpose, until a date."""

    dataset: str
    columns: list[str] = Field(min_length=1)
    purpose: str
    expires: str = Field(description="last day (ISO date) or ISO time")
    rows: str | None = Field(default=None, description="SQL condition limiting the rows")


class ReasonBody(BaseModel):
    """Why the owner answers or revokes as it does."""

    reason: str


@router.get("/me")
def me(caller: Caller) -> dict[str, str | None]:
    """Who the token belongs to."""
    return {"name": caller.name, "role": caller.role, "department": caller.department}


@router.get("/datasets")
def datasets(request: Request, caller: Caller) -> list[dict[str, Any]]:
    """Datasets listed to the caller, with rows, freshness and (for a department) access."""
    return dataset_rows(hub_of(request), caller.department)


@router.get("/datasets/{name}")
def dataset(request: Request, caller: Caller, name: str) -> dict[str, Any]:
    """One dataset: contract, fields (and their access), rows per source, latest runs."""
    return dataset_detail(hub_of(request), name, caller.department)


@router.get("/runs")
def runs(
    request: Request,
    caller: Caller,
    source: str | None = None,
    dataset: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """Runs, newest first (a department sees the runs of datasets listed to it)."""
    hub = hub_of(request)
    return run_rows(hub, source=source, dataset=dataset, limit=limit, department=caller.department)


@router.get("/runs/{run_id}")
def run(request: Request, caller: Caller, run_id: str) -> dict[str, Any]:
    """One run: counts per stage, timings, rule counts, gate results."""
    return run_detail(hub_of(request), run_id, caller.department)


@router.get("/quarantine/{dataset}")
def quarantine(
    request: Request,
    caller: Caller,
    dataset: str,
    run: str | None = None,
    rule: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Quarantined rows with rules, reasons and raw values (owner, operator, auditors)."""
    hub = hub_of(request)
    require_reader_of_raw_rows(caller, hub, dataset)
    table = quarantine_table(hub, dataset, run, rule, limit)
    rows = table.to_pylist() if table is not None else []
    record_access(
        hub, "quarantine_list", dataset, actor=caller.name, user=caller.user, run=run,
        rule=rule, rows=len(rows),
    )  # fmt: skip
    return rows


def _arrow(table: pa.Table) -> Response:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)


@router.post("/query")
def query(request: Request, caller: Caller, body: QueryBody):
    """Run one SELECT as the caller (JSON rows, or Arrow IPC with ``Accept`` set to it)."""
    require_querier(caller)
    table = run_query(
        hub_of(request),
        body.sql,
        actor=caller.name,
        purpose=body.purpose,
        as_of=body.as_of,
        department=caller.department,
        user=caller.user,
    )
    if ARROW_STREAM in request.headers.get("accept", ""):
        return _arrow(table)
    shown = table.slice(0, MAX_JSON_ROWS)
    return {
        "columns": table.column_names,
        "row_count": table.num_rows,
        "truncated": shown.num_rows < table.num_rows,
        "rows": shown.to_pylist(),
    }


@router.get("/access/requests")
def access_requests(
    request: Request,
    caller: Caller,
    status: AccessStatus | None = None,
    dataset: str | None = None,
) -> list[dict[str, Any]]:
    """Requests the caller made or must answer (all of them for the operator and auditors)."""
    hub = hub_of(request)
    found = hub.repository.list_access_requests(dataset_name=dataset, status=status)
    return [access_request_row(r) for r in requests_concerning(hub, found, caller.department)]


@router.post("/access/requests", status_code=201)
def file_request(request: Request, caller: Caller, body: RequestBody) -> dict[str, Any]:
    """File a request as the caller's department."""
    department = require_department(caller, "asking for access")
    hub = hub_of(request)
    filed = request_access(
        hub, body.dataset, department, columns=body.columns, purpose=body.purpose,
        expires_at=parse_expiry(body.expires, hub.settings.timezone), row_filter=body.rows,
        user=caller.user,
    )  # fmt: skip
    return access_request_row(filed)


def _answer(request: Request, caller: Caller, request_id: int, reason: str, *, approve: bool):
    department = require_department(caller, "answering a request")
    answered = answer_request(
        hub_of(request), request_id, department, approve=approve, reason=reason, user=caller.user
    )
    return access_request_row(answered)


@router.post("/access/requests/{request_id}/approve")
def approve(request: Request, caller: Caller, request_id: int, body: ReasonBody) -> dict[str, Any]:
    """Approve a pending request for a dataset the caller owns."""
    return _answer(request, caller, request_id, body.reason, approve=True)


@router.post("/access/requests/{request_id}/refuse")
def refuse(request: Request, caller: Caller, request_id: int, body: ReasonBody) -> dict[str, Any]:
    """Refuse a pending request for a dataset the caller owns."""
    return _answer(request, caller, request_id, body.reason, approve=False)


@router.get("/grants")
def grants(request: Request, caller: Caller) -> list[dict[str, Any]]:
    """Grants in force that the caller holds or gave (all for the operator and auditors)."""
    hub = hub_of(request)
    now = datetime.now().astimezone()
    approved = hub.repository.list_access_requests(status=AccessStatus.APPROVED)
    concerning = requests_concerning(hub, approved, caller.department)
    return [access_request_row(r) for r in concerning if r.active_at(now)]


@router.post("/grants/{request_id}/revoke")
def revoke(request: Request, caller: Caller, request_id: int, body: ReasonBody) -> dict[str, Any]:
    """Revoke a grant on a dataset the caller owns; it ends at the holder's next query."""
    department = require_department(caller, "revoking a grant")
    revoked = revoke_grant(
        hub_of(request), request_id, department, reason=body.reason, user=caller.user
    )
    return access_request_row(revoked)


def audit_entries(request: Request, caller: Caller, limit: int) -> list[dict[str, Any]]:
    """Audit entries the caller may review, newest first.

    The operator and auditors review all; a department its own acts and every act on the
    datasets it owns.
    """
    hub = hub_of(request)
    involving = None
    if caller.department is not None:
        involving = (caller.department, owned_datasets(hub, caller.department))
    entries = hub.repository.list_audit(limit=limit, involving=involving)
    return [
        {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
         "purpose": e.purpose, "detail": e.detail, "hash": e.hash}
        for e in entries
    ]  # fmt: skip


@router.get("/audit")
def audit(
    request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> list[dict[str, Any]]:
    """The audit log, newest first, as far as the caller may review it."""
    return audit_entries(request, caller, limit)


@router.get("/audit/verify")
def verify(request: Request, caller: Caller) -> dict[str, Any]:
    """Check the hash chain (operator and auditors)."""
    if caller.department is not None:
        raise Forbidden("the operator and auditors verify the audit log")
    verdict = hub_of(request).repository.verify_audit()
    return {
        "intact": verdict.intact, "entries_checked": verdict.entries,
        "head_seq": verdict.head_seq, "head_hash": verdict.head_hash,
        "broken_at": verdict.broken_at, "problem": verdict.problem,
    }  # fmt: skip


@router.get("/scorecards")
def department_scorecards(
    request: Request, caller: Caller, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[dict[str, Any]]:
    """Per-department scorecards over the last ``days`` days."""
    del caller  # any signed-in principal
    return scorecards(hub_of(request), days=days)
