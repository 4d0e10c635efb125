"""One platform-neutral durable inbox: slack_inbox becomes inbox, with a
platform column (every existing row came from Slack).

Revision ID: 0900_inbox
Revises: stance_0800_counts
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0900_inbox"
down_revision = "stance_0800_counts"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)
_COLUMNS = "id, key, kind, payload, status, claimed_by, owner, lease_until, attempts, " \
           "last_error, created_at, done_at"


def _table(name: str, *, platform: bool) -> None:
    cols = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", DT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("done_at", DT, nullable=True),
    ]
    if platform:
        cols.insert(1, sa.Column("platform", sa.String(length=32), nullable=False))
    op.create_table(name, *cols,
                    sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
                    sa.UniqueConstraint("key", name=op.f(f"uq_{name}_key")))


def _reseed(name: str) -> None:
    # Rows were copied with their ids: PostgreSQL's sequence must start past them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                   f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")


def upgrade() -> None:
    _table("inbox", platform=True)
    op.create_index("ix_inbox_due", "inbox", ["platform", "status", "lease_until"])
    op.execute(f"INSERT INTO inbox (platform, {_COLUMNS}) "
               f"SELECT 'slack', {_COLUMNS} FROM slack_inbox")
    _reseed("inbox")
    op.drop_index("ix_slack_inbox_due", table_name="slack_inbox")
    op.drop_table("slack_inbox")


def downgrade() -> None:
    _table("slack_inbox", platform=False)
    op.create_index("ix_slack_inbox_due", "slack_inbox", ["status", "lease_until"])
    op.execute(f"INSERT INTO slack_inbox ({_COLUMNS}) SELECT {_COLUMNS} FROM inbox "
               "WHERE platform = 'slack'")
    _reseed("slack_inbox")
    op.drop_index("ix_inbox_due", table_name="inbox")
    op.drop_table("inbox")
