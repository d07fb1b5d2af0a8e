"""The access workflow: a department asks, the owner approves or refuses, the owner revokes.

Every step checks who acts (only the owner department answers and revokes), keeps the
reasons, and is recorded in the hash-chained audit log with the operating-system user. A
grant takes effect, and a revocation ends it, at the department's next query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from exhub.access.policy import (
    HUB_DECIDES,
    department_access,
    is_protected,
    known_department,
    owned_datasets,
)
from exhub.access.row_filter import check_row_filter
from exhub.audit import os_user, record_access
from exhub.contracts.models import SharingClass
from exhub.engine.hub import Hub
from exhub.errors import ConfigError, ConflictError, NotFoundError, PermissionDeniedError
from exhub.publish.tables import dataset_arrow_schema
from shared_catalog import AccessRequestRecord, AccessStatus, CatalogError

DIRECT = "unconditional sharing (无条件共享): granted without review"


def _audit(
    hub: Hub,
    action: str,
    request: AccessRequestRecord,
    actor: str,
    user: str | None,
    **detail,
) -> None:
    record_access(
        hub,
        action,
        request.dataset_name,
        actor=actor,
        purpose=request.purpose,
        request_id=request.id,
        department=request.department_id,
        columns=request.columns,
        row_filter=request.row_filter,
        expires_at=request.expires_at.isoformat(),
        user=user or os_user(),
        **detail,
    )


def parse_expiry(text: str, zone: str) -> datetime:
    """When a grant ends, from an ISO date or time.

    A date means through that day in the hub's time zone (``timezone``, Asia/Shanghai by
    default); a time without a zone is read in it too.

    Raises:
        ConfigError: neither an ISO date nor an ISO time.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--expires '{text}' is not an ISO date or time", fix="e.g. --expires 2027-06-30"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _text(value: str, option: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise ConfigError(f"{option} must not be empty", fix=f"say why with {option} '...'")
    return cleaned


def request_access(
    hub: Hub,
    dataset: str,
    department: str,
    *,
    columns: Sequence[str],
    purpose: str,
    expires_at: datetime,
    row_filter: str | None = None,
    user: str | None = None,
) -> AccessRequestRecord:
    """File a request by ``department`` to read ``columns`` of ``dataset`` until ``expires_at``.

    On unconditional data, a request for unprotected columns is granted at once (SPEC §2:
    such grants are created directly); anything else waits for the owner's answer.

    Args:
        hub: The hub.
        dataset: Dataset name.
        department: The requesting department.
        columns: Columns wanted raw.
        purpose: What for.
        expires_at: When the grant ends.
        row_filter: Optional SQL condition limiting the grant to some rows.
        user: Who acts for the department (default: the operating-system user).

    Raises:
        ConfigError: unknown department or dataset (a 不予共享 dataset of another department
            is unknown to it), a column the dataset does not have, a row filter that is not a
            plain condition over the dataset's columns, an empty purpose, or an expiry not in
            the future.
    """
    access = department_access(hub, department).get(dataset)
    if access is None:
        raise NotFoundError(
            f"unknown dataset '{dataset}' for department {department}",
            fix=f"`exhub datasets list --as {department}` lists what you may ask for",
            dataset=dataset,
        )
    if access.basis == "owner":
        raise ConfigError(
            f"department {department} owns '{dataset}' and reads it in full",
            fix="owners need no grant",
        )
    fields = [f.name for f in access.contract.fields]
    wanted = list(dict.fromkeys(c.strip() for c in columns if c.strip()))
    if not wanted:
        raise ConfigError("--columns names no column", fix=f"e.g. --columns {fields[0]}")
    for column in wanted:
        if column not in fields:
            raise ConfigError(
                f"'{dataset}' has no column '{column}'",
                fix=f"columns: {', '.join(fields)}",
                column=column,
            )
    if row_filter is not None:
        row_filter = check_row_filter(row_filter, dataset_arrow_schema(access.contract))
    if expires_at.tzinfo is None:
        expires_at = expires_at.astimezone()
    if expires_at <= datetime.now(UTC):
        raise ConfigError(
            f"--expires {expires_at.isoformat()} is not in the future",
            fix="a grant needs an end date ahead, e.g. --expires 2027-06-30",
        )
    direct = access.contract.sharing.class_ == SharingClass.UNCONDITIONAL and not any(
        is_protected(access.contract.field(c)) for c in wanted
    )
    request = hub.repository.create_access_request(
        dataset_name=dataset,
        department_id=department,
        purpose=_text(purpose, "--purpose"),
        columns=wanted,
        row_filter=row_filter,
        expires_at=expires_at,
        requested_by=user or os_user(),
        status=AccessStatus.APPROVED if direct else AccessStatus.PENDING,
        decided_by=HUB_DECIDES if direct else None,
        decision_reason=DIRECT if direct else None,
    )
    _audit(hub, "access_request", request, department, user)
    if direct:
        _audit(hub, "access_approve", request, HUB_DECIDES, user, reason=DIRECT)
    return request


def _owned_request(hub: Hub, request_id: int, department: str) -> AccessRequestRecord:
    known_department(hub, department)
    request = hub.repository.get_access_request(request_id)
    owner = None if request is None else hub.repository.get_dataset(request.dataset_name)
    owner = None if owner is None else owner.owner_department_id
    if request is None or department not in (owner, request.department_id):
        # To anyone but its two parties, a request is as unknown as one that does not exist.
        raise NotFoundError(
            f"access request {request_id} does not exist", fix="see `exhub access list`"
        )
    if owner != department:
        raise PermissionDeniedError(
            f"only the owner of '{request.dataset_name}' ({owner}) answers or revokes request "
            f"{request_id}, not {department}",
            fix=f"act as the owner: --as {owner}",
        )
    return request


def answer_request(
    hub: Hub,
    request_id: int,
    department: str,
    *,
    approve: bool,
    reason: str,
    user: str | None = None,
) -> AccessRequestRecord:
    """Approve or refuse a pending request, as the dataset's owner, with a reason.

    Raises:
        ConfigError: unknown request, not the owner, no reason, not pending, or (approving)
            already past its expiry.
    """
    request = _owned_request(hub, request_id, department)
    reason = _text(reason, "--reason")
    if approve and request.expires_at <= datetime.now(UTC):
        raise ConflictError(
            f"access request {request_id} expired on {request.expires_at.isoformat()}",
            fix="refuse it; the department can ask again with a later --expires",
        )
    try:
        answered = hub.repository.decide_access_request(
            request_id, approve=approve, decided_by=department, reason=reason
        )
    except CatalogError as exc:
        raise ConflictError(exc.message, fix=exc.fix) from None
    action = "access_approve" if approve else "access_refuse"
    _audit(hub, action, answered, department, user, reason=reason)
    return answered


def revoke_grant(
    hub: Hub, request_id: int, department: str, *, reason: str, user: str | None = None
) -> AccessRequestRecord:
    """End an approved grant now, as the dataset's owner, with a reason.

    Raises:
        ConfigError: unknown request, not the owner, no reason, or not an approved grant.
    """
    _owned_request(hub, request_id, department)
    reason = _text(reason, "--reason")
    try:
        revoked = hub.repository.revoke_grant(request_id, revoked_by=department, reason=reason)
    except CatalogError as exc:
        raise ConflictError(exc.message, fix=exc.fix) from None
    _audit(hub, "grant_revoke", revoked, department, user, reason=reason)
    return revoked


def requests_concerning(
    hub: Hub, requests: list[AccessRequestRecord], department: str | None
) -> list[AccessRequestRecord]:
    """The requests a department made or must answer (all of them for the operator)."""
    if department is None:
        return requests
    known_department(hub, department)
    owned = owned_datasets(hub, department)
    return [r for r in requests if r.department_id == department or r.dataset_name in owned]
