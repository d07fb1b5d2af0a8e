"""Typed SQLAlchemy 2 models of the catalog.

Every table is prefixed ``exhub_``: the same database holds pyiceberg's SQL catalog tables
(``iceberg_tables``, ``iceberg_namespace_properties``) and, in production, Airflow's metadata.
Timestamps are :class:`~shared_catalog.columns.UtcDateTime` (aware, UTC). Only
:class:`~shared_catalog.repository.CatalogRepository` opens sessions on these models.

Changing a model needs a new migration in ``shared_catalog/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared_catalog.columns import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so later migrations can alter them on every database."""

TABLE_PREFIX = "exhub_"

ID = String(64)
NAME = String(255)
HASH = String(128)


class Base(DeclarativeBase):
    """Declarative base of the catalog tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Department(Base):
    """A government department (公安局, 市场监管局, ...) that owns source systems or datasets."""

    __tablename__ = "exhub_departments"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # e.g. public_security
    name_zh: Mapped[str] = mapped_column(NAME)
    name_en: Mapped[str | None] = mapped_column(NAME)


class SourceSystem(Base):
    """A legacy system a department exposes to the hub.

    There is deliberately no URL or credential column: connection details live in the source
    YAML as secret references (``${ENV_VAR}`` or an Airflow connection id) and never reach the
    catalog. ``config_hash`` tells whether the source file changed since it was registered.
    """

    __tablename__ = "exhub_source_systems"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    department_id: Mapped[str] = mapped_column(ID, ForeignKey("exhub_departments.id"), index=True)
    name: Mapped[str] = mapped_column(NAME)
    connector: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str | None] = mapped_column(String(128))
    max_connections: Mapped[int] = mapped_column(Integer)
    config_hash: Mapped[str] = mapped_column(HASH)
    updated_at: Mapped[datetime]


class Stream(Base):
    """One source object (table, file pattern, endpoint) read into one dataset version."""

    __tablename__ = "exhub_streams"
    __table_args__ = (UniqueConstraint("source_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ID, ForeignKey("exhub_source_systems.id"))
    name: Mapped[str] = mapped_column(NAME)
    source_object: Mapped[str] = mapped_column(Text)
    target_dataset: Mapped[str] = mapped_column(NAME)
    target_version: Mapped[int] = mapped_column(Integer)
    cursor_column: Mapped[str | None] = mapped_column(NAME)
    # Columns and Arrow types the source sent at the last publish: the baseline for drift.
    source_schema: Mapped[list[Any] | None] = mapped_column(JSON)


class Dataset(Base):
    """A shared dataset (person, legal_entity, ...) published as one Iceberg table."""

    __tablename__ = "exhub_datasets"

    name: Mapped[str] = mapped_column(NAME, primary_key=True)  # e.g. person
    domain: Mapped[str] = mapped_column(NAME)
    title_zh: Mapped[str] = mapped_column(NAME)
    title_en: Mapped[str] = mapped_column(NAME)
    owner_department_id: Mapped[str | None] = mapped_column(ID)
    sharing_class: Mapped[str] = mapped_column(String(32))
    update_cycle: Mapped[str] = mapped_column(String(32))
    current_version: Mapped[int] = mapped_column(Integer)
    iceberg_identifier: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime]


class SchemaVersion(Base):
    """One registered version of a dataset's contract; immutable once registered."""

    __tablename__ = "exhub_schema_versions"

    dataset_name: Mapped[str] = mapped_column(
        NAME, ForeignKey("exhub_datasets.name"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_hash: Mapped[str] = mapped_column(HASH)
    contract_json: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime]


class Run(Base):
    """One run of one stream: extract, conform, validate, publish.

    Runs keep no foreign keys so that history survives a source or stream being removed.
    ``timings`` maps a stage to seconds, ``rule_counts`` a rule id to its failed rows and
    ``gate_results`` lists the dataset-level gates with their outcome.
    """

    __tablename__ = "exhub_runs"
    __table_args__ = (
        Index("ix_exhub_runs_source_stream_started", "source_id", "stream_name", "started_at"),
        Index("ix_exhub_runs_dataset_started", "dataset_name", "started_at"),
        Index("ix_exhub_runs_started", "started_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # ULID or UUID
    source_id: Mapped[str] = mapped_column(ID)
    stream_name: Mapped[str] = mapped_column(NAME)
    dataset_name: Mapped[str] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    full_refresh: Mapped[bool]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    extracted_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    conformed_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    published_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    landing_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rule_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    gate_results: Mapped[list[Any]] = mapped_column(default=list)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    watermark_before: Mapped[str | None] = mapped_column(Text)
    watermark_after: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(NAME)
    error_message: Mapped[str | None] = mapped_column(Text)
    validation_report_path: Mapped[str | None] = mapped_column(Text)


class Watermark(Base):
    """The incremental cursor of a stream, advanced only after a successful publish."""

    __tablename__ = "exhub_watermarks"

    source_id: Mapped[str] = mapped_column(ID, primary_key=True)
    stream_name: Mapped[str] = mapped_column(NAME, primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # ISO text of the cursor
    run_id: Mapped[str] = mapped_column(ID)
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """One entry of the hash-chained audit log (who did what, why, with how many rows).

    ``seq`` numbers the entries without gaps and ``prev_hash`` is the previous entry's
    ``hash`` (64 zeros for the first): changing, removing or reordering an entry breaks the
    chain at that point (see :mod:`shared_catalog.audit`). The unique ``prev_hash`` makes a
    fork impossible even if two writers raced past the append lock.
    """

    __tablename__ = "exhub_audit_log"
    __table_args__ = (
        UniqueConstraint("prev_hash"),
        Index("ix_exhub_audit_log_actor_at", "actor", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(NAME)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AccessRequest(Base):
    """A department's request to read a dataset's columns, and the owner's answer.

    An approved request that has not expired or been revoked is a grant. Answers and
    revocations are also entries of the audit log; this row holds the current state.
    """

    __tablename__ = "exhub_access_requests"
    __table_args__ = (
        Index("ix_exhub_access_requests_department_status", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_name: Mapped[str] = mapped_column(NAME, ForeignKey("exhub_datasets.name"), index=True)
    department_id: Mapped[str] = mapped_column(ID, ForeignKey("exhub_departments.id"))
    purpose: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[Any]] = mapped_column(JSON)
    row_filter: Mapped[str | None] = mapped_column(Text)  # SQL condition; None: every row
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(NAME)
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(NAME)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(NAME)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
