"""Plain frozen records returned by the repository.

The repository never hands out ORM objects: a record is a detached copy, readable after the
session closed and safe to pass between threads, tasks and the HTTP layer.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self


class RunStatus(StrEnum):
    """The state of a run; every state but ``RUNNING`` is final."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    GATED = "gated"
    SKIPPED = "skipped"


class RunTrigger(StrEnum):
    """What started a run."""

    CLI = "cli"
    AIRFLOW = "airflow"
    DEMO = "demo"
    REPLAY = "replay"  # re-validation of an earlier run's landing


class AccessStatus(StrEnum):
    """The state of an access request; an approved one is a grant until it expires."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


class _Record:
    """Builds a record from any object carrying the same attribute names."""

    @classmethod
    def of(cls, row: Any) -> Self:
        """Copy the record's fields from ``row`` (an ORM object), deep-copying JSON values.

        Args:
            row: An object with one attribute per field of the record.

        Returns:
            The new record.
        """
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        return cls(**{f.name: copy.deepcopy(getattr(row, f.name)) for f in fields})


@dataclass(frozen=True, slots=True)
class DepartmentRecord(_Record):
    """A government department."""

    id: str
    name_zh: str
    name_en: str | None


@dataclass(frozen=True, slots=True)
class SourceSystemRecord(_Record):
    """A registered legacy system; no connection details by design."""

    id: str
    department_id: str
    name: str
    connector: str
    schedule: str | None
    max_connections: int
    config_hash: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StreamRecord(_Record):
    """One stream of a source system and the dataset version it feeds."""

    id: int
    source_id: str
    name: str
    source_object: str
    target_dataset: str
    target_version: int
    cursor_column: str | None
    source_schema: list[Any] | None


@dataclass(frozen=True, slots=True)
class DatasetRecord(_Record):
    """A shared dataset and its Iceberg table."""

    name: str
    domain: str
    title_zh: str
    title_en: str
    owner_department_id: str | None
    sharing_class: str
    update_cycle: str
    current_version: int
    iceberg_identifier: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SchemaVersionRecord(_Record):
    """One registered contract version of a dataset."""

    dataset_name: str
    version: int
    contract_hash: str
    contract_json: str
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord(_Record):
    """One run of one stream, with its counts, timings and validation results."""

    id: str
    source_id: str
    stream_name: str
    dataset_name: str
    status: RunStatus
    trigger: RunTrigger
    full_refresh: bool
    started_at: datetime
    finished_at: datetime | None
    extracted_rows: int
    conformed_rows: int
    quarantined_rows: int
    published_rows: int
    deleted_rows: int
    landing_bytes: int
    timings: dict[str, float]
    rule_counts: dict[str, int]
    gate_results: list[dict[str, Any]]
    snapshot_id: int | None
    watermark_before: str | None
    watermark_after: str | None
    error_class: str | None
    error_message: str | None
    validation_report_path: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))
        object.__setattr__(self, "trigger", RunTrigger(self.trigger))

    @property
    def finished(self) -> bool:
        """Whether the run reached a final status."""
        return self.status is not RunStatus.RUNNING

    @property
    def duration_seconds(self) -> float | None:
        """Wall-clock seconds from start to finish, or None while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RunTotals:
    """The runs of one source system in a time window, added up by the catalog."""

    runs: int
    succeeded: int
    extracted_rows: int
    quarantined_rows: int


@dataclass(frozen=True, slots=True)
class AuditRecord(_Record):
    """One entry of the hash-chained audit log."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    purpose: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AccessRequestRecord(_Record):
    """A request to read a dataset's columns and the owner's answer (a grant once approved)."""

    id: int
    dataset_name: str
    department_id: str
    purpose: str
    columns: list[str]
    row_filter: str | None
    expires_at: datetime
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str | None

    def active_at(self, moment: datetime) -> bool:
        """Whether this is a grant in force at ``moment``: approved, not revoked, not expired."""
        return self.status == AccessStatus.APPROVED and self.expires_at > moment
