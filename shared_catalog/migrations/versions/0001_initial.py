"""Initial catalog tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exhub_departments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhub_departments")),
    )
    op.create_table(
        "exhub_source_systems",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("schedule", sa.String(length=128), nullable=True),
        sa.Column("max_connections", sa.Integer(), nullable=False),
        sa.Column("config_hash", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["exhub_departments.id"],
            name=op.f("fk_exhub_source_systems_department_id_exhub_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhub_source_systems")),
    )
    op.create_index(
        op.f("ix_exhub_source_systems_department_id"), "exhub_source_systems", ["department_id"]
    )
    op.create_table(
        "exhub_streams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source_object", sa.Text(), nullable=False),
        sa.Column("target_dataset", sa.String(length=255), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=False),
        sa.Column("cursor_column", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["exhub_source_systems.id"],
            name=op.f("fk_exhub_streams_source_id_exhub_source_systems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhub_streams")),
        sa.UniqueConstraint("source_id", "name", name=op.f("uq_exhub_streams_source_id_name")),
    )
    op.create_table(
        "exhub_datasets",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("title_zh", sa.String(length=255), nullable=False),
        sa.Column("title_en", sa.String(length=255), nullable=False),
        sa.Column("owner_department_id", sa.String(length=64), nullable=True),
        sa.Column("sharing_class", sa.String(length=32), nullable=False),
        sa.Column("update_cycle", sa.String(length=32), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("iceberg_identifier", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_exhub_datasets")),
    )
    op.create_table(
        "exhub_schema_versions",
        sa.Column("dataset_name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("contract_hash", sa.String(length=128), nullable=False),
        sa.Column("contract_json", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_name"],
            ["exhub_datasets.name"],
            name=op.f("fk_exhub_schema_versions_dataset_name_exhub_datasets"),
        ),
        sa.PrimaryKeyConstraint("dataset_name", "version", name=op.f("pk_exhub_schema_versions")),
    )
    op.create_table(
        "exhub_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("stream_name", sa.String(length=255), nullable=False),
        sa.Column("dataset_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("full_refresh", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extracted_rows", sa.BigInteger(), nullable=False),
        sa.Column("conformed_rows", sa.BigInteger(), nullable=False),
        sa.Column("quarantined_rows", sa.BigInteger(), nullable=False),
        sa.Column("published_rows", sa.BigInteger(), nullable=False),
        sa.Column("deleted_rows", sa.BigInteger(), nullable=False),
        sa.Column("landing_bytes", sa.BigInteger(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("rule_counts", sa.JSON(), nullable=False),
        sa.Column("gate_results", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("watermark_before", sa.Text(), nullable=True),
        sa.Column("watermark_after", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("validation_report_path", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhub_runs")),
    )
    op.create_index(
        "ix_exhub_runs_source_stream_started",
        "exhub_runs",
        ["source_id", "stream_name", "started_at"],
    )
    op.create_index("ix_exhub_runs_dataset_started", "exhub_runs", ["dataset_name", "started_at"])
    op.create_index("ix_exhub_runs_started", "exhub_runs", ["started_at"])
    op.create_table(
        "exhub_watermarks",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("stream_name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "stream_name", name=op.f("pk_exhub_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("exhub_watermarks")
    op.drop_index("ix_exhub_runs_started", table_name="exhub_runs")
    op.drop_index("ix_exhub_runs_dataset_started", table_name="exhub_runs")
    op.drop_index("ix_exhub_runs_source_stream_started", table_name="exhub_runs")
    op.drop_table("exhub_runs")
    op.drop_table("exhub_schema_versions")
    op.drop_table("exhub_datasets")
    op.drop_table("exhub_streams")
    op.drop_index(op.f("ix_exhub_source_systems_department_id"), table_name="exhub_source_systems")
    op.drop_table("exhub_source_systems")
    op.drop_table("exhub_departments")
