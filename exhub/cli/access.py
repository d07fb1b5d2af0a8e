"""``exhub access`` and ``exhub grants``: ask for a dataset's columns, answer, revoke.

Departments act with ``--as DEPT``; each step is recorded in the audit log with the login
name of whoever ran the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub
from shared_catalog import AccessStatus

access_app = typer.Typer(
    help="Access requests: a department asks for columns of a dataset, its owner answers.",
    no_args_is_help=True,
)
grants_app = typer.Typer(
    help="Grants in force (approved requests); revoke them.", no_args_is_help=True
)

FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]
AsOption = Annotated[str, typer.Option("--as", help="the department acting")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why; shown to the department")]


@access_app.command("request")
def request(
    dataset: Annotated[str, typer.Argument(help="dataset name, e.g. person")],
    department: AsOption,
    columns: Annotated[
        str, typer.Option("--columns", help="comma-separated, e.g. resident_id,name")
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="what the data is needed for")],
    expires: Annotated[
        str, typer.Option("--expires", help="last day of the grant, e.g. 2027-06-30")
    ],
    rows: Annotated[
        str | None,
        typer.Option("--rows", help="only rows where this SQL condition holds, e.g. \"x = 'y'\""),
    ] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Ask the dataset's owner for columns (and rows), for a purpose, until a date.

    Unprotected columns of unconditional data are granted at once; everything else waits
    for the owner (`exhub access approve|refuse`).
    """
    from exhub.access.requests import parse_expiry, request_access
    from exhub.views import access_request_row

    hub = Hub()
    filed = request_access(
        hub,
        dataset,
        department,
        columns=columns.split(","),
        purpose=purpose,
        expires_at=parse_expiry(expires, hub.settings.timezone),
        row_filter=rows,
    )
    emit_record(access_request_row(filed), fmt, f"access request {filed.id} ({filed.status})")


def _answer(request_id: int, department: str, reason: str, fmt: Format, *, approve: bool) -> None:
    from exhub.access.requests import answer_request
    from exhub.views import access_request_row

    answered = answer_request(Hub(), request_id, department, approve=approve, reason=reason)
    emit_record(
        access_request_row(answered), fmt, f"access request {answered.id} ({answered.status})"
    )


@access_app.command("approve")
def approve(
    request_id: Annotated[int, typer.Argument(help="request id")],
    department: AsOption,
    reason: ReasonOption,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Approve a pending request (as the dataset's owner): it becomes a grant."""
    _answer(request_id, department, reason, fmt, approve=True)


@access_app.command("refuse")
def refuse(
    request_id: Annotated[int, typer.Argument(help="request id")],
    department: AsOption,
    reason: ReasonOption,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Refuse a pending request (as the dataset's owner), saying why."""
    _answer(request_id, department, reason, fmt, approve=False)


@access_app.command("list")
def list_requests(
    department: Annotated[
        str | None, typer.Option("--as", help="only requests this department made or must answer")
    ] = None,
    status: Annotated[AccessStatus | None, typer.Option(help="only this status")] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List access requests, newest first."""
    from exhub.access.requests import requests_concerning
    from exhub.views import ACCESS_COLUMNS, access_request_row

    hub = Hub()
    found = hub.repository.list_access_requests(dataset_name=dataset, status=status)
    rows = [access_request_row(r) for r in requests_concerning(hub, found, department)]
    emit_rows(rows, ACCESS_COLUMNS, fmt, "access requests")


@grants_app.command("list")
def list_grants(
    department: Annotated[
        str | None, typer.Option("--as", help="only grants this department holds or gave")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List grants in force: approved, not revoked, not expired."""
    from exhub.access.requests import requests_concerning
    from exhub.views import ACCESS_COLUMNS, access_request_row

    hub = Hub()
    now = datetime.now().astimezone()
    approved = hub.repository.list_access_requests(
        dataset_name=dataset, status=AccessStatus.APPROVED
    )
    rows = [
        access_request_row(r)
        for r in requests_concerning(hub, approved, department)
        if r.active_at(now)
    ]
    emit_rows(rows, ACCESS_COLUMNS, fmt, "grants in force")


@grants_app.command("revoke")
def revoke(
    request_id: Annotated[int, typer.Argument(help="grant (request) id")],
    department: AsOption,
    reason: ReasonOption,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Revoke a grant (as the dataset's owner); it ends at the department's next query."""
    from exhub.access.requests import revoke_grant
    from exhub.views import access_request_row

    revoked = revoke_grant(Hub(), request_id, department, reason=reason)
    emit_record(access_request_row(revoked), fmt, f"grant {revoked.id} revoked")
