"""Forms waiting behind an "open" button, shared by every replica

Revision ID: 0900_form_stash
Revises: jobs_0900_leases
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0900_form_stash"
down_revision = "jobs_0900_leases"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "form_stash",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("page_values", sa.JSON(), nullable=False),
        sa.Column("expires_at", DT, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_stash")),
    )
    op.create_index(op.f("ix_form_stash_expires_at"), "form_stash", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_form_stash_expires_at"), table_name="form_stash")
    op.drop_table("form_stash")
