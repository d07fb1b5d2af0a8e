"""The hash-chained audit log (who queried what, why, and how many rows came back).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exhub_audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_exhub_audit_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_exhub_audit_log_prev_hash")),
    )
    op.create_index("ix_exhub_audit_log_actor_at", "exhub_audit_log", ["actor", "at"])


def downgrade() -> None:
    op.drop_index("ix_exhub_audit_log_actor_at", table_name="exhub_audit_log")
    op.drop_table("exhub_audit_log")
