"""Access request methods of the repository: ask, answer, revoke, and the grants in force.

Every state change is one conditional ``UPDATE ... WHERE status = <expected>``: two owners
answering the same request at once cannot both succeed, and a revoked grant cannot be
approved again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from shared_catalog.errors import CatalogError
from shared_catalog.models import AccessRequest
from shared_catalog.records import AccessRequestRecord, AccessStatus
from shared_catalog.repo_base import RepositoryBase


class AccessMethods(RepositoryBase):
    """Access requests and grants (SPEC §9)."""

    def create_access_request(
        self,
        *,
        dataset_name: str,
        department_id: str,
        purpose: str,
        columns: Sequence[str],
        expires_at: datetime,
        requested_by: str,
        row_filter: str | None = None,
        status: AccessStatus = AccessStatus.PENDING,
        decided_by: str | None = None,
        decision_reason: str | None = None,
    ) -> AccessRequestRecord:
        """Record a request and return it (with its new id).

        A request the hub answers itself (unconditional data) is stored already approved,
        with ``decided_by`` and ``decision_reason``.
        """
        now = self._now()
        decided = status is not AccessStatus.PENDING
        row = AccessRequest(
            dataset_name=dataset_name,
            department_id=department_id,
            purpose=purpose,
            columns=list(columns),
            row_filter=row_filter,
            expires_at=expires_at,
            status=status.value,
            requested_by=requested_by,
            requested_at=now,
            decided_by=decided_by if decided else None,
            decided_at=now if decided else None,
            decision_reason=decision_reason if decided else None,
        )
        with self._session() as s, s.begin():
            s.add(row)
            s.flush()
            return AccessRequestRecord.of(row)

    def get_access_request(self, request_id: int) -> AccessRequestRecord | None:
        """One request by id, or None."""
        return self._get(AccessRequest, request_id, AccessRequestRecord.of)

    def list_access_requests(
        self,
        *,
        dataset_name: str | None = None,
        department_id: str | None = None,
        status: AccessStatus | None = None,
    ) -> list[AccessRequestRecord]:
        """Requests, newest first, narrowed by dataset, requesting department and status."""
        query = select(AccessRequest).order_by(AccessRequest.id.desc())
        if dataset_name is not None:
            query = query.where(AccessRequest.dataset_name == dataset_name)
        if department_id is not None:
            query = query.where(AccessRequest.department_id == department_id)
        if status is not None:
            query = query.where(AccessRequest.status == status.value)
        with self._session(write=False) as s, s.begin():
            return [AccessRequestRecord.of(row) for row in s.scalars(query)]

    def active_grants(
        self, department_id: str, *, dataset_name: str | None = None
    ) -> list[AccessRequestRecord]:
        """The department's grants in force now: approved, not revoked, not expired."""
        now = self._now()
        query = select(AccessRequest).where(
            AccessRequest.department_id == department_id,
            AccessRequest.status == AccessStatus.APPROVED.value,
            AccessRequest.expires_at > now,
        )
        if dataset_name is not None:
            query = query.where(AccessRequest.dataset_name == dataset_name)
        with self._session(write=False) as s, s.begin():
            return [
                AccessRequestRecord.of(row) for row in s.scalars(query.order_by(AccessRequest.id))
            ]

    def decide_access_request(
        self, request_id: int, *, approve: bool, decided_by: str, reason: str
    ) -> AccessRequestRecord:
        """Approve or refuse a pending request.

        Raises:
            CatalogError: the request does not exist or is no longer pending.
        """
        status = AccessStatus.APPROVED if approve else AccessStatus.REFUSED
        return self._transition(
            request_id,
            AccessStatus.PENDING,
            status=status.value,
            decided_by=decided_by,
            decided_at=self._now(),
            decision_reason=reason,
        )

    def revoke_grant(self, request_id: int, *, revoked_by: str, reason: str) -> AccessRequestRecord:
        """Revoke an approved request (a grant); it stops counting at the next query.

        Raises:
            CatalogError: the request does not exist or is not approved.
        """
        return self._transition(
            request_id,
            AccessStatus.APPROVED,
            status=AccessStatus.REVOKED.value,
            revoked_by=revoked_by,
            revoked_at=self._now(),
            revoke_reason=reason,
        )

    def _transition(
        self, request_id: int, expected: AccessStatus, **values: Any
    ) -> AccessRequestRecord:
        with self._session() as s, s.begin():
            changed = s.execute(
                update(AccessRequest)
                .where(AccessRequest.id == request_id, AccessRequest.status == expected.value)
                .values(**values)
            ).rowcount
            row = s.get(AccessRequest, request_id)
            if row is None:
                raise CatalogError(
                    f"access request {request_id} does not exist",
                    fix="see `exhub access list` for request ids",
                )
            if not changed:
                raise CatalogError(
                    f"access request {request_id} is {row.status}, not {expected.value}",
                    fix="only pending requests are answered and only approved ones revoked",
                )
            s.refresh(row)
            return AccessRequestRecord.of(row)
