"""The portal's pages: catalog, dataset, runs, query, access, audit log, scorecards.

Server-rendered with Jinja2 (autoescaped). Forms post back and redirect with a one-line
message (post/redirect/get); the session cookie is signed and SameSite=strict.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from exhub.access.policy import owned_datasets
from exhub.access.requests import (
    answer_request,
    parse_expiry,
    request_access,
    requests_concerning,
    revoke_grant,
)
from exhub.audit import record_access
from exhub.errors import QueryError
from exhub.query import run_query
from exhub.serve.api import audit_entries
from exhub.serve.deps import (
    Forbidden,
    hub_of,
    may_read_raw_rows,
    principal_of,
    require_department,
    require_querier,
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

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
SHOWN_ROWS = 500
QUARANTINE_SAMPLE = 20
router = APIRouter(include_in_schema=False)
Caller = Annotated[Principal, Depends(principal_of)]


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page, with who is signed in and the pending one-line message."""
    flash = request.session.pop("flash", None)
    tokens = request.app.state.tokens
    who = tokens.named(request.session.get("who"))
    context = {"who": who, "flash": flash, **context}
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def redirect_to_login(request: Request) -> RedirectResponse:
    """Send a visitor without a session to the sign-in page."""
    return RedirectResponse("/login", status_code=303)


def error_page(request: Request, message: str, *, fix: str | None = None, status: int) -> Response:
    """A refusal, with how to fix it."""
    return render(request, "error.html", status, message=message, fix=fix, page=None)


def _back(request: Request, to: str, message: str) -> RedirectResponse:
    request.session["flash"] = message
    return RedirectResponse(to, status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form."""
    return render(request, "login.html", page="login")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
    """Check the token; remember who signed in (the token itself is not kept)."""
    found = request.app.state.tokens.who(token.strip())
    if found is None:
        return render(request, "login.html", 401, page="login", error="That token is not valid.")
    request.session.clear()
    request.session["who"] = found.name
    return _back(request, "/", f"Signed in as {found.name}.")


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def catalog(request: Request, caller: Caller) -> Response:
    """The datasets listed to the caller."""
    datasets = dataset_rows(hub_of(request), caller.department)
    return render(request, "catalog.html", page="catalog", datasets=datasets)


@router.get("/datasets/{name}")
def dataset(request: Request, caller: Caller, name: str) -> Response:
    """One dataset, with a request form for departments that do not own it."""
    hub = hub_of(request)
    detail = dataset_detail(hub, name, caller.department)
    can_request = caller.department is not None and detail.get("access") != "owner"
    expiry = (date.today() + timedelta(days=180)).isoformat()
    return render(
        request, "dataset.html", page="catalog", d=detail, can_request=can_request,
        default_expiry=expiry,
    )  # fmt: skip


@router.get("/runs")
def runs(request: Request, caller: Caller) -> Response:
    """Recent runs of datasets listed to the caller."""
    rows = run_rows(hub_of(request), limit=200, department=caller.department)
    return render(request, "runs.html", page="runs", runs=rows)


@router.get("/runs/{run_id}")
def run(request: Request, caller: Caller, run_id: str) -> Response:
    """One run; its quarantined rows for those who may read raw values (audited)."""
    hub = hub_of(request)
    detail = run_detail(hub, run_id, caller.department)
    sample = None
    if detail["quarantined_rows"] and may_read_raw_rows(caller, hub, detail["dataset_name"]):
        table = quarantine_table(hub, detail["dataset_name"], run_id, None, QUARANTINE_SAMPLE)
        sample = table.to_pylist() if table is not None else []
        record_access(
            hub, "quarantine_list", detail["dataset_name"], actor=caller.name,
            user=caller.user, run=run_id, rows=len(sample),
        )  # fmt: skip
    return render(request, "run.html", page="runs", r=detail, quarantine=sample)


@router.get("/runs/{run_id}/report")
def report(request: Request, caller: Caller, run_id: str) -> Response:
    """The run's Great Expectations report (it quotes unexpected values: raw-row readers)."""
    hub = hub_of(request)
    detail = run_detail(hub, run_id, caller.department)
    if not may_read_raw_rows(caller, hub, detail["dataset_name"]):
        raise Forbidden("the validation report quotes raw values: owner, operator, auditors")
    reports = (hub.settings.warehouse_path / "reports").resolve()
    path = Path(detail["validation_report_path"] or "").resolve()
    if not path.is_file() or reports not in path.parents:
        raise Forbidden(f"run {run_id} has no validation report in the warehouse")
    record_access(
        hub, "report_read", detail["dataset_name"], actor=caller.name, user=caller.user, run=run_id
    )
    return FileResponse(path, media_type="text/html")


@router.get("/query")
def query_form(request: Request, caller: Caller) -> Response:
    """The query page."""
    require_querier(caller)
    return render(request, "query.html", page="query", result=None)


@router.post("/query")
def query(
    request: Request,
    caller: Caller,
    sql: Annotated[str, Form()],
    purpose: Annotated[str, Form()] = "",
) -> Response:
    """Run the caller's SELECT and show the first rows."""
    require_querier(caller)
    page = {"page": "query", "sql": sql, "purpose": purpose}
    try:
        result = run_query(
            hub_of(request), sql, actor=caller.name, purpose=purpose or None,
            department=caller.department, user=caller.user,
        )  # fmt: skip
    except QueryError as refused:
        return render(request, "query.html", 400, result=None, error=str(refused), **page)
    shown = result.slice(0, SHOWN_ROWS).to_pylist()
    return render(request, "query.html", result=result, shown=shown, **page)


@router.get("/access")
def access(request: Request, caller: Caller) -> Response:
    """Requests the caller made or must answer, with answer and revoke forms."""
    hub = hub_of(request)
    found = requests_concerning(hub, hub.repository.list_access_requests(), caller.department)
    owned = owned_datasets(hub, caller.department)
    rows = [access_request_row(r) for r in found]
    return render(request, "access.html", page="access", requests=rows, owned=owned)


@router.post("/access/request")
def file_request(
    request: Request,
    caller: Caller,
    dataset: Annotated[str, Form()],
    purpose: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
    rows: Annotated[str, Form()] = "",
    columns: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """File an access request from the dataset page."""
    department = require_department(caller, "asking for access")
    hub = hub_of(request)
    filed = request_access(
        hub, dataset, department, columns=columns or [], purpose=purpose,
        expires_at=parse_expiry(expires, hub.settings.timezone), row_filter=rows or None,
        user=caller.user,
    )  # fmt: skip
    return _back(request, "/access", f"Request {filed.id} for {dataset}: {filed.status}.")


@router.post("/access/{request_id}/answer")
def answer(
    request: Request,
    caller: Caller,
    request_id: int,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Approve or refuse a pending request (as the owner)."""
    department = require_department(caller, "answering a request")
    answered = answer_request(
        hub_of(request), request_id, department, approve=decision == "approve", reason=reason,
        user=caller.user,
    )  # fmt: skip
    return _back(request, "/access", f"Request {request_id} {answered.status}.")


@router.post("/grants/{request_id}/revoke")
def revoke(
    request: Request, caller: Caller, request_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    """Revoke a grant (as the owner)."""
    department = require_department(caller, "revoking a grant")
    revoke_grant(hub_of(request), request_id, department, reason=reason, user=caller.user)
    return _back(request, "/access", f"Grant {request_id} revoked.")


@router.get("/audit")
def audit(request: Request, caller: Caller) -> Response:
    """The audit log as far as the caller may review it, with the chain's verdict."""
    verdict = None
    if caller.department is None:
        verdict = hub_of(request).repository.verify_audit()
    entries = audit_entries(request, caller, 200)
    return render(request, "audit.html", page="audit", entries=entries, verdict=verdict)


@router.get("/scorecards")
def department_scorecards(request: Request, caller: Caller, days: int = 30) -> Response:
    """Per-department scorecards."""
    del caller  # any signed-in principal
    days = max(1, min(days, 366))
    cards = scorecards(hub_of(request), days=days)
    return render(request, "scorecards.html", page="scorecards", cards=cards, days=days)
