"""Job runs with an owner's lease: an unfinished run whose lease lapsed is taken over

Revision ID: jobs_0900_leases
Revises: ux_0910_sprint_days
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "jobs_0900_leases"
down_revision = "ux_0910_sprint_days"
branch_labels = None
depends_on = None

DT = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        # NULL: a claim made before leases existed; it counts as lapsed.
        batch.add_column(sa.Column("lease_until", DT, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default=sa.text("1")))


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
