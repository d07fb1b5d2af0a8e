"""Access requests and grants (SPEC §9): who asked to read which columns, and the answer.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "exhub_access_requests"


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_name", sa.String(length=255), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("row_filter", sa.Text(), nullable=True),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", moment, nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", moment, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("revoked_at", moment, nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_name"],
            ["exhub_datasets.name"],
            name=op.f("fk_exhub_access_requests_dataset_name_exhub_datasets"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["exhub_departments.id"],
            name=op.f("fk_exhub_access_requests_department_id_exhub_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhub_access_requests")),
    )
    op.create_index(
        "ix_exhub_access_requests_dataset_name", TABLE, ["dataset_name"], unique=False
    )
    op.create_index(
        "ix_exhub_access_requests_department_status", TABLE, ["department_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_exhub_access_requests_department_status", table_name=TABLE)
    op.drop_index("ix_exhub_access_requests_dataset_name", table_name=TABLE)
    op.drop_table(TABLE)
