"""Slack durable inbox

Revision ID: 0005_slack_inbox
Revises: 0004_merge
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0005_slack_inbox"
down_revision = "0004_merge"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", DT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("done_at", DT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_inbox")),
        sa.UniqueConstraint("key", name=op.f("uq_slack_inbox_key")),
    )
    op.create_index("ix_slack_inbox_due", "slack_inbox", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_slack_inbox_due", table_name="slack_inbox")
    op.drop_table("slack_inbox")
